import { Hono } from 'hono';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

/** `/versions` (software versions), `/plugins` (what is loaded), `/health` (catalog state). */
export const versionsPlugin: StratoPlugin = {
  name: 'versions',
  version: '1.0.0',
  appRoutes(context: PluginContext) {
    const app = new Hono();
    app.get('/versions', (c) =>
      c.json({ strato: context.version, node: process.versions.node, v8: process.versions.v8, platform: `${process.platform}-${process.arch}` }),
    );
    app.get('/plugins', (c) =>
      c.json(Object.fromEntries(context.plugins().map((plugin) => [plugin.name, { version: plugin.version }]))),
    );
    app.get('/health', (c) => {
      const problems = context.registry.problems();
      return c.json({
        status: problems.length === 0 ? 'ok' : 'degraded',
        datasets: context.registry.ids().length,
        problems: problems.map(({ id, message }) => ({ id, message })),
      });
    });
    return app;
  },
};
