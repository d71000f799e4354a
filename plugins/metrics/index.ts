import { Hono } from 'hono';
import type { MetricsAccess } from '../../server/config.js';
import { bearerCredential } from '../../server/http/bearer-auth.js';
import { HttpProblem } from '../../server/http/problem.js';
import { clientAddress } from '../../server/http/rate-limit.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

export type { MetricsAccess } from '../../server/config.js';

/*
 * Who may read `/metrics` (STRATO_METRICS, `context.config.metrics`):
 * - `loopback` (default): clients on this host (TCP peer 127.0.0.0/8 or ::1), e.g. a local
 *   Prometheus or node exporter; everyone else gets 404, as if there were no such route;
 * - `on`: everyone (a replica port only Prometheus can reach);
 * - `token`: `Authorization: Bearer $STRATO_METRICS_TOKEN` (401 otherwise);
 * - `off`: nobody (no route).
 */

export interface MetricsPluginOptions {
  /** Default: `context.config.metrics.access` (STRATO_METRICS). */
  readonly access?: MetricsAccess;
  /** For `token` (default, when `access` is not given either: `context.config.metrics.token`, STRATO_METRICS_TOKEN). */
  readonly token?: string;
}

/** Whether a TCP peer address is this host (IPv4 loopback, also IPv4-mapped, or ::1). */
export function isLoopback(address: string): boolean {
  return /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(address) || address === '::1';
}

/**
 * `GET /metrics`: this process's Prometheus metrics in the text exposition format
 * (`text/plain; version=0.0.4`), to the clients STRATO_METRICS allows. With `--workers N` each
 * worker answers for itself; scrape the replicas directly (see README, Operating strato).
 */
export function createMetricsPlugin(options: MetricsPluginOptions = {}): StratoPlugin {
  return {
    name: 'metrics',
    version: '1.1.0',
    appRoutes(context: PluginContext) {
      const app = new Hono();
      const configured = options.access === undefined ? context.config.metrics : undefined;
      const access = options.access ?? configured?.access ?? 'loopback';
      const token = options.token ?? configured?.token;
      if (access === 'off') return app;
      if (access === 'token' && !token) throw new RangeError('STRATO_METRICS=token needs STRATO_METRICS_TOKEN');
      app.get('/metrics', async (c) => {
        if (access === 'loopback' && !isLoopback(clientAddress(c))) throw new HttpProblem(404, 'Not Found', `no route for ${c.req.path}`);
        if (access === 'token' && bearerCredential(c.req.header('authorization'), token as string) !== 'valid') {
          throw new HttpProblem(401, 'Unauthorized', 'a valid Bearer token is required', { 'www-authenticate': 'Bearer realm="strato-metrics"' });
        }
        const { text, contentType } = await context.metrics.render();
        return c.body(text, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
      });
      return app;
    },
  };
}

/** The metrics plugin of the default set (access from `context.config.metrics`: STRATO_METRICS). */
export const metricsPlugin: StratoPlugin = createMetricsPlugin();
