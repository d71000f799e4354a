import type { DatasetSchema, VariableSchema } from '../catalog/dataset-schema.js';
import { type Attributes, text } from './attributes.js';
import { isCfTimeUnits } from './time-units.js';

/**
 * What coordinates measure, from their CF attributes (`standard_name`, `units`, `axis`,
 * `positive`) and, last, their names. Two questions, one set of rules:
 *
 * - `roleOf`: what a coordinate variable is, strictly (STAC takes a bbox in WGS 84 from
 *   `latitude`/`longitude`, so rotated-pole `grid_latitude` or a projected `y` is not latitude).
 * - `plotAxes`: which dimensions of a variable are the rows and columns of a map, leniently
 *   (also `grid_latitude`, `axis: Y`, a dimension named `y` or `rlat`, without a coordinate variable).
 *
 * Attributes are read as own properties (names come from files).
 */

/** What a coordinate variable measures. */
export type CoordinateRole = 'latitude' | 'longitude' | 'time' | 'vertical' | 'projection_x' | 'projection_y' | 'other';

const VERTICAL_STANDARD_NAMES = new Set([
  'air_pressure',
  'height',
  'depth',
  'altitude',
  'height_above_mean_sea_level',
  'model_level_number',
  'atmosphere_hybrid_sigma_pressure_coordinate',
  'atmosphere_hybrid_height_coordinate',
  'atmosphere_sigma_coordinate',
  'atmosphere_ln_pressure_coordinate',
  'ocean_sigma_coordinate',
  'ocean_s_coordinate',
  'ocean_double_sigma_coordinate',
]);
const PRESSURE_UNITS = new Set(['pa', 'hpa', 'kpa', 'mbar', 'millibar', 'bar', 'atm']);

/** `standard_name`, lower-case. */
const standardNameOf = (attrs: Attributes | undefined) => text(attrs, 'standard_name')?.toLowerCase();
/** `units`, lower-case without whitespace ('degrees_north'). */
const unitsOf = (attrs: Attributes | undefined) => text(attrs, 'units')?.toLowerCase().replace(/\s+/g, '');
/** `axis`, upper-case. */
const axisOf = (attrs: Attributes | undefined) => text(attrs, 'axis')?.toUpperCase();

/** udunits spellings of latitude units: degrees_north, degree_N, degreesN, ... */
export const isDegreesNorth = (units: string | undefined) => units !== undefined && /^degrees?_?n(orth)?$/.test(units);
/** udunits spellings of longitude units: degrees_east, degree_E, degreesE, ... */
export const isDegreesEast = (units: string | undefined) => units !== undefined && /^degrees?_?e(ast)?$/.test(units);

/** The role of a coordinate variable. */
export function roleOf(variable: VariableSchema): CoordinateRole {
  const standardName = standardNameOf(variable.attrs);
  const units = unitsOf(variable.attrs);
  const axis = axisOf(variable.attrs);
  const name = variable.name.toLowerCase();
  if (standardName === 'latitude' || isDegreesNorth(units)) return 'latitude';
  if (standardName === 'longitude' || isDegreesEast(units)) return 'longitude';
  if (isCfTimeUnits(text(variable.attrs, 'units'))) return 'time';
  if (standardName === 'projection_x_coordinate') return 'projection_x';
  if (standardName === 'projection_y_coordinate') return 'projection_y';
  if (axis === 'Z' || text(variable.attrs, 'positive') !== undefined) return 'vertical';
  if (standardName !== undefined && VERTICAL_STANDARD_NAMES.has(standardName)) return 'vertical';
  if (units !== undefined && PRESSURE_UNITS.has(units) && variable.dims.length === 1) return 'vertical';
  const degrees = units === undefined || units.startsWith('degree');
  if (degrees && (name === 'lat' || name === 'latitude' || name === 'nav_lat')) return 'latitude';
  if (degrees && (name === 'lon' || name === 'longitude' || name === 'nav_lon')) return 'longitude';
  return 'other';
}

/** Names of variables some other variable names as its `bounds` or `climatology`. */
export function boundsVariables(variables: readonly VariableSchema[]): Set<string> {
  const names = new Set<string>();
  for (const variable of variables) {
    for (const attr of ['bounds', 'climatology']) {
      const name = text(variable.attrs, attr);
      if (name) names.add(name);
    }
  }
  return names;
}

/** The rows of a map: latitude (also rotated-pole), `axis: Y`, or a dimension named so. */
export function isLatitudeAxis(dim: string, coordinate: VariableSchema | undefined): boolean {
  const standardName = standardNameOf(coordinate?.attrs);
  return (
    standardName === 'latitude' ||
    standardName === 'grid_latitude' ||
    isDegreesNorth(unitsOf(coordinate?.attrs)) ||
    axisOf(coordinate?.attrs) === 'Y' ||
    /^(lat|latitude|rlat|y)$/i.test(dim)
  );
}

/** The columns of a map: longitude (also rotated-pole), `axis: X`, or a dimension named so. */
export function isLongitudeAxis(dim: string, coordinate: VariableSchema | undefined): boolean {
  const standardName = standardNameOf(coordinate?.attrs);
  return (
    standardName === 'longitude' ||
    standardName === 'grid_longitude' ||
    isDegreesEast(unitsOf(coordinate?.attrs)) ||
    axisOf(coordinate?.attrs) === 'X' ||
    /^(lon|long|longitude|rlon|x)$/i.test(dim)
  );
}

/** A time dimension: `standard_name: time`, `axis: T`, units "... since ...", or named `time` / `t`. */
export function isTimeAxis(dim: string, coordinate: VariableSchema | undefined): boolean {
  return standardNameOf(coordinate?.attrs) === 'time' || axisOf(coordinate?.attrs) === 'T' || /\bsince\b/i.test(text(coordinate?.attrs, 'units') ?? '') || /^(time|t)$/i.test(dim);
}

/** The 1-D coordinate variable of a dimension (named like it), if the dataset has one. */
export function coordinateOf(schema: DatasetSchema, dim: string): VariableSchema | undefined {
  return schema.variables.find((v) => v.name === dim && v.dims.length === 1 && v.dims[0] === dim);
}

/** The roles of a variable's dimensions in a quick-look map. */
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

/** How a variable of two or more dimensions is drawn as a map, or undefined when it has fewer. */
export function plotAxes(schema: DatasetSchema, variable: VariableSchema): PlotAxes | undefined {
  const dims = variable.dims;
  if (dims.length < 2) return undefined;
  const reversed = [...dims].reverse();
  const lat = reversed.find((dim) => isLatitudeAxis(dim, coordinateOf(schema, dim)));
  const lon = reversed.find((dim) => dim !== lat && isLongitudeAxis(dim, coordinateOf(schema, dim)));
  const geographic = lat !== undefined && lon !== undefined;
  const x = geographic ? lon : (dims[dims.length - 1] as string);
  const y = geographic ? lat : (dims[dims.length - 2] as string);
  const rest = dims.filter((dim) => dim !== x && dim !== y);
  const time = rest.find((dim) => isTimeAxis(dim, coordinateOf(schema, dim)));
  return { x, y, ...(time ? { time } : {}), others: rest.filter((dim) => dim !== time), geographic };
}

/** The first numeric data variable with map (latitude and longitude) dimensions: what a dataset page shows. */
export function firstMapVariable(schema: DatasetSchema): VariableSchema | undefined {
  return schema.variables.find((v) => !v.isCoordinate && /^[<>|=]?[fiu]\d$/.test(v.dtype) && plotAxes(schema, v)?.geographic === true);
}
