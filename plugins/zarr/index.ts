import type { Dataset } from '../../catalog/dataset.js';
import { cacheBytesFromEnv, DEFAULT_CHUNK_CACHE_BYTES } from '../../server/cache-size.js';
import { HttpProblem } from '../../server/http/problem.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';
import { ProcessingConfigError } from '../../server/stage.js';
import { RawView } from '../../views/raw-view.js';
import { storeRoutes } from '../../server/http/store-routes.js';
import { EncodedChunkCache, ProcessedView } from '../../views/processed-view.js';

/**
 * `/datasets/{id}/zarr/{key}`: the processed view — the dataset after the stages its
 * `processing` block names (rechunk, bit-round, re-compress); plain values, no shuffle filter,
 * so GDAL and every Zarr v2 client decode it.
 */
export const zarrPlugin: StratoPlugin = {
  name: 'zarr',
  version: '1.0.0',
  datasetRoutes(context: PluginContext) {
    const cache = new EncodedChunkCache(cacheBytesFromEnv('STRATO_ENCODED_CACHE_MB', DEFAULT_CHUNK_CACHE_BYTES), context.metrics.cache('encoded'));
    const views = new WeakMap<Dataset, ProcessedView>();
    let generation = 0;
    const viewOf = (dataset: Dataset): ProcessedView => {
      let view = views.get(dataset);
      if (!view) {
        try {
          const raw = new RawView(dataset, context.registry.sources);
          view = new ProcessedView(dataset, context.values(dataset), context.stages(), raw, cache, `${++generation}\0`, context.codecs);
        } catch (error) {
          if (!(error instanceof ProcessingConfigError)) throw error;
          context.logger.warn('processing misconfigured', { dataset: dataset.id, reason: error.message });
          throw new HttpProblem(500, 'Internal Server Error', `the processing of dataset "${dataset.id}" is misconfigured: ${error.message}`);
        }
        views.set(dataset, view);
      }
      return view;
    };
    return { prefix: 'zarr', app: storeRoutes(viewOf, 'processed view') };
  },
};
