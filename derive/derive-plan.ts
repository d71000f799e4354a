import { datasetSchema, type VariableSchema } from '../catalog/dataset-schema.js';
import type { DeriveReduce, DeriveSpec } from '../catalog/derive-entry.js';
import { boundsVariables, isLatitudeAxis } from '../cf/axes.js';
import type { CalendarDate } from '../cf/calendar.js';
import { parseDateQuery } from '../cf/date-query.js';
import { packingOf } from '../cf/packing.js';
import { timeCoder } from '../cf/time-units.js';
import type { DatasetValues, NumericArray } from '../kerchunk/array-values.js';
import { parseFillValue, parseNumericDtype } from '../kerchunk/dtype.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { arrayMetadata, type ZarrArrayMetadata } from '../kerchunk/zarr-metadata.js';
import { groupBins, resampleBins, type TimeBin } from './time-bins.js';

/**
 * What a derived dataset is made of, worked out once when it is opened (its coordinates read):
 * the selected index range of every source dimension, the time bins, and for every derived array
 * its Zarr metadata, attributes and how a chunk of it is computed (derive-chunks.ts).
 */

/** A derived dataset cannot be made: the message says why (a problem entry of the catalog). */
export class DeriveError extends Error {
  override readonly name = 'DeriveError';
}

/** Elements of one derived chunk's intermediate values (before `over`) aimed at. */
const TARGET_ELEMENTS = 4 * 1024 * 1024;
/** An intermediate above this many elements for a single chunk is refused at load. */
const MAX_ELEMENTS = 256 * 1024 * 1024;

/** Source indices [start, stop) selected along a dimension. */
export interface IndexRange {
  readonly start: number;
  readonly stop: number;
}

/** Values computed at load (new time values and bounds), served as they are. */
export interface ConstantArray {
  readonly kind: 'constant';
  readonly values: Float64Array;
}

/** A slice of a source array copied as stored (coordinates, `select` alone). */
export interface CopiedArray {
  readonly kind: 'copy';
  readonly source: string;
  /** The source selection along each dimension. */
  readonly ranges: readonly IndexRange[];
}

/** A data variable unpacked, binned in time and/or reduced over dimensions. */
export interface ReducedArray {
  readonly kind: 'reduce';
  readonly source: string;
  readonly op: DeriveReduce;
  /** Source selection along each source dimension. */
  readonly ranges: readonly IndexRange[];
  /** The binned time axis (position among the source dims) and its bins, or undefined. */
  readonly time?: { readonly axis: number; readonly bins: readonly TimeBin[] };
  /** Positions of the source dims reduced by `over`. */
  readonly over: readonly number[];
  /** cos(latitude) of the selected latitudes, with the axis they apply to (weights: area). */
  readonly weights?: { readonly axis: number; readonly values: Float64Array };
  /** Stored values → physical values (NaN where missing), as xarray decodes them. */
  readonly unpack: (raw: NumericArray) => Float64Array;
}

export type ArrayRecipe = ConstantArray | CopiedArray | ReducedArray;

export interface DerivedArray {
  readonly name: string;
  readonly dims: readonly string[];
  readonly meta: ZarrArrayMetadata;
  readonly attrs: Record<string, JsonValue>;
  readonly recipe: ArrayRecipe;
}

export interface DerivePlan {
  readonly arrays: readonly DerivedArray[];
  readonly attrs: Record<string, JsonValue>;
}

const CF_METHOD: Record<DeriveReduce, string | undefined> = { mean: 'mean', min: 'minimum', max: 'maximum', sum: 'sum', std: 'standard_deviation', count: undefined };
const PACKING_ATTRIBUTES = ['scale_factor', 'add_offset', '_FillValue', 'missing_value', 'valid_range', 'valid_min', 'valid_max', '_Unsigned'];

/** Reads a whole 1-d array as numbers. */
async function numbersOf(values: DatasetValues, name: string): Promise<Float64Array> {
  const array = values.array(name);
  if (array?.shape.length !== 1) throw new DeriveError(`"${name}" is not a 1-d numeric coordinate`);
  const raw = await array.read([{ start: 0, stop: array.shape[0] as number, step: 1 }]);
  return Float64Array.from(raw as ArrayLike<number | bigint>, Number);
}

/** The index range of a monotonic coordinate within [lo, hi] (or [lo, hi) with `openEnd`). */
function rangeWithin(coordinate: Float64Array, lo: number, hi: number, openEnd: boolean, dim: string): IndexRange {
  let start = -1;
  let stop = -1;
  for (let i = 0; i < coordinate.length; i++) {
    const v = coordinate[i] as number;
    const inside = v >= lo && (openEnd ? v < hi : v <= hi);
    if (!inside) continue;
    if (start === -1) start = i;
    else if (stop !== i) throw new DeriveError(`"select.${dim}": the coordinate "${dim}" is not monotonic`);
    stop = i + 1;
  }
  if (start === -1) throw new DeriveError(`"select.${dim}" selects nothing`);
  return { start, stop };
}

/** The end of the period a date query names ('1950-02' → 1950-03-01), as a value of the coder. */
function queryEnd(date: CalendarDate, precision: number, coder: NonNullable<ReturnType<typeof timeCoder>>): number {
  if (precision === 1)
    return coder.value({ ...date, year: date.year + 1 === 0 && !coder.calendar.hasYearZero ? 1 : date.year + 1, month: 1, day: 1, hour: 0, minute: 0, second: 0 });
  if (precision === 2) {
    const index = date.year * 12 + date.month;
    return coder.value({ year: Math.floor(index / 12), month: (index % 12) + 1, day: 1, hour: 0, minute: 0, second: 0 });
  }
  const ms = [86_400_000, 3_600_000, 60_000, 1000][precision - 3] ?? 1000;
  const start = coder.value({ ...date, second: precision === 6 ? Math.floor(date.second) : date.second });
  return start + ms / coder.unitMs;
}

/**
 * The stored → physical conversion xarray applies, with its dtype rule (`_choose_float_dtype`):
 * packed with scale_factor and add_offset of one float type → that type (float64 for integers
 * wider than 16 bits); add_offset alone or of mixed types → float64; scale_factor alone → its
 * type; unpacked floats keep theirs. Attributes come from JSON, so a float32 attribute is
 * recognised by its value being exactly a float32 (as netCDF writes them).
 */
function unpacker(attrs: Readonly<Record<string, JsonValue>>, fill: number | bigint | undefined, dtype: string): { unpack: (raw: NumericArray) => Float64Array; float32: boolean } {
  const packing = packingOf(attrs, fill);
  const type = parseNumericDtype(dtype);
  const hasScale = Object.hasOwn(attrs, 'scale_factor');
  const hasOffset = Object.hasOwn(attrs, 'add_offset');
  const packed = hasScale || hasOffset;
  const isFloat32 = (value: number) => Math.fround(value) === value;
  let float32: boolean;
  if (!packed) float32 = type?.kind === 'f' ? type.size <= 4 : (type?.size ?? 8) <= 2;
  else if (hasScale && hasOffset) float32 = isFloat32(packing.scale) && isFloat32(packing.offset) && (type?.size ?? 8) <= 2;
  else if (hasOffset) float32 = false;
  else float32 = isFloat32(packing.scale);
  const missing = new Set(packing.missing.filter((m) => !Number.isNaN(m)));
  const { scale, offset } = packing;
  const scale32 = Math.fround(scale);
  const offset32 = Math.fround(offset);
  const [onlyMissing] = missing;
  const unpack = (raw: NumericArray): Float64Array => {
    const out = new Float64Array(raw.length);
    if (!packed && missing.size <= 1 && !(raw instanceof BigInt64Array) && !(raw instanceof BigUint64Array)) {
      // the common case (floats with one fill value): one comparison per value
      const values = raw as Float32Array | Float64Array;
      for (let i = 0; i < values.length; i++) {
        const stored = values[i] as number;
        out[i] = stored === onlyMissing || stored - stored !== 0 ? Number.NaN : stored;
      }
      return out;
    }
    for (let i = 0; i < raw.length; i++) {
      const stored = Number(raw[i]);
      if (!Number.isFinite(stored) || missing.has(stored)) out[i] = Number.NaN;
      else if (!packed) out[i] = stored;
      else if (float32) out[i] = Math.fround(Math.fround(stored * scale32) + offset32);
      else out[i] = stored * scale + offset;
    }
    return out;
  };
  return { unpack, float32 };
}

function appendCellMethod(attrs: Record<string, JsonValue>, method: string): void {
  const previous = typeof attrs.cell_methods === 'string' && attrs.cell_methods.trim() ? `${attrs.cell_methods.trim()} ` : '';
  attrs.cell_methods = `${previous}${method}`;
}

/** A chunk length along the first dimension keeping a chunk's intermediate values near TARGET_ELEMENTS. */
function firstChunk(length: number, elementsPerStep: number): number {
  if (length === 0) return 1;
  return Math.max(1, Math.min(length, Math.floor(TARGET_ELEMENTS / Math.max(1, elementsPerStep))));
}

function nullObject(from: Readonly<Record<string, JsonValue>>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = Object.create(null);
  for (const [key, value] of Object.entries(from)) out[key] = value;
  return out;
}

/**
 * The plan of a derived dataset from its source's metadata and coordinates. Throws DeriveError
 * for specs that do not fit the source (unknown variable or dimension, a time axis without CF
 * units, a selection of nothing, an intermediate too large).
 */
export async function planDerived(spec: DeriveSpec, metadata: ReadonlyMap<string, JsonValue>, values: DatasetValues): Promise<DerivePlan> {
  const schema = datasetSchema(metadata);
  const byName = new Map(schema.variables.map((v) => [v.name, v]));
  const dims = new Map(Object.entries(schema.dims));
  const coordinateOf = (dim: string) => {
    const v = byName.get(dim);
    return v && v.dims.length === 1 && v.dims[0] === dim ? v : undefined;
  };
  const bounds = boundsVariables(schema.variables);
  const numeric = (v: VariableSchema) => parseNumericDtype(v.dtype) !== undefined && arrayMetadata(metadata, v.name)?.order !== 'F';
  const dataVariables = schema.variables.filter((v) => !v.isCoordinate && !bounds.has(v.name) && numeric(v));
  let kept = dataVariables;
  if (spec.variables) {
    kept = spec.variables.map((name) => {
      const v = byName.get(name);
      if (!v || !numeric(v)) throw new DeriveError(`"variables": the source has no numeric variable "${name}"`);
      return v;
    });
  }
  if (kept.length === 0) throw new DeriveError('the source has no numeric data variable to derive');

  // select: index ranges by coordinate value
  const ranges = new Map<string, IndexRange>();
  for (const [dim, length] of dims) ranges.set(dim, { start: 0, stop: length });
  for (const { dim, from, to } of spec.select) {
    if (!dims.has(dim)) throw new DeriveError(`"select": the source has no dimension "${dim}"`);
    const coordinate = coordinateOf(dim);
    if (!coordinate) throw new DeriveError(`"select.${dim}": the dimension has no coordinate variable`);
    const coordValues = await numbersOf(values, dim);
    if (typeof from === 'number' && typeof to === 'number') {
      ranges.set(dim, rangeWithin(coordValues, Math.min(from, to), Math.max(from, to), false, dim));
      continue;
    }
    const coder = timeCoder(coordinate.attrs.units, coordinate.attrs.calendar);
    if (!coder) throw new DeriveError(`"select.${dim}": dates need a time coordinate with CF units and a known calendar`);
    const lo = parseDateQuery(String(from));
    const hi = parseDateQuery(String(to));
    if (!lo || !hi) throw new DeriveError(`"select.${dim}": ${JSON.stringify(lo ? to : from)} is not a date (YYYY[-MM[-DD[Thh[:mm[:ss]]]]])`);
    ranges.set(dim, rangeWithin(coordValues, coder.value(lo.date), queryEnd(hi.date, hi.precision, coder), true, dim));
  }

  // time bins
  const grouping = spec.resample ?? spec.groupby;
  let timeDim: string | undefined;
  let bins: TimeBin[] | undefined;
  let timeValues: Float64Array | undefined;
  if (grouping) {
    timeDim = grouping.dim;
    if (!dims.has(timeDim)) throw new DeriveError(`"${spec.resample ? 'resample' : 'groupby'}": the source has no dimension "${timeDim}"`);
    const coordinate = coordinateOf(timeDim);
    const coder = coordinate && timeCoder(coordinate.attrs.units, coordinate.attrs.calendar);
    if (!coder) throw new DeriveError(`"${timeDim}" needs a coordinate with CF time units and a known calendar to be binned`);
    const range = ranges.get(timeDim) as IndexRange;
    timeValues = (await numbersOf(values, timeDim)).subarray(range.start, range.stop);
    const made = spec.resample ? resampleBins(timeValues, coder, spec.resample.frequency) : groupBins(timeValues, coder, (spec.groupby as NonNullable<DeriveSpec['groupby']>).key);
    if (typeof made === 'string') throw new DeriveError(`"${timeDim}": ${made}`);
    // bins index the selected range: move their runs to source indices
    bins = made.map((bin) => ({ ...bin, runs: bin.runs.map(([a, b]) => [a + range.start, b + range.start] as const) }));
  }
  for (const dim of spec.over) if (!dims.has(dim)) throw new DeriveError(`"over": the source has no dimension "${dim}"`);
  let latitudeDim: string | undefined;
  let weights: Float64Array | undefined;
  if (spec.weights === 'area') {
    latitudeDim = spec.over.find((dim) => isLatitudeAxis(dim, coordinateOf(dim)));
    if (!latitudeDim) throw new DeriveError('"weights: area" needs a latitude dimension in "over"');
    const range = ranges.get(latitudeDim) as IndexRange;
    const lat = (await numbersOf(values, latitudeDim)).subarray(range.start, range.stop);
    // xarray: weights = cos(deg2rad(lat)), in the latitude's own precision
    const float32 = coordinateOf(latitudeDim)?.dtype.endsWith('f4') ?? false;
    weights = lat.map((v) => (float32 ? Math.fround(Math.cos(Math.fround(Math.fround(v) * Math.fround(Math.PI / 180)))) : Math.cos((v * Math.PI) / 180)));
  }

  const reduced = spec.reduce !== undefined;
  const gone = new Set(spec.over);
  const arrays: DerivedArray[] = [];
  const boundsDim = 'bnds';
  const climatology = spec.groupby !== undefined;
  const boundsName = timeDim ? (climatology ? 'climatology_bnds' : `${timeDim}_bnds`) : undefined;
  const lengthOf = (dim: string) =>
    dim === timeDim && bins
      ? bins.length
      : (() => {
          const r = ranges.get(dim) as IndexRange;
          return r.stop - r.start;
        })();

  // data variables
  for (const variable of kept) {
    const meta = arrayMetadata(metadata, variable.name) as ZarrArrayMetadata;
    const outDims = variable.dims.filter((d) => !gone.has(d));
    const outShape = outDims.map(lengthOf);
    const attrs = nullObject(variable.attrs);
    const varRanges = variable.dims.map((d) => ranges.get(d) as IndexRange);
    if (!reduced || (!variable.dims.some((d) => d === timeDim) && !variable.dims.some((d) => gone.has(d)))) {
      // select alone, or a variable without the binned or reduced dimensions (kept as xarray keeps it): a copy
      const perStep = outShape.slice(1).reduce((a, b) => a * b, 1);
      const chunks = outShape.length === 0 ? [] : [firstChunk(outShape[0] as number, perStep), ...outShape.slice(1)];
      arrays.push({
        name: variable.name,
        dims: outDims,
        meta: { ...meta, shape: outShape, chunks, dtype: nativeDtype(meta.dtype), compressor: null, filters: null, dimension_separator: '.' },
        attrs,
        recipe: { kind: 'copy', source: variable.name, ranges: varRanges },
      });
      continue;
    }
    const op = spec.reduce as DeriveReduce;
    const missingOver = spec.over.filter((d) => !variable.dims.includes(d));
    if (missingOver.length > 0) throw new DeriveError(`variable "${variable.name}" has no dimension "${missingOver[0]}" to reduce over`);
    const fill = parseFillValue(meta.fill_value, parseNumericDtype(meta.dtype) as NonNullable<ReturnType<typeof parseNumericDtype>>);
    const { unpack, float32 } = unpacker(variable.attrs, fill, String(meta.dtype));
    for (const name of PACKING_ATTRIBUTES) delete attrs[name];
    const method = CF_METHOD[op];
    const timeAxis = timeDim ? variable.dims.indexOf(timeDim) : -1;
    if (method && timeAxis >= 0 && timeDim) {
      if (spec.groupby) {
        const within = spec.groupby.key === 'hour' ? 'days' : 'years';
        appendCellMethod(attrs, `${timeDim}: ${method} within ${within} ${timeDim}: ${method} over ${within}`);
      } else appendCellMethod(attrs, `${timeDim}: ${method}`);
    }
    if (method && spec.over.length > 0)
      appendCellMethod(attrs, spec.weights === 'area' && spec.over.length === 2 && latitudeDim ? `area: ${method}` : `${spec.over.join(': ')}: ${method}`);
    if (op === 'count') delete attrs.units;
    if (typeof attrs.coordinates === 'string') {
      const remaining = attrs.coordinates.split(/\s+/).filter((name) => name && byName.get(name)?.dims.every((d) => !gone.has(d) && d !== timeDim));
      if (remaining.length > 0) attrs.coordinates = remaining.join(' ');
      else delete attrs.coordinates;
    }
    const over = spec.over.map((d) => variable.dims.indexOf(d));
    // intermediate elements per step of the first output dim
    const intermediate = variable.dims.map((d) => lengthOf(d));
    const perStep = intermediate.reduce((a, b) => a * b, 1) / Math.max(1, outShape[0] ?? 1);
    // source values read per step: a binned time axis reads a whole bin of source steps for each
    const binned = timeAxis >= 0 && bins && bins.length > 0 ? (timeValues?.length ?? 0) / bins.length : 1;
    const sourcePerStep = perStep * Math.max(1, binned);
    const chunks = outShape.length === 0 ? [] : [firstChunk(outShape[0] as number, sourcePerStep), ...outShape.slice(1)];
    const chunkIntermediate = outShape.length === 0 ? intermediate.reduce((a, b) => a * b, 1) : perStep * (chunks[0] as number);
    if (chunkIntermediate > MAX_ELEMENTS)
      throw new DeriveError(`variable "${variable.name}": one derived chunk would need ${chunkIntermediate} intermediate values (at most ${MAX_ELEMENTS}); select less`);
    const dtype = op === 'count' ? '<i8' : float32 ? '<f4' : '<f8';
    arrays.push({
      name: variable.name,
      dims: outDims,
      meta: { zarr_format: 2, shape: outShape, chunks, dtype, compressor: null, filters: null, fill_value: op === 'count' ? null : 'NaN', order: 'C', dimension_separator: '.' },
      attrs,
      recipe: {
        kind: 'reduce',
        source: variable.name,
        op,
        ranges: varRanges,
        ...(timeAxis >= 0 && bins ? { time: { axis: timeAxis, bins } } : {}),
        over,
        ...(weights && latitudeDim ? { weights: { axis: variable.dims.indexOf(latitudeDim), values: weights } } : {}),
        unpack,
      },
    });
  }

  // coordinates and other variables whose dimensions all survive
  const keptNames = new Set(kept.map((v) => v.name));
  for (const variable of schema.variables) {
    if (keptNames.has(variable.name) || dataVariables.includes(variable)) continue;
    if (variable.name === timeDim && bins && timeDim) {
      const attrs = nullObject(variable.attrs);
      delete attrs.bounds;
      delete attrs.climatology;
      attrs[climatology ? 'climatology' : 'bounds'] = boundsName as string;
      arrays.push(
        constantArray(
          timeDim,
          [timeDim],
          Float64Array.from(bins, (b) => b.value),
          attrs,
        ),
      );
      const boundsValues = new Float64Array(bins.length * 2);
      bins.forEach((b, i) => {
        boundsValues[2 * i] = b.bounds[0];
        boundsValues[2 * i + 1] = b.bounds[1];
      });
      arrays.push(constantArray(boundsName as string, [timeDim, boundsDim], boundsValues, nullObject({})));
      continue;
    }
    if (variable.name === boundsName) continue;
    if (variable.dims.some((d) => gone.has(d) || (d === timeDim && bins))) continue;
    if (!numeric(variable)) continue;
    const meta = arrayMetadata(metadata, variable.name) as ZarrArrayMetadata;
    const shape = variable.dims.map(lengthOf);
    arrays.push({
      name: variable.name,
      dims: variable.dims,
      meta: {
        ...meta,
        shape,
        chunks:
          shape.length === 0
            ? []
            : [
                firstChunk(
                  shape[0] as number,
                  shape.slice(1).reduce((a, b) => a * b, 1),
                ),
                ...shape.slice(1),
              ],
        dtype: nativeDtype(meta.dtype),
        compressor: null,
        filters: null,
        dimension_separator: '.',
      },
      attrs: nullObject(variable.attrs),
      recipe: { kind: 'copy', source: variable.name, ranges: variable.dims.map((d) => ranges.get(d) as IndexRange) },
    });
  }
  return { arrays, attrs: nullObject(schema.attrs) };
}

function constantArray(name: string, dims: string[], values: Float64Array, attrs: Record<string, JsonValue>): DerivedArray {
  const shape = dims.length === 1 ? [values.length] : [values.length / 2, 2];
  return {
    name,
    dims,
    meta: {
      zarr_format: 2,
      shape,
      chunks: shape.map((n) => Math.max(1, n)),
      dtype: '<f8',
      compressor: null,
      filters: null,
      fill_value: 'NaN',
      order: 'C',
      dimension_separator: '.',
    },
    attrs,
    recipe: { kind: 'constant', values },
  };
}

/** Values are read in native (little-endian) order: advertise that. */
function nativeDtype(dtype: string | JsonValue[]): string | JsonValue[] {
  return typeof dtype === 'string' && dtype.startsWith('>') ? `<${dtype.slice(1)}` : dtype;
}
