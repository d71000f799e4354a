import type { NumericArray } from './array-values.js';
import type { JsonValue } from './reference.js';

/**
 * Numeric numpy dtypes of Zarr v2 metadata ('<f4', '>i2', '|u1'): what the codecs need (element
 * kind, size, byte order, itemsize of any dtype), typed arrays of them, byte swapping, numpy's
 * astype, and fill values. One module for the readers and the codecs.
 */

/** A numeric Zarr v2 dtype ('<f4', '>i2', '|u1'), parsed, with the typed arrays of its values. */
export interface NumericDtype extends ElementType {
  /** Typed array of this kind and size, native byte order. */
  create(length: number): NumericArray;
  /**
   * The same without zeroing its memory first (spans its whole ArrayBuffer): only for arrays
   * every element of which is written before anyone reads it.
   */
  createUninitialised(length: number): NumericArray;
  /** A native-order view over bytes already in native order (copies when misaligned). */
  view(bytes: Uint8Array): NumericArray;
}

type TypedArrayConstructor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CONSTRUCTORS: Record<string, TypedArrayConstructor> = {
  f4: Float32Array,
  f8: Float64Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  i8: BigInt64Array,
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  u8: BigUint64Array,
};

/** The numeric dtype of a `.zarray` dtype field, or undefined for strings, structs, datetimes, bools. */
export function parseNumericDtype(dtype: string | JsonValue[]): NumericDtype | undefined {
  const type = elementType(dtype);
  // f2 has no typed array here (elementType already refuses f1)
  const Constructor = type && CONSTRUCTORS[`${type.kind}${type.size}`];
  if (!type || !Constructor) return undefined;
  const bytes = type.size;
  return {
    ...type,
    create: (length) => new Constructor(length),
    createUninitialised: (length) => {
      const memory = Buffer.allocUnsafeSlow(length * bytes);
      return new Constructor(memory.buffer, memory.byteOffset, length);
    },
    view: (data) => {
      if (data.byteOffset % bytes === 0) return new Constructor(data.buffer, data.byteOffset, data.byteLength / bytes);
      const copy = new Uint8Array(data.byteLength);
      copy.set(data);
      return new Constructor(copy.buffer, 0, data.byteLength / bytes);
    },
  };
}

/** A Zarr v2 fill_value as a value of the dtype: numbers, "NaN"/"Infinity"/"-Infinity", base64 for bytes is not numeric. */
export function parseFillValue(fill: JsonValue, dtype: NumericDtype): number | bigint | undefined {
  if (fill === null || fill === undefined) return undefined;
  if (typeof fill === 'number') return dtype.size === 8 && dtype.kind !== 'f' ? BigInt(Math.trunc(fill)) : fill;
  if (fill === 'NaN') return NaN;
  if (fill === 'Infinity') return Infinity;
  if (fill === '-Infinity') return -Infinity;
  return undefined;
}

/** A numeric numpy dtype as the codecs see it ('<f4', '>i2', '|u1'). */
export interface ElementType {
  readonly kind: 'f' | 'i' | 'u';
  readonly size: 1 | 2 | 4 | 8;
  /** Stored byte order ('|' and '=' count as little: the hosts we run on). */
  readonly littleEndian: boolean;
}

const NUMERIC = /^([<>|=]?)([fiu])([1248])$/;

/** The numeric type of a dtype string, or undefined (strings, bools, structs, datetimes, f1). */
export function elementType(dtype: string | JsonValue[] | undefined): ElementType | undefined {
  if (typeof dtype !== 'string') return undefined;
  const match = NUMERIC.exec(dtype);
  if (!match) return undefined;
  const [, order, kind, size] = match as unknown as [string, string, 'f' | 'i' | 'u', string];
  if (kind === 'f' && size === '1') return undefined;
  return { kind, size: Number(size) as 1 | 2 | 4 | 8, littleEndian: order !== '>' };
}

const SCALAR = /^[<>|=]?([biufcmMOSUV])(\d*)(\[[A-Za-z0-9]+\])?$/;

/** numpy's itemsize of a `.zarray` dtype (strings, structs with sub-array shapes included), or undefined. */
export function itemsize(dtype: string | JsonValue[] | JsonValue): number | undefined {
  if (typeof dtype === 'string') {
    const match = SCALAR.exec(dtype);
    if (!match) return undefined;
    const [, kind, digits] = match as unknown as [string, string, string];
    if (kind === 'O') return undefined;
    if (kind === 'b' && digits === '') return 1;
    const count = Number(digits);
    if (digits === '' || !Number.isSafeInteger(count)) return undefined;
    return kind === 'U' ? count * 4 : count;
  }
  if (!Array.isArray(dtype)) return undefined;
  let total = 0;
  for (const field of dtype) {
    if (!Array.isArray(field) || field.length < 2 || typeof field[0] !== 'string') return undefined;
    const size = itemsize(field[1] as JsonValue);
    if (size === undefined) return undefined;
    const shape = field[2];
    let count = 1;
    if (shape !== undefined) {
      if (!Array.isArray(shape) || !shape.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) return undefined;
      for (const n of shape as number[]) count *= n;
    }
    total += size * count;
  }
  return total;
}

/** Reverses the bytes of every `size`-byte element in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  if (size === 4 && bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) {
      const x = words[i] as number;
      words[i] = ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
    }
    return;
  }
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/** A fresh native-order typed array of the type (f2 has none). */
export function createValues(type: ElementType, length: number): NumericArray {
  switch (`${type.kind}${type.size}`) {
    case 'f4':
      return new Float32Array(length);
    case 'f8':
      return new Float64Array(length);
    case 'i1':
      return new Int8Array(length);
    case 'i2':
      return new Int16Array(length);
    case 'i4':
      return new Int32Array(length);
    case 'i8':
      return new BigInt64Array(length);
    case 'u1':
      return new Uint8Array(length);
    case 'u2':
      return new Uint16Array(length);
    case 'u4':
      return new Uint32Array(length);
    case 'u8':
      return new BigUint64Array(length);
    default:
      throw new RangeError(`no typed array for ${type.kind}${type.size}`);
  }
}

/** The values of stored bytes, copied into a native-order typed array. */
export function loadValues(bytes: Uint8Array, type: ElementType): NumericArray {
  if (bytes.byteLength % type.size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes are not a whole number of ${type.size}-byte elements`);
  }
  const values = createValues(type, bytes.byteLength / type.size);
  const view = new Uint8Array(values.buffer);
  view.set(bytes);
  if (!type.littleEndian) swapBytes(view, type.size);
  return values;
}

/** Stored bytes (in the type's byte order) of native-order values; reuses the values' memory. */
export function storeValues(values: NumericArray, type: ElementType): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (!type.littleEndian) swapBytes(bytes, type.size);
  return bytes;
}

/**
 * Copies `source` into `target` converting as numpy's `astype` does for in-range values:
 * float → int truncates toward zero, ints wrap to the target width, float64 → float32 rounds.
 * Out-of-range float → int conversions are undefined in numpy (C casts); here they wrap.
 */
export function castValues(source: NumericArray, target: NumericArray): void {
  const n = source.length;
  if (target instanceof BigInt64Array || target instanceof BigUint64Array) {
    if (source instanceof BigInt64Array || source instanceof BigUint64Array) {
      for (let i = 0; i < n; i++) target[i] = source[i] as bigint;
    } else {
      for (let i = 0; i < n; i++) {
        const value = Math.trunc(source[i] as number);
        target[i] = Number.isFinite(value) ? BigInt(value) : 0n;
      }
    }
    return;
  }
  if (source instanceof BigInt64Array || source instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) target[i] = Number(source[i] as bigint);
    return;
  }
  // Typed-array stores do the rest: ToInt8/16/32 and ToUint* truncate and wrap, Float32 rounds.
  (target as Float64Array).set(source as Float64Array);
}
