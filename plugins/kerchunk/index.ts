import type { Dataset } from '../../catalog/dataset.js';
import { storeRoutes } from '../../server/http/store-routes.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

/** `/datasets/{id}/kerchunk/{key}`: the raw view, metadata from the references and chunks untouched. */
export const kerchunkPlugin: StratoPlugin = {
  name: 'kerchunk',
  version: '1.0.0',
  datasetRoutes(context: PluginContext) {
    const store = (dataset: Dataset) => context.views.raw(dataset);
    return { prefix: 'kerchunk', app: storeRoutes(store, 'raw view'), store };
  },
};
