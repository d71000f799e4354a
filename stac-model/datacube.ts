import type { DatasetSchema, VariableSchema } from '../catalog/dataset-schema.js';
import { attribute, text } from '../cf/attributes.js';
import { boundsVariables, type CoordinateRole, roleOf } from '../cf/axes.js';
import { isoDuration, timeCoder } from '../cf/time-units.js';
import type { DatasetValues } from '../kerchunk/array-values.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { type CoordinateSummary, summarizeCoordinate } from './coordinate-values.js';
import type { Bbox } from './geometry.js';
import { longitudeSpan } from './longitude.js';
import { setOwn } from './stac-types.js';

/** What the datacube extension says about a dataset, and the extents an Item needs. */
export interface DatacubeDescription {
  /** `cube:dimensions` */
  readonly dimensions: Record<string, JsonValue>;
  /** `cube:variables` */
  readonly variables: Record<string, JsonValue>;
  /** From the latitude/longitude coordinates (or ACDD `geospatial_*` attributes). */
  readonly bbox?: Bbox;
  /** RFC 3339, from the time coordinates (or ACDD `time_coverage_*` attributes). */
  readonly start?: string;
  readonly end?: string;
  /** Coordinates that could not be read (the description leaves their extents out). */
  readonly problems: readonly string[];
}

/** Vertical and other dimensions list their values when there are at most this many. */
const MAX_LISTED_VALUES = 64;

/**
 * The datacube description of a dataset: one `cube:dimensions` entry per dimension, with extents
 * read from its coordinate values (time decoded with CF units and calendar), and one
 * `cube:variables` entry per variable that is not a dimension's own coordinate.
 */
export async function describeDatacube(schema: DatasetSchema, reader: DatasetValues, signal?: AbortSignal): Promise<DatacubeDescription> {
  const problems: string[] = [];
  // Each coordinate is read once (a failure too: it is reported once and not retried here).
  const summaries = new Map<string, CoordinateSummary | undefined>();
  const summarize = async (variable: VariableSchema): Promise<CoordinateSummary | undefined> => {
    if (summaries.has(variable.name)) return summaries.get(variable.name);
    let summary: CoordinateSummary | undefined;
    try {
      summary = await summarizeCoordinate(reader, variable, signal);
    } catch (error) {
      problems.push(`${variable.name}: ${(error as Error).message}`);
    }
    summaries.set(variable.name, summary);
    return summary;
  };
  const byName = new Map(schema.variables.map((v) => [v.name, v]));
  const dimensionCoordinate = (dim: string) => {
    const variable = byName.get(dim);
    return variable && variable.dims.length === 1 && variable.dims[0] === dim ? variable : undefined;
  };

  // Dimension and variable names come from files: they are keys of own data properties (setOwn),
  // so a variable named `__proto__` is described like any other.
  const dimensions: Record<string, JsonValue> = {};
  const times: Array<{ start: string; end: string }> = [];
  for (const [dim, length] of dimensionLengths(schema)) {
    const coordinate = dimensionCoordinate(dim);
    const summary = coordinate ? await summarize(coordinate) : undefined;
    const described = coordinate ? describeDimension(coordinate, roleOf(coordinate), summary, schema) : undefined;
    setOwn(dimensions, dim, described?.entry ?? indexDimension(length));
    if (described?.time) times.push(described.time);
  }

  const bounds = boundsVariables(schema.variables);
  const variables: Record<string, JsonValue> = {};
  for (const variable of schema.variables) {
    if (dimensionCoordinate(variable.name) === variable) continue;
    const units = text(variable.attrs, 'units');
    const description = text(variable.attrs, 'long_name') ?? text(variable.attrs, 'standard_name');
    setOwn(variables, variable.name, {
      dimensions: [...variable.dims],
      type: variable.isCoordinate || bounds.has(variable.name) ? 'auxiliary' : 'data',
      ...(description ? { description } : {}),
      ...(units ? { unit: units } : {}),
    });
  }

  const bbox = (await bboxFromCoordinates(schema, summarize, dimensionCoordinate)) ?? bboxFromAttributes(schema.attrs);
  const temporal = times.length > 0 ? { start: minOf(times.map((t) => t.start)), end: maxOf(times.map((t) => t.end)) } : timeFromAttributes(schema.attrs);
  return { dimensions, variables, ...(bbox ? { bbox } : {}), ...(temporal ?? {}), problems };
}

/**
 * Every dimension with its length: the schema's own `dims` entries in their order, then any
 * dimension only the variables name (a name an assignment to a plain object cannot hold as a key,
 * such as `__proto__`), with the length of the first variable that has it.
 */
function dimensionLengths(schema: DatasetSchema): Map<string, number> {
  const lengths = new Map<string, number>();
  for (const dim of Object.keys(schema.dims)) lengths.set(dim, schema.dims[dim] as number);
  for (const variable of schema.variables) {
    variable.dims.forEach((dim, i) => {
      const length = variable.shape[i];
      if (!lengths.has(dim) && length !== undefined) lengths.set(dim, length);
    });
  }
  return lengths;
}

interface DescribedDimension {
  readonly entry: JsonValue;
  readonly time?: { start: string; end: string };
}

function describeDimension(coordinate: VariableSchema, role: CoordinateRole, summary: CoordinateSummary | undefined, schema: DatasetSchema): DescribedDimension | undefined {
  if (!summary) return undefined;
  const description = text(coordinate.attrs, 'long_name') ?? text(coordinate.attrs, 'standard_name');
  const unit = text(coordinate.attrs, 'units');
  const extent = [summary.min, summary.max];
  const step = summary.step;
  const values = summary.values.length <= MAX_LISTED_VALUES ? Array.from(summary.values) : undefined;
  switch (role) {
    case 'time': {
      const decoder = unit ? timeCoder(unit, text(coordinate.attrs, 'calendar')) : undefined;
      const start = decoder?.iso(summary.min);
      const end = decoder?.iso(summary.max);
      if (!decoder || !start || !end) return { entry: compact({ type: 'temporal', extent: [null, null], description }) };
      const duration = step !== undefined && step > 0 ? isoDuration(step, decoder.unit) : undefined;
      return { entry: compact({ type: 'temporal', extent: [start, end], step: duration, description }), time: { start, end } };
    }
    case 'latitude':
    case 'longitude':
      return { entry: compact({ type: 'spatial', axis: role === 'latitude' ? 'y' : 'x', extent, step, reference_system: 4326, description }) };
    case 'projection_x':
    case 'projection_y': {
      const wkt = gridMappingWkt(coordinate.name, schema);
      const axis = role === 'projection_x' ? 'x' : 'y';
      if (wkt) return { entry: compact({ type: 'spatial', axis, extent, step, reference_system: wkt, description }) };
      const fallback = `projected ${axis} coordinate (coordinate reference system not given)`;
      return { entry: compact({ type: `projection_${axis}`, extent, step, unit, description: description ?? fallback }) };
    }
    case 'vertical':
      return { entry: compact({ type: 'spatial', axis: 'z', extent, values, step, unit, description }) };
    default:
      return { entry: compact({ type: 'other', extent, values, step, unit, description }) };
  }
}

/** An object without its undefined fields. */
function compact(fields: Record<string, JsonValue | undefined>): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

/** A dimension without coordinate values: described by its index range. */
function indexDimension(length: number): JsonValue {
  return { type: 'other', extent: [0, Math.max(0, length - 1)], step: 1, description: 'index (no coordinate variable)' };
}

/** The `crs_wkt` (or GDAL's `spatial_ref`) of the grid mapping of a variable on this coordinate's dimension. */
function gridMappingWkt(dim: string, schema: DatasetSchema): string | undefined {
  for (const variable of schema.variables) {
    if (!variable.dims.includes(dim)) continue;
    const mapping = text(variable.attrs, 'grid_mapping');
    const mapped = mapping ? schema.variables.find((v) => v.name === mapping.split(/[:\s]/)[0]) : undefined;
    const wkt = mapped ? (text(mapped.attrs, 'crs_wkt') ?? text(mapped.attrs, 'spatial_ref')) : undefined;
    if (wkt) return wkt;
  }
  return undefined;
}

async function bboxFromCoordinates(
  schema: DatasetSchema,
  summarize: (variable: VariableSchema) => Promise<CoordinateSummary | undefined>,
  dimensionCoordinate: (dim: string) => VariableSchema | undefined,
): Promise<Bbox | undefined> {
  const pick = (role: CoordinateRole) => {
    const candidates = schema.variables.filter((v) => v.dims.length > 0 && roleOf(v) === role);
    return candidates.find((v) => dimensionCoordinate(v.name) === v) ?? candidates[0];
  };
  const latitude = pick('latitude');
  const longitude = pick('longitude');
  if (!latitude || !longitude) return undefined;
  const lat = await summarize(latitude);
  const lon = await summarize(longitude);
  const span = lon ? longitudeSpan(lon.values) : undefined;
  if (!lat || !span) return undefined;
  const clamp = (value: number) => Math.max(-90, Math.min(90, value));
  return [span.west, clamp(lat.min), span.east, clamp(lat.max)];
}

/** ACDD `geospatial_lat_min` ... `geospatial_lon_max`, when a dataset has no lat/lon coordinates. */
function bboxFromAttributes(attrs: Readonly<Record<string, JsonValue>>): Bbox | undefined {
  const number = (name: string) => {
    const value = attribute(attrs, name);
    const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  const south = number('geospatial_lat_min');
  const north = number('geospatial_lat_max');
  const west = number('geospatial_lon_min');
  const east = number('geospatial_lon_max');
  if (south === undefined || north === undefined || west === undefined || east === undefined) return undefined;
  const span = east - west >= 360 ? { west: -180, east: 180 } : longitudeSpan([west, east]);
  if (!span) return undefined;
  return [span.west, Math.max(-90, south), span.east, Math.min(90, north)];
}

/** ACDD `time_coverage_start` / `time_coverage_end`. */
function timeFromAttributes(attrs: Readonly<Record<string, JsonValue>>): { start: string; end: string } | undefined {
  const parse = (name: string) => {
    const value = attribute(attrs, name);
    if (typeof value !== 'string') return undefined;
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : undefined;
  };
  const start = parse('time_coverage_start');
  const end = parse('time_coverage_end') ?? start;
  return start && end ? { start, end } : undefined;
}

const minOf = (values: string[]) => values.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
const maxOf = (values: string[]) => values.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
