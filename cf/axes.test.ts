import { describe, expect, it } from 'vitest';
import { datasetSchema } from '../catalog/dataset-schema.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { boundsVariables, firstMapVariable, plotAxes, roleOf } from './axes.js';

const zarray = (shape: number[]) => ({ zarr_format: 2, shape, chunks: shape, dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' });
function schemaOf(arrays: Record<string, { dims: string[]; attrs?: Record<string, JsonValue> }>) {
  const metadata = new Map<string, JsonValue>([['.zgroup', { zarr_format: 2 }]]);
  for (const [name, { dims, attrs = {} }] of Object.entries(arrays)) {
    metadata.set(`${name}/.zarray`, zarray(dims.map(() => 2)));
    metadata.set(`${name}/.zattrs`, { _ARRAY_DIMENSIONS: dims, ...attrs });
  }
  return datasetSchema(metadata);
}

describe('plot axes', () => {
  it('finds latitude, longitude, time and a level by CF attributes', () => {
    const schema = schemaOf({
      ta: { dims: ['t', 'plev', 'rlat', 'x1'] },
      t: { dims: ['t'], attrs: { units: 'days since 2000-01-01' } },
      rlat: { dims: ['rlat'], attrs: { standard_name: 'latitude' } },
      x1: { dims: ['x1'], attrs: { units: 'degrees_east' } },
      plev: { dims: ['plev'], attrs: { units: 'Pa' } },
    });
    const ta = schema.variables.find((v) => v.name === 'ta')!;
    expect(plotAxes(schema, ta)).toEqual({ x: 'x1', y: 'rlat', time: 't', others: ['plev'], geographic: true });
    expect(firstMapVariable(schema)?.name).toBe('ta');
  });
  it('falls back to the last two dimensions and skips non-map variables on the page', () => {
    const schema = schemaOf({ band: { dims: ['row', 'col'] }, series: { dims: ['time'] } });
    expect(plotAxes(schema, schema.variables[0]!)).toEqual({ x: 'col', y: 'row', others: [], geographic: false });
    expect(plotAxes(schema, schema.variables[1]!)).toBeUndefined();
    expect(firstMapVariable(schema)).toBeUndefined();
  });
});

describe('coordinate roles', () => {
  const role = (name: string, attrs: Record<string, JsonValue>, dims = [name]) =>
    roleOf({ name, dims, shape: [2], chunks: [2], dtype: '<f8', dtypeName: 'float64', fillValue: null, attrs, isCoordinate: true });

  it('reads standard_name, units, axis, positive and, last, names', () => {
    expect(role('y', { standard_name: 'latitude' })).toBe('latitude');
    expect(role('a', { units: 'degrees_north' })).toBe('latitude');
    expect(role('a', { units: 'degree_N' })).toBe('latitude');
    expect(role('b', { units: 'degrees_east' })).toBe('longitude');
    expect(role('t', { units: 'hours since 2000-01-01' })).toBe('time');
    expect(role('x', { standard_name: 'projection_x_coordinate', units: 'm' })).toBe('projection_x');
    expect(role('y', { standard_name: 'projection_y_coordinate', units: 'm' })).toBe('projection_y');
    expect(role('lev', { positive: 'down' })).toBe('vertical');
    expect(role('z', { axis: 'Z' })).toBe('vertical');
    expect(role('plev', { units: 'hPa' })).toBe('vertical');
    expect(role('depth', { standard_name: 'depth' })).toBe('vertical');
    expect(role('lat', {})).toBe('latitude');
    expect(role('nav_lon', { units: 'degrees' })).toBe('longitude');
    expect(role('lat', { units: 'm' })).toBe('other');
    // Rotated-pole coordinates are map axes, not WGS 84 latitude and longitude.
    expect(role('rlat', { standard_name: 'grid_latitude', units: 'degrees' })).toBe('other');
  });

  it('does not read attributes through Object.prototype', () => {
    expect(role('v', JSON.parse('{"__proto__": {"standard_name": "latitude"}}') as Record<string, JsonValue>)).toBe('other');
    expect(role('constructor', {})).toBe('other');
  });

  it('names the variables others use as bounds or climatology', () => {
    const schema = schemaOf({ time: { dims: ['time'], attrs: { bounds: 'time_bnds' } }, clim: { dims: ['time'], attrs: { climatology: 'clim_bnds' } } });
    expect(boundsVariables(schema.variables)).toEqual(new Set(['time_bnds', 'clim_bnds']));
  });
});
