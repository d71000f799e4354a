/**
 * What a byte-bounded cache reports to whoever watches it (metrics): lookups that hit or missed,
 * and the bytes it holds after a store. Implementations must be cheap; caches call them inline.
 */
export interface CacheObserver {
  hit(): void;
  miss(): void;
  /** Bytes held after an entry was stored (evictions included). */
  held(bytes: number): void;
}
