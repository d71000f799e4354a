import { Hono } from 'hono';
import { type DatasetSchema, schemaOf, type VariableSchema } from '../../catalog/dataset-schema.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { headersOf, makePrivate } from '../../server/access-control.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';
import { datasetPage } from './dataset-html.js';
import { pageFacts } from './page-facts.js';

/**
 * xpublish's dataset_info routes: `/datasets` (ids), and per dataset `/` (HTML view), `/keys`
 * (variable names), `/dict` (xarray's `to_dict(data=False)` shape), `/info` (NCO-JSON-like schema).
 */
export const datasetInfoPlugin: StratoPlugin = {
  name: 'dataset_info',
  version: '1.0.0',
  appRoutes(context: PluginContext) {
    const app = new Hono();
    app.get('/datasets', async (c) => {
      // protected datasets only for callers allowed to read them
      const visible = await context.access.visible(headersOf(c), context.registry.all());
      const response = c.json(visible.items.map((dataset) => dataset.id));
      if (visible.filter !== '') makePrivate(response.headers);
      return response;
    });
    return app;
  },
  datasetRoutes(context: PluginContext) {
    const app = new Hono<DatasetEnv>();
    app.get('/', async (c) => {
      const dataset = c.var.dataset;
      const schema = schemaOf(dataset);
      const facts = await pageFacts(schema, {
        raw: (key) => context.views.raw(dataset).metadata(key),
        processed: () => {
          const view = context.views.processed(dataset);
          return (key) => view.metadata(key);
        },
        values: context.values(dataset),
      });
      return datasetPage(dataset, schema, c.req.raw, context.version, facts);
    });
    app.get('/keys', (c) => c.json(schemaOf(c.var.dataset).variables.map((v) => v.name)));
    app.get('/dict', (c) => c.json(datasetDict(schemaOf(c.var.dataset))));
    app.get('/info', (c) => c.json(datasetInfo(schemaOf(c.var.dataset))));
    return { prefix: '', app };
  },
};

/** The shape of xarray's `Dataset.to_dict(data=False)`. */
export function datasetDict(schema: DatasetSchema): Record<string, JsonValue> {
  const entry = (v: VariableSchema): JsonValue => ({ dims: [...v.dims], attrs: { ...v.attrs }, dtype: v.dtypeName, shape: [...v.shape] });
  const section = (coordinates: boolean) => Object.fromEntries(schema.variables.filter((v) => v.isCoordinate === coordinates).map((v) => [v.name, entry(v)]));
  return { coords: section(true), attrs: { ...schema.attrs }, dims: { ...schema.dims }, data_vars: section(false) };
}

/** xpublish's `/info`: dimensions, variables with type/dimensions/attributes, global attributes. */
export function datasetInfo(schema: DatasetSchema): Record<string, JsonValue> {
  return {
    dimensions: { ...schema.dims },
    variables: Object.fromEntries(schema.variables.map((v) => [v.name, { type: v.dtypeName, dimensions: [...v.dims], attributes: { ...v.attrs } }])),
    global_attributes: { ...schema.attrs },
  };
}
