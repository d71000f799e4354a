import type { DatasetSchema, VariableSchema } from '../../catalog/dataset-schema.js';
import { attribute, stringAttribute } from '../../cf/attributes.js';
import { coordinateOf, type PlotAxes, plotAxes } from '../../cf/axes.js';
import type { CalendarDate } from '../../cf/calendar.js';
import { compareToQuery, type DateQuery, dateMatches, formatDate } from '../../cf/date-query.js';
import { packingOf, unpack } from '../../cf/packing.js';
import { timeCoder } from '../../cf/time-units.js';
import type { ArrayValues, DatasetValues, Slice } from '../../kerchunk/array-values.js';
import { badRequest, notFound } from '../../server/http/problem.js';
import type { PlotParams } from './plot-params.js';
import type { Field } from './render.js';

/** What a plot reads: the dataset's schema and its decoded arrays. */
export interface PlotSource {
  readonly schema: DatasetSchema;
  readonly values: DatasetValues;
}

/** A plot request resolved against the dataset: which variable, which index along every dimension. */
export interface PlotSlice {
  readonly variable: VariableSchema;
  readonly array: ArrayValues;
  readonly axes: PlotAxes;
  /** Index of every dimension other than x and y. */
  readonly indices: Readonly<Record<string, number>>;
  /** '2001-03-05' (or 'time 3' when the time coordinate is not decodable). */
  readonly timeLabel?: string;
  readonly levelLabel?: string;
}

/** Largest number of grid cells along either side of a plot; larger grids are read with a stride. */
export const MAX_CELLS = 1024;

async function readOne(array: ArrayValues, index: number, signal?: AbortSignal): Promise<number> {
  const raw = await array.read([{ start: index, stop: index + 1, step: 1 }], signal);
  return Number(raw[0]);
}

function coordinateArray(source: PlotSource, dim: string): { schema: VariableSchema; array: ArrayValues } | undefined {
  const schema = coordinateOf(source.schema, dim);
  const array = schema ? source.values.array(dim) : undefined;
  return schema && array && array.shape.length === 1 ? { schema, array } : undefined;
}

function decoderOf(coordinate: VariableSchema) {
  return timeCoder(attribute(coordinate.attrs, 'units'), attribute(coordinate.attrs, 'calendar'));
}

/**
 * The first time step in the period a query names, by binary search: CF coordinate variables are
 * strictly monotonic, so a plot reads about log2(steps) values of the time axis, never all of it.
 * A decreasing axis is searched the other way round.
 */
export async function findDate(steps: number, at: (index: number) => Promise<CalendarDate>, query: DateQuery): Promise<{ index: number; date: CalendarDate } | undefined> {
  if (steps === 0) return undefined;
  const descending = steps > 1 && compareToQuery(await at(0), query) > compareToQuery(await at(steps - 1), query);
  // first index whose date is not before the queried period (after it, for a decreasing axis)
  let low = 0;
  let high = steps;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const order = compareToQuery(await at(middle), query);
    if (descending ? order > 0 : order < 0) low = middle + 1;
    else high = middle;
  }
  if (low >= steps) return undefined;
  const date = await at(low);
  return dateMatches(date, query) ? { index: low, date } : undefined;
}

/** Finds the variable and the time/level indices a request names; 404 / 400 problems otherwise. */
export async function resolveSlice(source: PlotSource, name: string, params: PlotParams, signal?: AbortSignal): Promise<PlotSlice> {
  const variable = source.schema.variables.find((v) => v.name === name);
  if (!variable) throw notFound(`no variable "${name}"`);
  const axes = plotAxes(source.schema, variable);
  if (!axes) throw badRequest(`"${name}" has ${variable.dims.length} dimension(s); a plot needs two or more`);
  const array = source.values.array(name);
  if (!array) throw badRequest(`"${name}" is not numeric`);
  const sizeOf = (dim: string) => variable.shape[variable.dims.indexOf(dim)] as number;
  const indices: Record<string, number> = {};
  for (const dim of axes.others) indices[dim] = 0;

  let timeLabel: string | undefined;
  if (axes.time) {
    const steps = sizeOf(axes.time);
    const coordinate = coordinateArray(source, axes.time);
    const decoder = coordinate ? decoderOf(coordinate.schema) : undefined;
    let index = 0;
    let date: CalendarDate | undefined;
    if (params.time && 'date' in params.time) {
      if (!coordinate || !decoder) throw badRequest(`the time coordinate "${axes.time}" cannot be decoded; give "time" as an index`);
      const query = params.time.date;
      const at = async (i: number): Promise<CalendarDate> => {
        const date = decoder.date(await readOne(coordinate.array, i, signal));
        if (!date) throw badRequest(`the time coordinate "${axes.time}" has a value at index ${i} that is not a time; give "time" as an index`);
        return date;
      };
      const found = await findDate(steps, at, query);
      if (!found) {
        const range = steps > 0 ? ` (the data run from ${formatDate(await at(0))} to ${formatDate(await at(steps - 1))})` : '';
        throw badRequest(`no time step at "${params.time.text}"${range}`);
      }
      ({ index, date } = found);
    } else {
      index = params.time?.index ?? 0;
      if (index >= steps) throw badRequest(`"time" index ${index} is out of range: ${axes.time} has ${steps} steps`);
      if (coordinate && decoder) date = decoder.date(await readOne(coordinate.array, index, signal));
    }
    indices[axes.time] = index;
    timeLabel = date ? formatDate(date) : `${axes.time} ${index}`;
  } else if (params.time) {
    throw badRequest(`"${name}" has no time dimension`);
  }

  let levelLabel: string | undefined;
  const levelDim = axes.others[0];
  if (levelDim) {
    const index = params.level ?? 0;
    const levels = sizeOf(levelDim);
    if (index >= levels) throw badRequest(`"level" index ${index} is out of range: ${levelDim} has ${levels} levels`);
    indices[levelDim] = index;
    const coordinate = coordinateArray(source, levelDim);
    if (coordinate) {
      const value = await readOne(coordinate.array, index, signal);
      const units = stringAttribute(coordinate.schema.attrs, 'units');
      levelLabel = `${levelDim} ${value}${units !== undefined ? ` ${units}` : ''}`;
    } else levelLabel = `${levelDim} ${index}`;
  } else if (params.level !== undefined) {
    throw badRequest(`"${name}" has no vertical or other extra dimension for "level"`);
  }
  return { variable, array, axes, indices, ...(timeLabel ? { timeLabel } : {}), ...(levelLabel ? { levelLabel } : {}) };
}

/** Whether a 1-D coordinate increases from its first to its last value (undefined: no coordinate). */
async function ascending(source: PlotSource, dim: string, signal?: AbortSignal): Promise<boolean | undefined> {
  const coordinate = coordinateArray(source, dim);
  const n = coordinate?.array.shape[0] ?? 0;
  if (!coordinate || n < 2) return undefined;
  const first = await readOne(coordinate.array, 0, signal);
  const last = await readOne(coordinate.array, n - 1, signal);
  return last > first;
}

/**
 * Reads the 2-D slice as physical values, north up (rows flipped when y ascends) and east right,
 * every `stride`-th cell when the grid is larger than MAX_CELLS.
 */
export async function readField(source: PlotSource, slice: PlotSlice, signal?: AbortSignal): Promise<Field> {
  const { variable, array, axes } = slice;
  const ix = variable.dims.indexOf(axes.x);
  const iy = variable.dims.indexOf(axes.y);
  const nx = variable.shape[ix] as number;
  const ny = variable.shape[iy] as number;
  if (nx === 0 || ny === 0) throw badRequest(`"${variable.name}" is empty`);
  const stride = Math.max(1, Math.ceil(nx / MAX_CELLS), Math.ceil(ny / MAX_CELLS));
  const selection: Slice[] = variable.dims.map((dim, i) =>
    i === ix || i === iy ? { start: 0, stop: variable.shape[i] as number, step: stride } : { start: slice.indices[dim] ?? 0, stop: (slice.indices[dim] ?? 0) + 1, step: 1 },
  );
  const raw = await array.read(selection, signal);
  const values = unpack(raw, packingOf(variable.attrs, array.fillValue));
  const width = Math.ceil(nx / stride);
  const height = Math.ceil(ny / stride);
  const flipRows = (await ascending(source, axes.y, signal)) === true;
  const flipCols = (await ascending(source, axes.x, signal)) === false;
  const out = new Float64Array(width * height);
  const xFirst = ix < iy; // stored as (x, y): transpose
  for (let row = 0; row < height; row++) {
    const r = flipRows ? height - 1 - row : row;
    for (let col = 0; col < width; col++) {
      const c = flipCols ? width - 1 - col : col;
      out[row * width + col] = values[xFirst ? c * height + r : r * width + c] as number;
    }
  }
  const field: Field = { width, height, values: out };
  if (!axes.geographic) return field;
  const [x, y] = await Promise.all([axisValues(source, axes.x, stride, flipCols, signal), axisValues(source, axes.y, stride, flipRows, signal)]);
  return x && y && x.length === width && y.length === height ? { ...field, x, y } : field;
}

/** A 1-D coordinate read every `stride`-th value (reversed when the image is), or undefined. */
async function axisValues(source: PlotSource, dim: string, stride: number, reverse: boolean, signal?: AbortSignal): Promise<Float64Array | undefined> {
  const coordinate = coordinateArray(source, dim);
  if (!coordinate) return undefined;
  const n = coordinate.array.shape[0] as number;
  const raw = await coordinate.array.read([{ start: 0, stop: n, step: stride }], signal);
  const values = unpack(raw, packingOf(coordinate.schema.attrs, coordinate.array.fillValue));
  return reverse ? values.reverse() : values;
}
