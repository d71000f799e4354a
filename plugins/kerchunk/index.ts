import { Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { notFound } from '../../server/http/problem.js';
import { respond } from '../../server/http/served-body.js';
import { storeKey } from '../../server/http/store-key.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';
import { RawView } from './raw-view.js';

/** `/datasets/{id}/kerchunk/{key}`: the raw view, metadata from the references and chunks untouched. */
export const kerchunkPlugin: StratoPlugin = {
  name: 'kerchunk',
  version: '1.0.0',
  datasetRoutes(context: PluginContext) {
    const views = new WeakMap<Dataset, RawView>();
    const viewOf = (dataset: Dataset): RawView => {
      let view = views.get(dataset);
      if (!view) {
        view = new RawView(dataset, context.registry.sources);
        views.set(dataset, view);
      }
      return view;
    };
    const app = new Hono<DatasetEnv>();
    app.get('/', () => {
      throw notFound('the store root has no content; read .zmetadata or a key below it');
    });
    app.get('/*', async (c) => {
      const key = storeKey(c);
      const view = viewOf(c.var.dataset);
      const body = view.metadata(key) ?? (await view.chunk(key));
      if (!body) throw notFound(`no key "${key}" in dataset "${c.var.dataset.id}"`);
      return respond(c, body);
    });
    return { prefix: 'kerchunk', app };
  },
};
