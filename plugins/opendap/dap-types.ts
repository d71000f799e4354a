/**
 * DAP 2.0 atomic types: which one serves a Zarr dtype, how wide each value is in XDR, and how
 * attribute numbers of each type are written in a DAS.
 */
export type DapNumericType = 'Byte' | 'Int16' | 'UInt16' | 'Int32' | 'UInt32' | 'Float32' | 'Float64';
export type DapAttributeType = DapNumericType | 'String';

/** How a Zarr dtype is served. `conversion` names a lossy or widening change (logged, and noted in the DAS). */
export interface ServedType {
  readonly type: DapNumericType;
  /** The stored values are signed 8-bit integers sent as the unsigned DAP Byte (same bits). */
  readonly signedByte?: boolean;
  readonly conversion?: string;
}

/**
 * The DAP type of a Zarr v2 dtype, or undefined when DAP2 has none (strings, complex, datetime).
 * DAP2 has no 64-bit integers: int64/uint64 are served as Float64 (exact up to 2^53). DAP2's Byte
 * is unsigned: int8 goes out as Byte with its bits unchanged (netCDF-C reads DAP Byte as the
 * signed netCDF `byte`, so the values come back as stored).
 */
export function servedType(dtype: string): ServedType | undefined {
  const match = /^[<>|=]?([biuf])(\d+)$/.exec(dtype);
  if (!match) return undefined;
  const [, kind, size] = match;
  switch (`${kind}${size}`) {
    case 'b1':
    case 'u1':
      return { type: 'Byte' };
    case 'i1':
      return { type: 'Byte', signedByte: true };
    case 'i2':
      return { type: 'Int16' };
    case 'u2':
      return { type: 'UInt16' };
    case 'i4':
      return { type: 'Int32' };
    case 'u4':
      return { type: 'UInt32' };
    case 'i8':
      return { type: 'Float64', conversion: 'int64 served as Float64 (DAP2 has no 64-bit integers; exact up to 2^53)' };
    case 'u8':
      return { type: 'Float64', conversion: 'uint64 served as Float64 (DAP2 has no 64-bit integers; exact up to 2^53)' };
    case 'f4':
      return { type: 'Float32' };
    case 'f8':
      return { type: 'Float64' };
    default:
      return undefined;
  }
}

/** Bytes one value of an array takes in XDR: Byte arrays are packed (then padded to 4), Int16/UInt16 widen to 4. */
export function wireBytes(type: DapNumericType): number {
  if (type === 'Byte') return 1;
  if (type === 'Float64') return 8;
  return 4;
}

const INTEGER_RANGES: Record<Exclude<DapNumericType, 'Float32' | 'Float64'>, readonly [number, number]> = {
  Byte: [0, 255],
  Int16: [-32768, 32767],
  UInt16: [0, 65535],
  Int32: [-2147483648, 2147483647],
  UInt32: [0, 4294967295],
};

/** Whether a number is exactly representable in a DAP type. */
export function fitsType(value: number, type: DapNumericType): boolean {
  if (type === 'Float64') return true;
  if (type === 'Float32') return Number.isNaN(value) || Math.fround(value) === value;
  const [min, max] = INTEGER_RANGES[type];
  return Number.isInteger(value) && value >= min && value <= max;
}

export function isIntegerType(type: DapNumericType): boolean {
  return type !== 'Float32' && type !== 'Float64';
}

/** A number as a DAS writes it for its type: shortest text that reads back to the same value. */
export function attributeNumberText(value: number, type: DapNumericType): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (type === 'Float32') return float32Text(value);
  if (type === 'Float64') return withFloatForm(String(value), value);
  return String(value);
}

/** Long digit-only text reads as an (overflowing) integer in clients' DAS parsers: write such floats with an exponent. */
function withFloatForm(text: string, value: number): string {
  return /^-?\d{16,}$/.test(text) ? value.toExponential() : text;
}

/** The shortest decimal text that reads back (as float32) to the float32 nearest `value`. */
export function float32Text(value: number): string {
  const target = Math.fround(value);
  if (!Number.isFinite(target)) return attributeNumberText(target, 'Float64');
  for (let precision = 1; precision <= 9; precision++) {
    const text = target.toPrecision(precision);
    if (Math.fround(Number(text)) === target) return withFloatForm(String(Number(text)), Number(text));
  }
  return String(target);
}

/** Looks like a float32 widened to float64: reads back exactly as float32 and needs fewer digits that way. */
export function looksLikeFloat32(value: number): boolean {
  if (!Number.isFinite(value) || Math.fround(value) !== value) return false;
  return significantDigits(value, (x) => Math.fround(x)) < significantDigits(value, (x) => x);
}

/** Fewest significant digits whose decimal reads back to `value` through `round`. */
function significantDigits(value: number, round: (x: number) => number): number {
  for (let precision = 1; precision < 17; precision++) if (round(Number(value.toPrecision(precision))) === value) return precision;
  return 17;
}
