import type { DatasetSchema, VariableSchema } from '../../catalog/dataset-schema.js';

/** The roles of a variable's dimensions in a quick-look plot. */
export interface PlotAxes {
  /** Rows of the image (latitude, or the second-to-last dimension). */
  readonly y: string;
  /** Columns of the image (longitude, or the last dimension). */
  readonly x: string;
  /** The time dimension, when there is one. */
  readonly time?: string;
  /** Further dimensions; the first is the one `level` selects, the others are taken at index 0. */
  readonly others: readonly string[];
  /** y is latitude and x longitude. */
  readonly geographic: boolean;
}

const DEGREES_NORTH = /^degrees?_?n(orth)?$/i;
const DEGREES_EAST = /^degrees?_?e(ast)?$/i;

function attr(variable: VariableSchema | undefined, name: string): string {
  const value = variable?.attrs[name];
  return typeof value === 'string' ? value : '';
}

function isLatitude(dim: string, coordinate: VariableSchema | undefined): boolean {
  const standardName = attr(coordinate, 'standard_name');
  return (
    standardName === 'latitude' ||
    standardName === 'grid_latitude' ||
    DEGREES_NORTH.test(attr(coordinate, 'units')) ||
    attr(coordinate, 'axis').toUpperCase() === 'Y' ||
    /^(lat|latitude|rlat|y)$/i.test(dim)
  );
}

function isLongitude(dim: string, coordinate: VariableSchema | undefined): boolean {
  const standardName = attr(coordinate, 'standard_name');
  return (
    standardName === 'longitude' ||
    standardName === 'grid_longitude' ||
    DEGREES_EAST.test(attr(coordinate, 'units')) ||
    attr(coordinate, 'axis').toUpperCase() === 'X' ||
    /^(lon|long|longitude|rlon|x)$/i.test(dim)
  );
}

export function isTime(dim: string, coordinate: VariableSchema | undefined): boolean {
  return (
    attr(coordinate, 'standard_name') === 'time' ||
    attr(coordinate, 'axis').toUpperCase() === 'T' ||
    /\bsince\b/i.test(attr(coordinate, 'units')) ||
    /^(time|t)$/i.test(dim)
  );
}

/** The 1-D coordinate variable of a dimension (named like it), if the dataset has one. */
export function coordinateOf(schema: DatasetSchema, dim: string): VariableSchema | undefined {
  return schema.variables.find((v) => v.name === dim && v.dims.length === 1 && v.dims[0] === dim);
}

/** How a variable of two or more dimensions is plotted, or undefined when it has fewer. */
export function plotAxes(schema: DatasetSchema, variable: VariableSchema): PlotAxes | undefined {
  const dims = variable.dims;
  if (dims.length < 2) return undefined;
  const reversed = [...dims].reverse();
  const lat = reversed.find((dim) => isLatitude(dim, coordinateOf(schema, dim)));
  const lon = reversed.find((dim) => dim !== lat && isLongitude(dim, coordinateOf(schema, dim)));
  const geographic = lat !== undefined && lon !== undefined;
  const x = geographic ? lon : (dims[dims.length - 1] as string);
  const y = geographic ? lat : (dims[dims.length - 2] as string);
  const rest = dims.filter((dim) => dim !== x && dim !== y);
  const time = rest.find((dim) => isTime(dim, coordinateOf(schema, dim)));
  return { x, y, ...(time ? { time } : {}), others: rest.filter((dim) => dim !== time), geographic };
}

/** The first data variable with latitude and longitude dimensions (what the dataset page shows). */
export function firstMapVariable(schema: DatasetSchema): VariableSchema | undefined {
  return schema.variables.find((v) => !v.isCoordinate && /^[<>|=]?[fiu]\d$/.test(v.dtype) && plotAxes(schema, v)?.geographic === true);
}
