import { LRUCache } from 'lru-cache';
import type { CacheObserver } from './cache-observer.js';
import { holdOutsideHeap, releaseToHeap } from './external-memory.js';

export interface SingleFlightCacheOptions<V> {
  /** Bytes the cache may hold; the least recently used values go first. */
  readonly maxBytes: number;
  /** The bytes one value takes (at least 1 is counted). */
  readonly sizeOf: (value: V) => number;
  /** Told about hits, misses and the bytes held (metrics). */
  readonly observer?: CacheObserver | undefined;
  /** Told about a value pushed out to make room (not one deleted, replaced or cleared). */
  readonly onEvict?: ((key: string, value: V) => void) | undefined;
  /**
   * The bytes of a value that are ArrayBuffer memory of its own (a chunk's bytes): taken out of
   * V8's external-memory count while the value is held (external-memory.ts), so filling the
   * cache does not make V8 mark its heap again and again. The same value must always give the
   * same number.
   */
  readonly bufferBytes?: ((value: V) => number) | undefined;
}

/**
 * A cache bounded in bytes whose misses are computed once however many callers ask at the same
 * time ("single flight"): the idiom behind the encoded chunks of the processed view, rendered
 * plots and parquet reference records. A failed computation is not cached; the next caller
 * tries again.
 */
export class SingleFlightCache<V extends object> {
  private readonly values: LRUCache<string, V>;
  private readonly pending = new Map<string, Promise<V>>();
  private readonly observer: CacheObserver | undefined;
  private readonly bufferBytes: ((value: V) => number) | undefined;

  constructor(options: SingleFlightCacheOptions<V>) {
    const { sizeOf, onEvict, bufferBytes } = options;
    this.bufferBytes = bufferBytes;
    this.values = new LRUCache<string, V>({
      maxSize: options.maxBytes,
      sizeCalculation: (value) => Math.max(1, sizeOf(value)),
      ...(onEvict || bufferBytes
        ? {
            // every value leaving (evicted, deleted, replaced, cleared) gives its bytes back
            disposeAfter: (value: V, key: string, reason: LRUCache.DisposeReason) => {
              if (bufferBytes) releaseToHeap(bufferBytes(value));
              if (reason === 'evict') onEvict?.(key, value);
            },
          }
        : {}),
    });
    this.observer = options.observer;
  }

  /** The cached value, without counting a hit or a miss. */
  peek(key: string): V | undefined {
    return this.values.get(key);
  }

  /**
   * The cached value, or the one `make` computes (shared with every caller asking meanwhile).
   * With `keep: false` a computed value is handed out but not stored (a one-off scan must not
   * push out what requests use).
   */
  get(key: string, make: () => Promise<V>, options: { keep?: boolean } = {}): Promise<V> {
    const cached = this.values.get(key);
    if (cached !== undefined) {
      this.observer?.hit();
      return Promise.resolve(cached);
    }
    this.observer?.miss();
    let running = this.pending.get(key);
    if (running === undefined) {
      running = make().finally(() => this.pending.delete(key));
      this.pending.set(key, running);
    }
    if (options.keep === false) return running;
    return running.then((value) => {
      if (!this.values.has(key)) {
        this.values.set(key, value);
        // (a value larger than the whole cache is not stored, and never disposed of)
        if (this.bufferBytes && this.values.has(key)) holdOutsideHeap(this.bufferBytes(value));
        this.observer?.held(this.values.calculatedSize);
      }
      return value;
    });
  }

  /** Forgets every value (computations in flight still answer their callers). */
  clear(): void {
    this.values.clear();
  }

  /** Bytes held. */
  get bytes(): number {
    return this.values.calculatedSize;
  }

  /** Values held. */
  get size(): number {
    return this.values.size;
  }
}
