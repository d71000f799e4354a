import type { JsonValue } from '../../reference.js';
import { decodeUtf8 } from './cursor.js';
import type { Hdf5File } from './file.js';
import type { GlobalHeap } from './heaps.js';
import type { Dataspace, Datatype } from './messages.js';
import { elementCount } from './messages.js';

/** A JSON number, or "NaN" / "Infinity" / "-Infinity" as Zarr writes non-finite floats. */
export function jsonNumber(v: number): JsonValue {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** Numpy-style dtype string of an HDF5 datatype, or undefined when Zarr v2 cannot express it. */
export function zarrDtype(t: Datatype): string | undefined {
  switch (t.class) {
    case 'integer':
      if (![1, 2, 4, 8].includes(t.size)) return undefined;
      return `${t.size === 1 ? '|' : t.bigEndian ? '>' : '<'}${t.signed ? 'i' : 'u'}${t.size}`;
    case 'float':
      if (![2, 4, 8].includes(t.size)) return undefined;
      return `${t.bigEndian ? '>' : '<'}f${t.size}`;
    case 'string':
      return `|S${t.size}`;
    case 'enum':
      return zarrDtype(t.base);
    default:
      return undefined;
  }
}

/** Reads element `i` of a numeric datatype; undefined for other classes. */
export function readNumber(t: Datatype, bytes: Uint8Array, i: number): number | undefined {
  if (t.class === 'enum') return readNumber(t.base, bytes, i);
  const at = i * t.size;
  if (at + t.size > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, t.size);
  if (t.class === 'integer') {
    const le = !t.bigEndian;
    switch (t.size) {
      case 1:
        return t.signed ? view.getInt8(0) : view.getUint8(0);
      case 2:
        return t.signed ? view.getInt16(0, le) : view.getUint16(0, le);
      case 4:
        return t.signed ? view.getInt32(0, le) : view.getUint32(0, le);
      case 8:
        return Number(t.signed ? view.getBigInt64(0, le) : view.getBigUint64(0, le));
      default:
        return undefined;
    }
  }
  if (t.class === 'float') {
    const le = !t.bigEndian;
    switch (t.size) {
      case 2:
        return halfToNumber(view.getUint16(0, le));
      case 4:
        return view.getFloat32(0, le);
      case 8:
        return view.getFloat64(0, le);
      default:
        return undefined;
    }
  }
  return undefined;
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** A fixed-length string element: trailing NULs removed, as numpy reads `S` data. */
export function fixedString(bytes: Uint8Array, i: number, size: number): string {
  let end = (i + 1) * size;
  const start = i * size;
  while (end > start && bytes[end - 1] === 0) end--;
  return decodeUtf8(bytes.subarray(start, end));
}

/** Reads variable-length data (strings or sequences) through the global heap. */
export async function vlenElement(file: Hdf5File, heap: GlobalHeap, bytes: Uint8Array, i: number, size: number): Promise<Uint8Array> {
  const c = file.cursorOf(bytes, i * size);
  const length = c.u32();
  const collection = c.address();
  const index = c.u32();
  if (length === 0 || collection === undefined || collection === 0) return new Uint8Array(0);
  return heap.object(collection, index);
}

/**
 * An attribute value converted the way kerchunk's SingleHdf5ToZarr converts h5py values:
 * scalars and one-element arrays become one value, others lists (nested by dimension);
 * fixed-length byte strings are decoded (an empty scalar string becomes " "); non-finite floats
 * become "NaN"/"Infinity"/"-Infinity"; empty (null dataspace) attributes "".
 * Returns undefined for types JSON cannot hold (compound, references, opaque...).
 */
export async function attributeValue(file: Hdf5File, heap: GlobalHeap, t: Datatype, space: Dataspace, data: Uint8Array): Promise<JsonValue | undefined> {
  if (space.kind === 'null') return '';
  const n = elementCount(space);
  let values: JsonValue[];
  switch (t.class) {
    case 'integer':
    case 'float':
    case 'enum': {
      if (zarrDtype(t) === undefined) return undefined;
      values = [];
      for (let i = 0; i < n; i++) {
        const v = readNumber(t, data, i);
        if (v === undefined) return undefined;
        values.push(jsonNumber(v));
      }
      break;
    }
    case 'string': {
      if (t.size === 0 || data.length < n * t.size) return undefined;
      if (space.kind === 'scalar') return fixedString(data, 0, t.size) || ' ';
      values = [];
      for (let i = 0; i < n; i++) values.push(fixedString(data, i, t.size));
      break;
    }
    case 'vlen-string': {
      values = [];
      for (let i = 0; i < n; i++) values.push(decodeUtf8(await vlenElement(file, heap, data, i, t.size)));
      break;
    }
    default:
      return undefined;
  }
  if (space.kind === 'scalar' || values.length === 1) return values[0]!;
  return nest(values, space.dims);
}

function nest(values: JsonValue[], dims: readonly number[]): JsonValue[] {
  if (dims.length <= 1) return values;
  const inner = dims.slice(1).reduce((a, b) => a * b, 1);
  const out: JsonValue[] = [];
  for (let i = 0; i < dims[0]!; i++) out.push(nest(values.slice(i * inner, (i + 1) * inner), dims.slice(1)));
  return out;
}
