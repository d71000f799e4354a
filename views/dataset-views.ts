import type { Dataset } from '../catalog/dataset.js';
import type { DatasetValues } from '../kerchunk/array-values.js';
import type { CacheObserver } from '../kerchunk/cache-observer.js';
import type { ChunkCodecs } from '../kerchunk/codecs/codec-pool.js';
import type { Sources } from '../kerchunk/sources/sources.js';
import { HttpProblem } from '../server/http/problem.js';
import { ProcessingConfigError, type ProcessingStage } from '../server/stage.js';
import type { ChunkPeers } from './chunk-peers.js';
import type { DiskChunkCache } from './disk-chunk-cache.js';
import { MetadataDocumentCache } from './metadata-documents.js';
import { EncodedChunkCache, ProcessedView } from './processed-view.js';
import { RawView } from './raw-view.js';

/** Where a misconfigured `processing` block is reported. */
export interface ViewsLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface DatasetViewsOptions {
  /** The sources datasets are read from now (they change when the catalog's `sources` do). */
  readonly sources: () => Sources;
  /** Decoded values of a dataset's arrays (the app's one decoded-chunk cache). */
  readonly values: (dataset: Dataset) => DatasetValues;
  /** The processed view's stages, in order. */
  readonly stages: () => readonly ProcessingStage[];
  /** Where processed chunks are encoded. */
  readonly codecs: ChunkCodecs;
  /** Bytes of encoded processed-view chunks kept, for all datasets together. */
  readonly encodedCacheBytes: number;
  /** Hits, misses and bytes of the encoded-chunk cache. */
  readonly encodedCacheObserver?: CacheObserver;
  /** The encoded-chunk tier on disk shared by all server processes (none: memory only). */
  readonly diskCache?: Promise<DiskChunkCache | undefined> | DiskChunkCache | undefined;
  /** Hits and misses of the disk tier. */
  readonly diskCacheObserver?: CacheObserver;
  /** The other server processes sharing `diskCache` (chunk-peers.ts). */
  readonly chunkPeers?: ChunkPeers | undefined;
  readonly logger: ViewsLogger;
  /** Bytes of rendered raw-view metadata documents kept, for all datasets together (default 32 MiB). */
  readonly metadataCacheBytes?: number;
  /** strato's version (part of the processed chunks' ETags). */
  readonly version?: string;
}

/**
 * The Zarr views of every dataset, made once per opened dataset (a reloaded dataset is a new
 * object, so it gets new views) and offered to plugins as `context.views`:
 * - `raw(dataset)`: metadata from the references, chunk bytes exactly as stored;
 * - `processed(dataset)`: the dataset after its `processing` stages, chunks encoded on demand
 *   into one byte-bounded cache shared by all datasets.
 */
export class DatasetViews {
  private readonly raws = new WeakMap<Dataset, RawView>();
  private readonly processedViews = new WeakMap<Dataset, ProcessedView>();
  private readonly encoded: EncodedChunkCache;
  /** The raw views' metadata documents, rendered on demand: the heap stays flat with the catalog's size. */
  private readonly documents: MetadataDocumentCache;

  constructor(private readonly options: DatasetViewsOptions) {
    this.documents = new MetadataDocumentCache(options.metadataCacheBytes);
    this.encoded = new EncodedChunkCache(options.encodedCacheBytes, options.encodedCacheObserver, options.diskCache, options.diskCacheObserver, undefined, options.chunkPeers);
  }

  /** The raw view of a dataset. */
  raw(dataset: Dataset): RawView {
    let view = this.raws.get(dataset);
    if (!view) {
      view = new RawView(dataset, this.options.sources(), this.options.logger, this.documents);
      this.raws.set(dataset, view);
    }
    return view;
  }

  /**
   * The processed view of a dataset. A `processing` block the stages refuse is logged
   * ('processing misconfigured') and answered as a 500 problem naming the setting; it is tried
   * again at the next request.
   */
  processed(dataset: Dataset): ProcessedView {
    let view = this.processedViews.get(dataset);
    if (!view) {
      const { values, stages, codecs, logger } = this.options;
      try {
        view = new ProcessedView({
          dataset,
          values: values(dataset),
          stages: stages(),
          raw: this.raw(dataset),
          cache: this.encoded,
          sources: this.options.sources(),
          ...(this.options.version !== undefined ? { version: this.options.version } : {}),
          codecs,
          documentCache: this.documents,
        });
      } catch (error) {
        if (!(error instanceof ProcessingConfigError)) throw error;
        logger.warn('processing misconfigured', { dataset: dataset.id, reason: error.message });
        throw new HttpProblem(500, 'Internal Server Error', `the processing of dataset "${dataset.id}" is misconfigured: ${error.message}`);
      }
      this.processedViews.set(dataset, view);
    }
    return view;
  }
}
