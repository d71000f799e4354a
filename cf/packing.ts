import type { NumericArray } from '../kerchunk/array-values.js';
import { type Attributes, attribute, numbers } from './attributes.js';

/**
 * CF packing and masking of stored values (CF 8.1, 2.5.1): values equal to the Zarr fill value,
 * `_FillValue` or a `missing_value`, values outside `valid_min`/`valid_max`/`valid_range`, NaN
 * and infinities are missing; the others are unpacked as `stored * scale_factor + add_offset`.
 * Masking compares stored (packed) values, as CF says.
 */
export interface Packing {
  readonly missing: readonly number[];
  readonly scale: number;
  readonly offset: number;
  readonly validMin?: number;
  readonly validMax?: number;
}

/** The packing a variable's attributes and its Zarr fill value ask for (attributes read as own properties). */
export function packingOf(attrs: Attributes, fillValue: number | bigint | undefined): Packing {
  const missing = [...numbers(attribute(attrs, '_FillValue')), ...numbers(attribute(attrs, 'missing_value'))];
  if (fillValue !== undefined) missing.push(Number(fillValue));
  const [scale = 1] = numbers(attribute(attrs, 'scale_factor'));
  const [offset = 0] = numbers(attribute(attrs, 'add_offset'));
  const range = numbers(attribute(attrs, 'valid_range'));
  const [validMin = range[0]] = numbers(attribute(attrs, 'valid_min'));
  const [validMax = range[1]] = numbers(attribute(attrs, 'valid_max'));
  return {
    missing: [...new Set(missing)],
    scale,
    offset,
    ...(validMin !== undefined ? { validMin } : {}),
    ...(validMax !== undefined ? { validMax } : {}),
  };
}

/** Stored values as physical values (float64), NaN where missing, out of the valid range or not finite. */
export function unpack(raw: NumericArray, packing: Packing): Float64Array {
  const out = new Float64Array(raw.length);
  const missing = new Set(packing.missing.filter((m) => !Number.isNaN(m)));
  const { scale, offset, validMin = -Infinity, validMax = Infinity } = packing;
  for (let i = 0; i < raw.length; i++) {
    const stored = Number(raw[i]);
    out[i] = !Number.isFinite(stored) || missing.has(stored) || stored < validMin || stored > validMax ? Number.NaN : stored * scale + offset;
  }
  return out;
}
