/**
 * The values of a decoded 1-D coordinate (combine.ts concatenates them and checks they grow):
 * integer, float and datetime dtypes, 8-byte integers as bigint. Decoding is `kerchunk/codecs`'.
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
