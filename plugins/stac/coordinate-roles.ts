import type { VariableSchema } from '../../catalog/dataset-schema.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { isCfTimeUnits } from './cf-time.js';

/** What a coordinate variable measures, from its CF attributes (and, last, its name). */
export type CoordinateRole = 'latitude' | 'longitude' | 'time' | 'vertical' | 'projection_x' | 'projection_y' | 'other';

const LATITUDE_UNITS = new Set(['degrees_north', 'degree_north', 'degree_n', 'degrees_n', 'degreen', 'degreesn']);
const LONGITUDE_UNITS = new Set(['degrees_east', 'degree_east', 'degree_e', 'degrees_e', 'degreee', 'degreese']);
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

export function text(attrs: Readonly<Record<string, JsonValue>>, name: string): string | undefined {
  const value = Object.hasOwn(attrs, name) ? attrs[name] : undefined;
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function roleOf(variable: VariableSchema): CoordinateRole {
  const standardName = text(variable.attrs, 'standard_name')?.toLowerCase();
  const units = text(variable.attrs, 'units');
  const lowerUnits = units?.toLowerCase().replace(/\s+/g, '');
  const axis = text(variable.attrs, 'axis')?.toUpperCase();
  const name = variable.name.toLowerCase();
  if (standardName === 'latitude' || (lowerUnits !== undefined && LATITUDE_UNITS.has(lowerUnits))) return 'latitude';
  if (standardName === 'longitude' || (lowerUnits !== undefined && LONGITUDE_UNITS.has(lowerUnits))) return 'longitude';
  if (isCfTimeUnits(units)) return 'time';
  if (standardName === 'projection_x_coordinate') return 'projection_x';
  if (standardName === 'projection_y_coordinate') return 'projection_y';
  if (axis === 'Z' || text(variable.attrs, 'positive') !== undefined) return 'vertical';
  if (standardName !== undefined && VERTICAL_STANDARD_NAMES.has(standardName)) return 'vertical';
  if (lowerUnits !== undefined && PRESSURE_UNITS.has(lowerUnits) && variable.dims.length === 1) return 'vertical';
  const degrees = lowerUnits === undefined || lowerUnits.startsWith('degree');
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
