import { describe, expect, it } from 'vitest';
import { recycleBytes, uninitialisedBytes } from './spare-bytes.js';

// A spare must never reach two users at once: a buffer handed out is no longer a spare, and one
// given back twice is kept once.
const SIZE = 256 * 1024;

/** Empties this thread's spares of `size` bytes (takes them until a fresh array comes). */
function drain(size: number): void {
  const seen = new Set<ArrayBufferLike>();
  for (;;) {
    const bytes = uninitialisedBytes(size);
    if (seen.has(bytes.buffer)) throw new Error('a spare was handed out twice');
    seen.add(bytes.buffer);
    if (seen.size > 16) return;
  }
}

describe('spare chunk-sized arrays', () => {
  it('are whole, transferable buffers of the length asked', () => {
    for (const length of [0, 1, 100, SIZE]) {
      const bytes = uninitialisedBytes(length);
      expect(bytes.byteLength).toBe(length);
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength).toBe(length);
    }
  });

  it('a recycled array makes the next one of its size, once', () => {
    drain(SIZE);
    const first = uninitialisedBytes(SIZE);
    recycleBytes(first);
    recycleBytes(first); // twice: still one spare
    const again = uninitialisedBytes(SIZE);
    expect(again.buffer).toBe(first.buffer);
    expect(uninitialisedBytes(SIZE).buffer).not.toBe(first.buffer);
    expect(uninitialisedBytes(SIZE + 4).buffer).not.toBe(first.buffer);
  });

  it('keeps only whole, large, attached buffers, and a few of them', () => {
    drain(SIZE);
    const whole = new Uint8Array(SIZE + 8);
    recycleBytes(whole.subarray(8)); // a view into part of a buffer
    recycleBytes(new Uint8Array(1024)); // small
    const detached = new Uint8Array(SIZE);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    recycleBytes(detached);
    expect(uninitialisedBytes(SIZE).buffer).not.toBe(whole.buffer);
    const given = Array.from({ length: 6 }, () => new Uint8Array(SIZE));
    for (const bytes of given) recycleBytes(bytes);
    const taken = Array.from({ length: 6 }, () => uninitialisedBytes(SIZE).buffer);
    const reused = taken.filter((buffer) => given.some((bytes) => bytes.buffer === buffer));
    expect(reused.length).toBe(4); // the oldest two were let go
    expect(new Set(taken).size).toBe(6);
  });
});
