import { describe, expect, it } from 'vitest';
import { BufferPool, sizeClass } from './buffer-pool.js';

describe('BufferPool', () => {
  it('lends views of exactly the asked length, and reuses a released buffer of the same class', () => {
    const pool = new BufferPool();
    const first = pool.acquire(2_290_000) as Uint8Array;
    expect(first.byteLength).toBe(2_290_000);
    expect(first.buffer.byteLength).toBe(sizeClass(2_290_000));
    pool.release(first);
    const second = pool.acquire(2_200_000) as Uint8Array;
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteLength).toBe(2_200_000);
  });

  it('never lends one buffer twice at once, even when released twice or given foreign buffers', () => {
    const pool = new BufferPool();
    const lent = pool.acquire(100_000) as Uint8Array;
    pool.release(lent);
    pool.release(lent);
    pool.release(new Uint8Array(sizeClass(100_000)));
    const a = pool.acquire(100_000) as Uint8Array;
    const b = pool.acquire(100_000) as Uint8Array;
    expect(a.buffer).not.toBe(b.buffer);
    expect(pool.idleByteCount).toBe(0);
  });

  it('keeps at most maxIdleBytes idle, and does not pool huge, empty or bogus lengths', () => {
    const pool = new BufferPool(1024 * 1024, 4 * 1024 * 1024);
    const views = [pool.acquire(600_000), pool.acquire(600_000), pool.acquire(600_000)] as Uint8Array[];
    for (const view of views) pool.release(view);
    expect(pool.idleByteCount).toBeLessThanOrEqual(1024 * 1024);
    expect(pool.acquire(5 * 1024 * 1024)).toBeUndefined();
    expect(pool.acquire(0)).toBeUndefined();
    expect(pool.acquire(-1)).toBeUndefined();
    expect(pool.acquire(Number.NaN)).toBeUndefined();
    expect(pool.acquire(2 ** 60)).toBeUndefined();
  });

  it('size classes hold their length, waste at most 1/8, start at 64 KiB', () => {
    for (const length of [1, 65_536, 65_537, 100_000, 1_048_576, 2_290_000, 8_000_000]) {
      const size = sizeClass(length);
      expect(size).toBeGreaterThanOrEqual(length);
      if (length > 65_536) expect(size / length).toBeLessThanOrEqual(1.125 + 1e-9);
    }
    expect(sizeClass(1)).toBe(65_536);
  });
});
