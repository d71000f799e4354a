import type { Dataset } from '../../catalog/dataset.js';
import { storeRoutes } from '../../server/http/store-routes.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

/**
 * `/datasets/{id}/zarr/{key}`: the processed view — the dataset after the stages its
 * `processing` block names (rechunk, bit-round, re-compress); plain values, no shuffle filter,
 * so GDAL and every Zarr v2 client decode it.
 */
export const zarrPlugin: StratoPlugin = {
  name: 'zarr',
  version: '1.0.0',
  datasetRoutes(context: PluginContext) {
    const store = (dataset: Dataset) => context.views.processed(dataset);
    return { prefix: 'zarr', app: storeRoutes(store, 'processed view'), store };
  },
};
