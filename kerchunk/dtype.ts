import type { NumericArray } from './array-values.js';
import type { JsonValue } from './reference.js';

/** A numeric Zarr v2 dtype ('<f4', '>i2', '|u1'), parsed. */
export interface NumericDtype {
  readonly kind: 'f' | 'i' | 'u';
  /** Bytes per element. */
  readonly size: 1 | 2 | 4 | 8;
  /** Byte order as stored ('|' counts as little). */
  readonly littleEndian: boolean;
  /** Typed array of this kind and size, native byte order. */
  create(length: number): NumericArray;
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
  if (typeof dtype !== 'string') return undefined;
  const match = /^([<>|=]?)([fiu])([1248])$/.exec(dtype);
  if (!match) return undefined;
  const [, order = '', kind = '', size = ''] = match;
  const Constructor = CONSTRUCTORS[`${kind}${size}`];
  if (!Constructor || (kind === 'f' && (size === '1' || size === '2'))) return undefined;
  const bytes = Number(size) as 1 | 2 | 4 | 8;
  return {
    kind: kind as 'f' | 'i' | 'u',
    size: bytes,
    littleEndian: order !== '>',
    create: (length) => new Constructor(length),
    view: (data) => {
      if (data.byteOffset % bytes === 0) return new Constructor(data.buffer, data.byteOffset, data.byteLength / bytes);
      const copy = new Uint8Array(data.byteLength);
      copy.set(data);
      return new Constructor(copy.buffer, 0, data.byteLength / bytes);
    },
  };
}

/** Swaps the byte order of every element in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
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
