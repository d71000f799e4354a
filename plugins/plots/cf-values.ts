import type { JsonValue } from '../../kerchunk/reference.js';
import type { NumericArray } from '../../kerchunk/array-values.js';

/** CF decoding of stored values: missing values become NaN, packed values are unpacked. */
export interface CfDecoding {
  readonly missing: readonly number[];
  readonly scale: number;
  readonly offset: number;
  readonly validMin?: number;
  readonly validMax?: number;
}

function numbers(value: JsonValue | undefined): number[] {
  if (typeof value === 'number') return [value];
  if (value === 'NaN') return [Number.NaN];
  if (Array.isArray(value)) return value.flatMap((v) => numbers(v));
  return [];
}

/** The decoding that attributes (`_FillValue`, `missing_value`, `scale_factor`, `add_offset`, `valid_*`) and the Zarr fill value ask for. */
export function cfDecoding(attrs: Readonly<Record<string, JsonValue>>, fillValue: number | bigint | undefined): CfDecoding {
  const missing = [...numbers(attrs._FillValue), ...numbers(attrs.missing_value)];
  if (fillValue !== undefined) missing.push(Number(fillValue));
  const [scale = 1] = numbers(attrs.scale_factor);
  const [offset = 0] = numbers(attrs.add_offset);
  const range = numbers(attrs.valid_range);
  const [validMin = range[0]] = numbers(attrs.valid_min);
  const [validMax = range[1]] = numbers(attrs.valid_max);
  return {
    missing: [...new Set(missing)],
    scale,
    offset,
    ...(validMin !== undefined ? { validMin } : {}),
    ...(validMax !== undefined ? { validMax } : {}),
  };
}

/** Stored values as physical values (float64), NaN where missing, out of the valid range or not finite. */
export function decodeValues(raw: NumericArray, decoding: CfDecoding): Float64Array {
  const out = new Float64Array(raw.length);
  const missing = decoding.missing.filter((m) => !Number.isNaN(m));
  const { scale, offset, validMin = -Infinity, validMax = Infinity } = decoding;
  for (let i = 0; i < raw.length; i++) {
    const stored = Number(raw[i]);
    out[i] =
      !Number.isFinite(stored) || missing.includes(stored) || stored < validMin || stored > validMax ? Number.NaN : stored * scale + offset;
  }
  return out;
}
