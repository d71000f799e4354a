import { elementType, swapBytes } from '../dtype.js';
import type { JsonValue } from '../reference.js';
import { type Codec, type CodecConfig, type CodecContext, CodecError } from './codec.js';
import { nativeCodecs } from './native.js';
import { CodecOptions } from './options.js';

/** Mantissa bits of the float types bitround handles. */
export const MANTISSA_BITS = { 4: 23, 8: 52 } as const;

export interface BitRoundOptions {
  /**
   * A Zarr fill value (number, "NaN", "Infinity", "-Infinity") whose elements are left untouched,
   * bit for bit; with "NaN" every NaN is left as it is. Absent or null: every element is rounded,
   * exactly as numcodecs.BitRound does (which can turn the fill value into another value, and NaN
   * payloads into other NaNs, infinities or -0.0: NaN → -0.0 at keepbits 0 for float32).
   */
  readonly fillValue?: JsonValue;
  /** Leave every NaN as it is (bit for bit), whatever the fill value. ±inf never change anyway. */
  readonly keepNaN?: boolean;
}

/**
 * numcodecs.BitRound: rounds the float mantissa to `keepbits` bits (round half to even on the
 * integer view, a carry may reach the exponent), then zeroes the dropped bits. `keepbits` ≥ the
 * mantissa width (23, 52) leaves the values unchanged (numcodecs raises for more than the width).
 * Never modifies its input.
 *
 * - on native-order float arrays: returns a new array of the same type;
 * - on stored bytes of `dtype` ('<f4', '>f8'): returns new bytes in the same byte order.
 */
export function bitRound(values: Float32Array, keepbits: number, options?: BitRoundOptions): Float32Array;
export function bitRound(values: Float64Array, keepbits: number, options?: BitRoundOptions): Float64Array;
export function bitRound(values: Float32Array | Float64Array, keepbits: number, options?: BitRoundOptions): Float32Array | Float64Array;
export function bitRound(bytes: Uint8Array, dtype: string, keepbits: number, options?: BitRoundOptions): Uint8Array;
export function bitRound(
  data: Uint8Array | Float32Array | Float64Array,
  second: string | number,
  third?: number | BitRoundOptions,
  fourth?: BitRoundOptions,
): Uint8Array | Float32Array | Float64Array {
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const keepbits = second as number;
    const out = data instanceof Float32Array ? new Float32Array(data.length) : new Float64Array(data.length);
    const size = data instanceof Float32Array ? 4 : 8;
    const source = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >>> 2);
    if (!roundWords(source, new Uint32Array(out.buffer), size, keepbits, (third as BitRoundOptions | undefined) ?? {})) out.set(data);
    return out;
  }
  const out = new Uint8Array(data.length);
  const dtype = second as string;
  const type = floatType(dtype, data.length);
  if (type.littleEndian && data.byteOffset % type.size === 0) {
    // One pass: read the input's words, write the output's.
    const source = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >>> 2);
    if (!roundWords(source, new Uint32Array(out.buffer), type.size, third as number, fourth ?? {})) out.set(data);
    return out;
  }
  out.set(data);
  bitRoundInPlace(out, dtype, third as number, fourth);
  return out;
}

/** bitRound on native-order float values, overwriting them (no new array: the caller owns them). */
export function bitRoundValuesInPlace(values: Float32Array | Float64Array, keepbits: number, options: BitRoundOptions = {}): void {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.byteLength >>> 2);
  roundWords(words, words, values instanceof Float32Array ? 4 : 8, keepbits, options);
}

/** bitRound on stored bytes, overwriting them (copies through an aligned buffer when misaligned). */
export function bitRoundInPlace(bytes: Uint8Array, dtype: string, keepbits: number, options: BitRoundOptions = {}): void {
  const type = floatType(dtype, bytes.length);
  checkKeepbits(keepbits);
  if (MANTISSA_BITS[type.size] <= keepbits || bytes.length === 0) return;
  const aligned = bytes.byteOffset % type.size === 0;
  const work = aligned ? bytes : bytes.slice();
  if (!type.littleEndian) swapBytes(work, type.size);
  const words = new Uint32Array(work.buffer, work.byteOffset, work.byteLength >>> 2);
  roundWords(words, words, type.size, keepbits, options);
  if (!type.littleEndian) swapBytes(work, type.size);
  if (!aligned) bytes.set(work);
}

function floatType(dtype: string, length: number): { size: 4 | 8; littleEndian: boolean } {
  const type = elementType(dtype);
  if (type?.kind !== 'f' || (type.size !== 4 && type.size !== 8)) {
    throw new CodecError('bitround', `only float32 and float64 arrays can be bit-rounded, not ${JSON.stringify(dtype)}`);
  }
  if (length % type.size !== 0) throw new CodecError('bitround', `${length} bytes are not a whole number of ${type.size}-byte floats`);
  return { size: type.size, littleEndian: type.littleEndian };
}

function checkKeepbits(keepbits: number): void {
  if (!Number.isInteger(keepbits) || keepbits < 0) throw new CodecError('bitround', `keepbits must be an integer ≥ 0, got ${keepbits}`);
}

/**
 * Rounds native-order floats seen as 32-bit words (float64: low word first, little-endian hosts)
 * from `source` into `target` (they may be the same). False when nothing is to be done
 * (keepbits ≥ mantissa width): `target` is then left as it was.
 */
function roundWords(source: Uint32Array, target: Uint32Array, size: 4 | 8, keepbits: number, options: BitRoundOptions): boolean {
  checkKeepbits(keepbits);
  const maskbits = MANTISSA_BITS[size] - keepbits;
  if (maskbits <= 0) return false;
  const fill = options.fillValue ?? null;
  const keepNaN = options.keepNaN === true || (fill !== null && Number.isNaN(fillNumber(fill)));
  if (size === 4) {
    const keep = fill === null ? undefined : fillBits32(fill);
    round32(source, target, maskbits, keepNaN, keep === 'nan' ? undefined : keep);
  } else {
    const keep = fill === null ? undefined : fillBits64(fill);
    round64(source, target, maskbits, keepNaN, keep === 'nan' ? undefined : keep);
  }
  return true;
}

/** A fill value to keep: its bits, or NaN (every NaN is kept). */
type Keep32 = number | 'nan';
type Keep64 = readonly [lo: number, hi: number] | 'nan';

/** numcodecs' `b += ((b >> maskbits) & 1) + half_quantum1; b &= mask` on 32-bit words (wrapping): native/bitround.c, else round32Js. */
function round32(source: Uint32Array, target: Uint32Array, maskbits: number, keepNaN: boolean, keep: number | undefined): void {
  if (!nativeCodecs) return round32Js(source, target, maskbits, keepNaN, keep);
  const bytes = (words: Uint32Array) => new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  nativeCodecs.bitround32(bytes(source), bytes(target), maskbits, keepNaN, keep ?? -1);
}

/** The JavaScript float32 rounding: the reference of the native one, and its fallback. */
export function round32Js(source: Uint32Array, target: Uint32Array, maskbits: number, keepNaN: boolean, keep: number | undefined): void {
  const half = (1 << (maskbits - 1)) - 1;
  const mask = -1 << maskbits;
  const n = source.length;
  if (keep === undefined && !keepNaN) {
    for (let i = 0; i < n; i++) {
      const x = source[i] as number;
      target[i] = ((x + ((x >>> maskbits) & 1) + half) | 0) & mask;
    }
    return;
  }
  // -1 never equals a word (words are ≥ 0): an absent fill matches nothing.
  const fill = keep ?? -1;
  const nanLimit = keepNaN ? 0x7f800000 : 0xffffffff;
  for (let i = 0; i < n; i++) {
    const x = source[i] as number;
    target[i] = x === fill || (x & 0x7fffffff) > nanLimit ? x : ((x + ((x >>> maskbits) & 1) + half) | 0) & mask;
  }
}

/**
 * The same on float64 as two 32-bit halves. The addend `bit + 2^(maskbits-1) - 1` has a low part
 * `baseLo + bit` and a high part `baseHi`; the carry out of the low word is added to the high one.
 */
function round64(source: Uint32Array, target: Uint32Array, maskbits: number, keepNaN: boolean, keep: readonly [number, number] | undefined): void {
  const halfMinusOne = (1n << BigInt(maskbits - 1)) - 1n;
  const baseLo = Number(halfMinusOne & 0xffffffffn);
  const baseHi = Number(halfMinusOne >> 32n);
  const maskLo = maskbits >= 32 ? 0 : -1 << maskbits;
  const maskHi = maskbits <= 32 ? -1 : -1 << (maskbits - 32);
  const n = source.length;
  const checks = keepNaN || keep !== undefined;
  const keepLo = keep ? keep[0] : -1;
  const keepHi = keep ? keep[1] : -1;
  const kept = (lo: number, hi: number): boolean => {
    if (lo === keepLo && hi === keepHi) return true;
    if (!keepNaN) return false;
    const top = hi & 0x7fffffff;
    return top > 0x7ff00000 || (top === 0x7ff00000 && lo !== 0);
  };
  if (maskbits < 32) {
    // The lowest kept bit is in the low word; the low sum stays below 2^33.
    for (let i = 0; i < n; i += 2) {
      const lo = source[i] as number;
      const hi = source[i + 1] as number;
      if (checks && kept(lo, hi)) {
        target[i] = lo;
        target[i + 1] = hi;
        continue;
      }
      const sum = lo + baseLo + ((lo >>> maskbits) & 1);
      target[i] = sum & maskLo;
      target[i + 1] = (hi + baseHi + (sum > 0xffffffff ? 1 : 0)) | 0;
    }
  } else {
    // The lowest kept bit is in the high word and the low word is dropped: only its carry matters.
    // baseLo is 0 (maskbits 32) or 0xffffffff (above): lo + baseLo + bit carries when the sum ≥ 2^32.
    const shift = maskbits - 32;
    const lowAllOnes = baseLo === 0xffffffff;
    for (let i = 0; i < n; i += 2) {
      const lo = source[i] as number;
      const hi = source[i + 1] as number;
      if (checks && kept(lo, hi)) {
        target[i] = lo;
        target[i + 1] = hi;
        continue;
      }
      const bit = (hi >>> shift) & 1;
      const carry = lowAllOnes ? ((lo | bit) !== 0 ? 1 : 0) : lo + baseLo + bit > 0xffffffff ? 1 : 0;
      target[i] = 0;
      target[i + 1] = ((hi + baseHi + carry) | 0) & maskHi;
    }
  }
}

function fillNumber(fill: JsonValue): number {
  if (typeof fill === 'number') return fill;
  if (fill === 'NaN') return NaN;
  if (fill === 'Infinity') return Infinity;
  if (fill === '-Infinity') return -Infinity;
  throw new CodecError('bitround', `fill value ${JSON.stringify(fill)} is not a float`);
}

function fillBits32(fill: JsonValue): Keep32 {
  const value = fillNumber(fill);
  if (Number.isNaN(value)) return 'nan';
  return new Uint32Array(new Float32Array([value]).buffer)[0] as number;
}

function fillBits64(fill: JsonValue): Keep64 {
  const value = fillNumber(fill);
  if (Number.isNaN(value)) return 'nan';
  const words = new Uint32Array(new Float64Array([value]).buffer);
  return [words[0] as number, words[1] as number];
}

/**
 * numcodecs BitRound (`keepbits`): encoding rounds (see bitRound), decoding is the identity.
 * Needs the float dtype in the context; `context.preserveFill` keeps that fill value's elements.
 */
export function bitroundCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const keepbits = options.integer('keepbits', -1, 0, 2 ** 31);
  if (keepbits < 0) throw options.unsupported('needs keepbits ≥ 0');
  options.done();
  const dtype = context.dtype;
  const round: BitRoundOptions = { fillValue: context.preserveFill ?? null };
  return {
    config,
    encode: async (data) => {
      if (typeof dtype !== 'string') throw new CodecError('bitround', 'encoding needs the float dtype of the data');
      return bitRound(data, dtype, keepbits, round);
    },
    decode: async (data) => data,
  };
}
