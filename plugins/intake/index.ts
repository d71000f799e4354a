import { type Context, Hono } from 'hono';
import { headersOf, makePrivate } from '../../server/access-control.js';
import { publicBaseUrl } from '../../server/http/public-url.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';
import { datasetIntakeCatalog, intakeCatalog } from './intake-catalog.js';

const YAML = 'application/yaml; charset=utf-8';

/** intake v1 catalogs: `/intake.yaml` (every dataset) and `/datasets/{id}/catalog.yaml` (one dataset's two views). */
export const intakePlugin: StratoPlugin = {
  name: 'intake',
  version: '1.0.0',
  appRoutes(context: PluginContext) {
    const app = new Hono();
    app.get('/intake.yaml', async (c) => {
      const fields = context.registry.current.fields;
      const title = typeof fields.title === 'string' ? fields.title : 'strato';
      // protected datasets only for callers allowed to read them
      const visible = await context.access.visible(headersOf(c), context.registry.all());
      const response = yaml(c, intakeCatalog(visible.items, publicBaseUrl(c.req.raw), title));
      if (visible.filter !== '') makePrivate(response.headers);
      return response;
    });
    return app;
  },
  datasetRoutes() {
    const app = new Hono<DatasetEnv>();
    app.get('/', (c) => yaml(c, datasetIntakeCatalog(c.var.dataset, publicBaseUrl(c.req.raw))));
    return { prefix: 'catalog.yaml', app };
  },
};

function yaml(c: Context, text: string): Response {
  return c.body(text, 200, { 'content-type': YAML });
}
