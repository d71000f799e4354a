import type { Codec, CodecConfig } from './codec.js';
import { CodecError } from './codec.js';
import { CodecOptions } from './options.js';

/**
 * numcodecs Shuffle: byte `j` of element `i` goes to `j * count + i`, so equal-significance bytes
 * of all elements lie together. `elementsize` ≤ 1 is a copy. The length must be a whole number
 * of elements.
 */
export function shuffleCodec(config: CodecConfig): Codec {
  const options = new CodecOptions(config);
  const elementsize = options.integer('elementsize', 4, 0, 2 ** 16);
  options.done();
  const check = (data: Uint8Array): void => {
    if (elementsize > 1 && data.byteLength % elementsize !== 0) {
      throw new CodecError('shuffle', `${data.byteLength} bytes are not a whole number of ${elementsize}-byte elements`);
    }
  };
  return {
    config,
    encode: async (data) => (check(data), shuffleBytes(data, elementsize)),
    decode: async (data) => (check(data), unshuffleBytes(data, elementsize)),
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Byte shuffle (a new array; `data.length` a multiple of `size`). */
export function shuffleBytes(data: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(data.length);
  if (size <= 1) {
    out.set(data);
    return out;
  }
  const count = data.length / size;
  if (LITTLE_ENDIAN && size === 4 && data.byteOffset % 4 === 0) {
    // one 32-bit read per element instead of four byte reads
    const words = new Uint32Array(data.buffer, data.byteOffset, count);
    for (let i = 0; i < count; i++) {
      const word = words[i] as number;
      out[i] = word;
      out[count + i] = word >>> 8;
      out[2 * count + i] = word >>> 16;
      out[3 * count + i] = word >>> 24;
    }
    return out;
  }
  for (let j = 0; j < size; j++) {
    const base = j * count;
    for (let i = 0, k = j; i < count; i++, k += size) out[base + i] = data[k] as number;
  }
  return out;
}

/** Inverse of shuffleBytes. */
export function unshuffleBytes(data: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(data.length);
  if (size <= 1) {
    out.set(data);
    return out;
  }
  const count = data.length / size;
  if (LITTLE_ENDIAN && size === 4) {
    // one 32-bit write per element, the four byte planes read in step
    const words = new Uint32Array(out.buffer, 0, count);
    for (let i = 0; i < count; i++) {
      words[i] = ((data[i] as number) | ((data[count + i] as number) << 8) | ((data[2 * count + i] as number) << 16) | ((data[3 * count + i] as number) << 24)) >>> 0;
    }
    return out;
  }
  for (let j = 0; j < size; j++) {
    const base = j * count;
    for (let i = 0, k = j; i < count; i++, k += size) out[k] = data[base + i] as number;
  }
  return out;
}
