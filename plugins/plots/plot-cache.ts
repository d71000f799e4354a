import { SingleFlightCache } from '../../kerchunk/single-flight-cache.js';

/** A rendered image and its strong ETag. */
export interface CachedImage {
  readonly body: Uint8Array;
  readonly etag: string;
}

/**
 * Rendered plots by request key, bounded in bytes (least recently used go first); concurrent
 * requests for one key share a single rendering.
 */
export class PlotCache {
  private readonly images: SingleFlightCache<CachedImage>;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.images = new SingleFlightCache({ maxBytes, sizeOf: (image) => image.body.length });
  }

  get(key: string, render: () => Promise<CachedImage>): Promise<CachedImage> {
    return this.images.get(key, render);
  }

  get size(): number {
    return this.images.size;
  }
}
