import type { Dataset } from '../../catalog/dataset.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';
import { RawView } from '../../views/raw-view.js';
import { storeRoutes } from '../../server/http/store-routes.js';

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
    return { prefix: 'kerchunk', app: storeRoutes(viewOf, 'raw view') };
  },
};
