import { nativeCodecs } from './codecs/native.js';

/**
 * Bytes of ArrayBuffers a long-lived cache holds, taken out of V8's count of external memory
 * while the cache holds them, and given back when it lets them go.
 *
 * V8 counts every ArrayBuffer's bytes as external memory, and treats what that count grew by
 * since the last full GC as growth of the old generation: once it nears the heap's limit, V8
 * marks the whole heap. A cache filling up with chunk buffers grows that count without end (a
 * cold pass over a year of 2.8 MB encoded chunks: a full mark of the ~27 MB heap every ~10
 * chunks, 25–30 per pass, a tenth of the pass's CPU on V8's marking threads), and no such GC can
 * free what the cache still holds. The cache bounds those bytes itself (its maxBytes); once it
 * lets a buffer go, its bytes count again, so the GC that frees it comes as it would have.
 *
 * Every `hold(n)` must be paired with one `release(n)` of the same `n`, on the same thread, and
 * only for bytes V8 counted already (an ArrayBuffer that exists) and cannot free before the
 * release (the cache references it). Without the native addon both do nothing.
 */
const adjust = nativeCodecs?.adjustExternalMemory?.bind(nativeCodecs);

/** Takes `bytes` held by a cache out of V8's external-memory count (see the module comment). */
export function holdOutsideHeap(bytes: number): void {
  if (adjust && bytes > 0) adjust(-bytes);
}

/** Gives back what `holdOutsideHeap(bytes)` took, once the cache no longer holds those bytes. */
export function releaseToHeap(bytes: number): void {
  if (adjust && bytes > 0) adjust(bytes);
}

/** Whether `holdOutsideHeap` does anything here (the native addon is loaded and has it). */
export const heapAccountingAdjustable = adjust !== undefined;
