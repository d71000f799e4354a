import { Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { schemaOf } from '../../catalog/dataset-schema.js';
import { headersOf, makePrivate } from '../../server/access-control.js';
import { htmlResponse, requestOrigin } from '../../server/html/html.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';
import { landingDocument, landingFormat } from './landing-document.js';
import { type DatasetSummary, landingPage } from './landing-html.js';

/** The landing page `/`: what this server is, its datasets (searchable), links to STAC, intake and the API docs. */
export const webPlugin: StratoPlugin = {
  name: 'web',
  version: '1.0.0',
  appRoutes(context: PluginContext) {
    const summaries = new WeakMap<Dataset, DatasetSummary>();
    const summaryOf = (dataset: Dataset): DatasetSummary => {
      let summary = summaries.get(dataset);
      if (!summary) {
        const schema = schemaOf(dataset);
        const title = dataset.entry.title ?? (typeof schema.attrs.title === 'string' ? schema.attrs.title : dataset.id);
        summary = {
          id: dataset.id,
          title,
          ...(dataset.entry.description ? { description: dataset.entry.description } : {}),
          variables: schema.variables.filter((v) => !v.isCoordinate).map((v) => v.name),
        };
        summaries.set(dataset, summary);
      }
      return summary;
    };
    const app = new Hono();
    app.get('/', async (c) => {
      const format = landingFormat(c.req.query('f'), c.req.header('accept'));
      if (format === undefined) return c.json({ code: 'InvalidParameterValue', description: '"f" must be json or html' }, 400);
      if (format === 'json') {
        const base = requestOrigin(c.req.raw);
        return c.json(landingDocument(base, context.plugins()), 200, { vary: 'Accept' });
      }
      const query = (c.req.query('q') ?? '').slice(0, 200);
      // protected datasets only for callers allowed to read them
      const visible = await context.access.visible(headersOf(c), context.registry.all());
      const response = htmlResponse(landingPage(visible.items.map(summaryOf), query, requestOrigin(c.req.raw), context.version));
      if (visible.filter !== '') makePrivate(response.headers);
      response.headers.append('vary', 'Accept');
      return response;
    });
    return app;
  },
};
