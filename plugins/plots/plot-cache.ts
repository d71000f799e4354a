import { LRUCache } from 'lru-cache';

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
  private readonly images: LRUCache<string, CachedImage>;
  private readonly pending = new Map<string, Promise<CachedImage>>();

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.images = new LRUCache<string, CachedImage>({ maxSize: maxBytes, sizeCalculation: (image) => Math.max(1, image.body.length) });
  }

  async get(key: string, render: () => Promise<CachedImage>): Promise<CachedImage> {
    const cached = this.images.get(key);
    if (cached) return cached;
    let running = this.pending.get(key);
    if (!running) {
      running = render().finally(() => this.pending.delete(key));
      this.pending.set(key, running);
      const image = await running;
      this.images.set(key, image);
      return image;
    }
    return running;
  }

  get size(): number {
    return this.images.size;
  }
}
