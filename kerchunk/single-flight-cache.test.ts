import { describe, expect, it } from 'vitest';
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
});
