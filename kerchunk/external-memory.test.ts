import { describe, expect, it } from 'vitest';
import { DecodedChunkCache } from './array-reader.js';
import { nativeCodecs } from './codecs/native.js';
import { heapAccountingAdjustable, holdOutsideHeap, releaseToHeap } from './external-memory.js';

const MB = 1 << 20;
/** V8's external-memory count of this thread, read through the addon (a change of 0). */
const count = () => nativeCodecs?.adjustExternalMemory?.(0) as number;

describe('external memory held by caches', () => {
  it('is adjustable here (the suite runs with the native addon built); hold and release move the count both ways', () => {
    expect(heapAccountingAdjustable).toBe(true);
    const start = count();
    holdOutsideHeap(3 * MB);
    expect(start - count()).toBe(3 * MB);
    releaseToHeap(3 * MB);
    expect(count()).toBe(start);
    // nothing for empty or negative sizes
    holdOutsideHeap(0);
    holdOutsideHeap(-5);
    releaseToHeap(-5);
    expect(count()).toBe(start);
  });

  it('DecodedChunkCache: a chunk held is out of the count, one replaced, evicted or set again is counted once more', () => {
    const cache = new DecodedChunkCache(20 * MB);
    // every chunk stays referenced here: no GC frees one and moves the count meanwhile
    const kept = [new Float32Array(2 * MB), new Float32Array(2 * MB), new Float32Array(2 * MB), new Float32Array(8 * MB)];
    const [a, b, c, big] = kept as [Float32Array, Float32Array, Float32Array, Float32Array];
    const start = count();
    // (other buffers of this process may be freed meanwhile: a tolerance far below the 8 MiB steps)
    const held = () => Math.round((start - count()) / MB);
    cache.set('a', a);
    cache.set('a', a); // the same chunk again: nothing changes
    expect(held()).toBe(8);
    cache.set('b', b);
    expect(held()).toBe(16);
    cache.set('a', c); // replaced: 'a' counts again, 'c' is held
    expect(held()).toBe(16);
    cache.set('x', big); // 32 MB: larger than the cache, never held
    expect(cache.has('x')).toBe(false);
    expect(held()).toBe(16);
    cache.set('y', a); // 8 MB more: pushes out the least recently used ('b')
    expect(cache.has('b')).toBe(false);
    expect(held()).toBe(16);
    expect(kept).toHaveLength(4);
  });
});
