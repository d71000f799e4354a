import type { VariableSchema } from '../catalog/dataset-schema.js';
import { packingOf, unpack } from '../cf/packing.js';
import type { DatasetValues } from '../kerchunk/array-values.js';

/** Arrays larger than this are not read for extents (a coordinate is rarely this big). */
export const MAX_COORDINATE_VALUES = 50_000_000;

/** Summary of a numeric coordinate: its valid values, minimum, maximum and regular step. */
export interface CoordinateSummary {
  /** Valid values (what CF masks dropped: fill and missing values, out of the valid range, NaN, infinities), CF scale/offset applied, in stored order. */
  readonly values: Float64Array;
  readonly min: number;
  readonly max: number;
  /** The spacing when every neighbouring difference of a 1-D coordinate is the same. */
  readonly step?: number;
}

/**
 * Reads a coordinate's values through the decoded-values reader, unpacked and masked as CF says
 * (cf/packing.ts: `scale_factor`, `add_offset`; the fill value, `_FillValue`, `missing_value`,
 * values outside `valid_min`/`valid_max`/`valid_range`, NaN and infinities dropped). Undefined
 * when the array cannot be read as numbers, is too large, or has no valid value.
 */
export async function summarizeCoordinate(reader: DatasetValues, variable: VariableSchema, signal?: AbortSignal): Promise<CoordinateSummary | undefined> {
  const array = reader.array(variable.name);
  if (!array) return undefined;
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count > MAX_COORDINATE_VALUES) return undefined;
  const raw = await array.read(
    array.shape.map((length) => ({ start: 0, stop: length, step: 1 })),
    signal,
  );
  const values = Array.from(unpack(raw, packingOf(variable.attrs, array.fillValue))).filter((value) => !Number.isNaN(value));
  if (values.length === 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const step = variable.dims.length === 1 && values.length === count ? regularStep(values) : undefined;
  return { values: Float64Array.from(values), min, max, ...(step !== undefined ? { step } : {}) };
}

/** The common difference of neighbouring values, when there is one (relative tolerance 1e-6). */
export function regularStep(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  const step = (values[1] as number) - (values[0] as number);
  if (step === 0) return undefined;
  const tolerance = Math.abs(step) * 1e-6;
  for (let i = 2; i < values.length; i++) {
    if (Math.abs((values[i] as number) - (values[i - 1] as number) - step) > tolerance) return undefined;
  }
  return step;
}
