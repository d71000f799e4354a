import { inflateSync } from 'node:zlib';
import type { Filter } from './messages.js';

/**
 * Undoes an HDF5 filter pipeline on one chunk (deflate, shuffle, fletcher32 only). Used for the
 * few datasets whose values the scanner must read itself (variable-length strings). Inflating
 * stops with an error past `maxBytes` (a chunk that decompresses to more than its array can hold).
 */
export function decodeChunk(bytes: Uint8Array, filters: readonly Filter[], filterMask: number, maxBytes = 64 * 1024 * 1024): Uint8Array {
  let data = bytes;
  for (let i = filters.length - 1; i >= 0; i--) {
    if (filterMask & (1 << i)) continue;
    const f = filters[i]!;
    if (f.id === 1) data = new Uint8Array(inflateSync(data, { maxOutputLength: Math.max(maxBytes, 1) }));
    else if (f.id === 2) data = unshuffle(data, f.values[0] ?? 1);
    else if (f.id === 3) data = data.subarray(0, data.length - 4);
    else throw new Error(`filter ${f.id} cannot be decoded`);
  }
  return data;
}

/** HDF5 byte unshuffle: trailing bytes that do not fill an element are copied as they are. */
export function unshuffle(data: Uint8Array, elementSize: number): Uint8Array {
  if (elementSize <= 1) return data;
  const count = Math.floor(data.length / elementSize);
  const out = new Uint8Array(data.length);
  for (let b = 0; b < elementSize; b++) {
    const from = b * count;
    for (let i = 0; i < count; i++) out[i * elementSize + b] = data[from + i]!;
  }
  out.set(data.subarray(count * elementSize), count * elementSize);
  return out;
}
