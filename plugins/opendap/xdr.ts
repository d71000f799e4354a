import { endianness } from 'node:os';
import type { NumericArray } from '../../kerchunk/array-values.js';
import type { DapNumericType } from './dap-types.js';

/**
 * XDR (RFC 4506) as DAP 2.0 §7.3 uses it: big-endian, 4-byte units. Int16/UInt16 values widen to
 * 4 bytes; Byte arrays are packed and padded to a multiple of 4; every array is preceded by its
 * length, twice.
 */
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** The length prefix of an array: the element count, twice, as XDR unsigned ints. */
export function xdrArrayHeader(count: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, count);
  view.setUint32(4, count);
  return out;
}

/** Zero bytes after `byteCount` bytes of a Byte array, up to the next multiple of 4. */
export function xdrPadding(byteCount: number): number {
  return (4 - (byteCount % 4)) % 4;
}

/** Bytes of an array of `count` values of `type` on the wire, length prefix and padding included. */
export function xdrArraySize(type: DapNumericType, count: number): number {
  if (type === 'Byte') return 8 + count + xdrPadding(count);
  return 8 + count * (type === 'Float64' ? 8 : 4);
}

/** Bytes of a scalar of `type` on the wire (a Byte scalar takes a whole XDR unit). */
export function xdrScalarSize(type: DapNumericType): number {
  return type === 'Float64' ? 8 : 4;
}

/**
 * Values in XDR form, without length prefix or padding. Bits are kept where the DAP type is
 * as wide as the stored one (int8 → Byte keeps the two's complement bits); 64-bit integers go
 * through Number (exact up to 2^53).
 */
export function xdrValues(type: DapNumericType, values: NumericArray): Uint8Array {
  switch (type) {
    case 'Byte':
      return values instanceof Uint8Array || values instanceof Int8Array
        ? new Uint8Array(values.buffer, values.byteOffset, values.length)
        : Uint8Array.from(values as ArrayLike<number>, Number);
    case 'Int16':
    case 'Int32':
      return swapped32(copyAs(Int32Array, values));
    case 'UInt16':
    case 'UInt32':
      return swapped32(copyAs(Uint32Array, values));
    case 'Float32':
      return swapped32(copyAs(Float32Array, values));
    case 'Float64':
      return swapped64(copyAs(Float64Array, values));
  }
}

/** A scalar in XDR form (one XDR unit for Byte/Int16/UInt16). */
export function xdrScalar(type: DapNumericType, values: NumericArray): Uint8Array {
  if (type === 'Byte') {
    const out = new Uint8Array(4);
    out[3] = Number(values[0] ?? 0) & 0xff;
    return out;
  }
  return xdrValues(type, values);
}

type Target = Int32ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor;

function copyAs<T extends Target>(Type: T, values: NumericArray): InstanceType<T> {
  const out = new Type(values.length) as InstanceType<T>;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  } else {
    out.set(values);
  }
  return out;
}

function swapped32(values: Int32Array | Uint32Array | Float32Array): Uint8Array {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN_HOST) bytes.swap32();
  return bytes;
}

function swapped64(values: Float64Array): Uint8Array {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN_HOST) bytes.swap64();
  return bytes;
}
