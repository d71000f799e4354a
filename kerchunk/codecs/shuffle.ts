import type { Codec, CodecConfig, CodecContext } from './codec.js';
import { CodecError, checkDecodedSize } from './codec.js';
import { nativeCodecs } from './native.js';
import { CodecOptions } from './options.js';
import { uninitialisedBytes } from './spare-bytes.js';

/**
 * numcodecs Shuffle: byte `j` of element `i` goes to `j * count + i`, so equal-significance bytes
 * of all elements lie together. `elementsize` ≤ 1 is a copy. The length must be a whole number
 * of elements.
 */
export function shuffleCodec(config: CodecConfig, context: CodecContext = {}): Codec {
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
    decode: async (data) => (check(data), checkDecodedSize('shuffle', data.byteLength, context.maxDecodedBytes), unshuffleBytes(data, elementsize)),
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Byte shuffle (a new array): whole `size`-byte elements; the bytes of a trailing partial element
 * stay where they are. Native (native/shuffle.c) where the addon is built, else shuffleBytesJs.
 */
export function shuffleBytes(data: Uint8Array, size: number): Uint8Array {
  if (!nativeCodecs) return shuffleBytesJs(data, size);
  const out = uninitialisedBytes(data.length);
  nativeCodecs.shuffle(data, out, size);
  return out;
}

/** Inverse of shuffleBytes. */
export function unshuffleBytes(data: Uint8Array, size: number): Uint8Array {
  if (!nativeCodecs) return unshuffleBytesJs(data, size);
  const out = uninitialisedBytes(data.length);
  nativeCodecs.unshuffle(data, out, size);
  return out;
}

/** The JavaScript byte shuffle: the reference of the native one, and its fallback. */
export function shuffleBytesJs(data: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(data.length);
  if (size <= 1) {
    out.set(data);
    return out;
  }
  const count = Math.floor(data.length / size);
  out.set(data.subarray(count * size), count * size);
  if (LITTLE_ENDIAN && size === 4 && data.byteOffset % 4 === 0 && count % 4 === 0) {
    shuffleWords(new Uint32Array(data.buffer, data.byteOffset, count), new Uint32Array(out.buffer, 0, count));
    return out;
  }
  for (let j = 0; j < size; j++) {
    const base = j * count;
    for (let i = 0, k = j; i < count; i++, k += size) out[base + i] = data[k] as number;
  }
  return out;
}

/** The JavaScript inverse of shuffleBytesJs. */
export function unshuffleBytesJs(data: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(data.length);
  if (size <= 1) {
    out.set(data);
    return out;
  }
  const count = Math.floor(data.length / size);
  out.set(data.subarray(count * size), count * size);
  if (LITTLE_ENDIAN && size === 4 && data.byteOffset % 4 === 0 && count % 4 === 0) {
    unshuffleWords(new Uint32Array(data.buffer, data.byteOffset, count), new Uint32Array(out.buffer, 0, count));
    return out;
  }
  for (let j = 0; j < size; j++) {
    const base = j * count;
    for (let i = 0, k = j; i < count; i++, k += size) out[k] = data[base + i] as number;
  }
  return out;
}

/*
 * 4-byte elements, a multiple of 4 of them, little-endian machine: a 4×4 byte transpose per four
 * elements, done in 32-bit words (four word reads, four word writes) instead of sixteen byte moves.
 * Plane j of the shuffled bytes is words [j·q, (j+1)·q) with q = count / 4.
 */
function shuffleWords(elements: Uint32Array, planes: Uint32Array): void {
  const q = elements.length >>> 2;
  for (let k = 0; k < q; k++) {
    const a = elements[4 * k] as number;
    const b = elements[4 * k + 1] as number;
    const c = elements[4 * k + 2] as number;
    const d = elements[4 * k + 3] as number;
    planes[k] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | ((d & 0xff) << 24);
    planes[q + k] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
    planes[2 * q + k] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
    planes[3 * q + k] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
  }
}

function unshuffleWords(planes: Uint32Array, elements: Uint32Array): void {
  const q = planes.length >>> 2;
  for (let k = 0; k < q; k++) {
    const p0 = planes[k] as number;
    const p1 = planes[q + k] as number;
    const p2 = planes[2 * q + k] as number;
    const p3 = planes[3 * q + k] as number;
    elements[4 * k] = (p0 & 0xff) | ((p1 & 0xff) << 8) | ((p2 & 0xff) << 16) | ((p3 & 0xff) << 24);
    elements[4 * k + 1] = ((p0 >>> 8) & 0xff) | (p1 & 0xff00) | ((p2 & 0xff00) << 8) | ((p3 & 0xff00) << 16);
    elements[4 * k + 2] = ((p0 >>> 16) & 0xff) | ((p1 >>> 8) & 0xff00) | (p2 & 0xff0000) | ((p3 & 0xff0000) << 8);
    elements[4 * k + 3] = (p0 >>> 24) | ((p1 >>> 16) & 0xff00) | ((p2 >>> 8) & 0xff0000) | (p3 & 0xff000000);
  }
}
