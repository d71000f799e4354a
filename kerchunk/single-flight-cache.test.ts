import { describe, expect, it } from 'vitest';
import { nativeCodecs } from './codecs/native.js';
import { heapAccountingAdjustable } from './external-memory.js';
import { SingleFlightCache } from './single-flight-cache.js';

const bytes = (n: number) => new Uint8Array(n);

describe('SingleFlightCache', () => {
  it('computes a miss once for concurrent callers, then answers from the cache', async () => {
    const counts = { hit: 0, miss: 0, held: 0 };
    const cache = new SingleFlightCache<Uint8Array>({
      maxBytes: 100,
      sizeOf: (v) => v.byteLength,
      observer: { hit: () => counts.hit++, miss: () => counts.miss++, held: (n) => (counts.held = n) },
    });
    let made = 0;
    const make = async () => {
      made++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return bytes(10);
    };
    const [a, b] = await Promise.all([cache.get('k', make), cache.get('k', make)]);
    expect(a).toBe(b);
    expect(made).toBe(1);
    expect(await cache.get('k', make)).toBe(a);
    expect(counts).toEqual({ hit: 1, miss: 2, held: 10 });
  });

  it('stays within its bytes, least recently used out first', async () => {
    const cache = new SingleFlightCache<Uint8Array>({ maxBytes: 25, sizeOf: (v) => v.byteLength });
    await cache.get('a', async () => bytes(10));
    await cache.get('b', async () => bytes(10));
    cache.peek('a');
    await cache.get('c', async () => bytes(10));
    expect(cache.peek('a')).toBeDefined();
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.bytes).toBe(20);
  });

  it('does not cache failures or values asked for with keep: false', async () => {
    const cache = new SingleFlightCache<Uint8Array>({ maxBytes: 100, sizeOf: (v) => v.byteLength });
    await expect(cache.get('x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(cache.size).toBe(0);
    await cache.get('y', async () => bytes(5), { keep: false });
    expect(cache.peek('y')).toBeUndefined();
    expect((await cache.get('x', async () => bytes(3))).byteLength).toBe(3);
  });

  it('takes the bytes it holds out of V8’s external-memory count, and gives them back when they leave', async () => {
    // the count itself, read through the addon (a change of 0)
    const count = () => nativeCodecs?.adjustExternalMemory?.(0) as number;
    expect(heapAccountingAdjustable).toBe(true); // the suite runs with the native addon built
    const MB = 1 << 20;
    const cache = new SingleFlightCache<Uint8Array>({ maxBytes: 20 * MB, sizeOf: (v) => v.byteLength, bufferBytes: (v) => v.byteLength });
    // every buffer stays referenced here: no GC can free one and move the count meanwhile
    const kept = [bytes(8 * MB), bytes(8 * MB), bytes(8 * MB), bytes(30 * MB)];
    const [a, b, c, big] = kept as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const start = count();
    // (other buffers of this process may be freed meanwhile: a tolerance far below the 8 MiB steps)
    const held = () => Math.round((start - count()) / MB);
    await cache.get('a', async () => a);
    expect(held()).toBe(8); // held: out of the count
    await cache.get('b', async () => b);
    expect(held()).toBe(16);
    await cache.get('c', async () => c); // pushes 'a' out: its bytes count again
    expect(cache.peek('a')).toBeUndefined();
    expect(held()).toBe(16);
    await cache.get('big', async () => big); // larger than the cache: never held, counted as any buffer
    expect(cache.peek('big')).toBeUndefined();
    expect(held()).toBe(16);
    cache.clear(); // 'b' and 'c' leave: counted again
    expect(held()).toBe(0);
    expect(kept).toHaveLength(4);
  });
});
