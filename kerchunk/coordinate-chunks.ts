import { gunzipSync, inflateSync } from 'node:zlib';
import type { ZarrArrayMetadata } from './zarr-metadata.js';

/**
 * Just enough decoding to read a 1-D coordinate (combine.ts concatenates them): uncompressed,
 * zlib or gzip chunks, optionally byte-shuffled (numcodecs `shuffle`, which HDF5's shuffle filter
 * becomes), of integer, float and datetime dtypes. Full codecs live in `kerchunk/codecs/`.
 */

/** A coordinate that cannot be decoded here; the message names the array and the reason. */
export class CoordinateDecodeError extends Error {
  override readonly name = 'CoordinateDecodeError';
}

export interface NumericDtype {
  readonly littleEndian: boolean;
  readonly kind: 'i' | 'u' | 'f';
  readonly size: 1 | 2 | 4 | 8;
}

/** `<i4`, `>f8`, `|u1`, `<M8[ns]` (datetimes and timedeltas read as int64). */
export function numericDtype(dtype: unknown, where: string): NumericDtype {
  const match = typeof dtype === 'string' ? /^([<>|=])([iufMm])(1|2|4|8)(\[[A-Za-z0-9]+\])?$/.exec(dtype) : null;
  if (!match) throw new CoordinateDecodeError(`${where}: dtype ${JSON.stringify(dtype)} is not a numeric dtype combine can read`);
  const [, order = '<', code = 'i', bytes = '1'] = match;
  const size = Number(bytes) as NumericDtype['size'];
  const kind = code === 'M' || code === 'm' ? 'i' : (code as NumericDtype['kind']);
  if ((code === 'M' || code === 'm') && size !== 8) throw new CoordinateDecodeError(`${where}: dtype ${dtype} is not 8 bytes`);
  if (kind === 'f' && size < 4) throw new CoordinateDecodeError(`${where}: dtype ${dtype} (half floats) is not supported`);
  return { kind, size, littleEndian: order !== '>' };
}

/** The raw bytes of one chunk after undoing its compressor and filters, checked for length. */
export function decodeCoordinateChunk(encoded: Uint8Array, zarray: ZarrArrayMetadata, where: string): Uint8Array {
  const dtype = numericDtype(zarray.dtype, where);
  let data = encoded;
  const compressor = zarray.compressor;
  if (compressor) {
    try {
      if (compressor.id === 'zlib') data = inflateSync(data);
      else if (compressor.id === 'gzip') data = gunzipSync(data);
      else throw new CoordinateDecodeError(`${where}: compressor "${compressor.id}" is not supported here (zlib, gzip or none)`);
    } catch (error) {
      if (error instanceof CoordinateDecodeError) throw error;
      throw new CoordinateDecodeError(`${where}: ${compressor.id} data does not decompress (${(error as Error).message})`);
    }
  }
  for (const filter of [...(zarray.filters ?? [])].reverse()) {
    if (filter.id !== 'shuffle') throw new CoordinateDecodeError(`${where}: filter "${filter.id}" is not supported here (shuffle only)`);
    const elementSize = typeof filter.elementsize === 'number' ? filter.elementsize : dtype.size;
    data = unshuffle(data, elementSize);
  }
  const expected = zarray.chunks.reduce((product, n) => product * n, 1) * dtype.size;
  if (data.byteLength !== expected) {
    throw new CoordinateDecodeError(`${where}: a decoded chunk has ${data.byteLength} bytes, expected ${expected}`);
  }
  return data;
}

/**
 * Undoes a byte shuffle: the shuffled buffer holds byte 0 of every element, then byte 1 of every
 * element, ...; bytes past the last whole element are stored as they are.
 */
export function unshuffle(data: Uint8Array, elementSize: number): Uint8Array {
  if (elementSize <= 1) return data;
  const count = Math.floor(data.byteLength / elementSize);
  const out = new Uint8Array(data.byteLength);
  for (let byte = 0; byte < elementSize; byte++) {
    const from = byte * count;
    for (let i = 0; i < count; i++) out[i * elementSize + byte] = data[from + i] as number;
  }
  out.set(data.subarray(count * elementSize), count * elementSize);
  return out;
}

/** Values of raw (decoded) bytes; 8-byte integers as bigint so no precision is lost. */
export function readValues(bytes: Uint8Array, dtype: NumericDtype): Array<number | bigint> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = Math.floor(bytes.byteLength / dtype.size);
  const values = new Array<number | bigint>(count);
  const le = dtype.littleEndian;
  for (let i = 0; i < count; i++) {
    const at = i * dtype.size;
    values[i] = readOne(view, at, dtype, le);
  }
  return values;
}

function readOne(view: DataView, at: number, dtype: NumericDtype, le: boolean): number | bigint {
  switch (`${dtype.kind}${dtype.size}`) {
    case 'i1':
      return view.getInt8(at);
    case 'u1':
      return view.getUint8(at);
    case 'i2':
      return view.getInt16(at, le);
    case 'u2':
      return view.getUint16(at, le);
    case 'i4':
      return view.getInt32(at, le);
    case 'u4':
      return view.getUint32(at, le);
    case 'i8':
      return view.getBigInt64(at, le);
    case 'u8':
      return view.getBigUint64(at, le);
    case 'f4':
      return view.getFloat32(at, le);
    default:
      return view.getFloat64(at, le);
  }
}
