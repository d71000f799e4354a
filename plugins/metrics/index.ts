import { Hono } from 'hono';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

/**
 * `GET /metrics`: this process's Prometheus metrics in the text exposition format
 * (`text/plain; version=0.0.4`). With `--workers N` each worker answers for itself; scrape the
 * replicas directly (see README, Operating strato).
 */
export const metricsPlugin: StratoPlugin = {
  name: 'metrics',
  version: '1.0.0',
  appRoutes(context: PluginContext) {
    const app = new Hono();
    app.get('/metrics', async (c) => {
      const { text, contentType } = await context.metrics.render();
      return c.body(text, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
    });
    return app;
  },
};
