import { describe, expect, it } from 'vitest';
import { datasetSchema } from '../../catalog/dataset-schema.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { firstMapVariable, plotAxes } from './plot-axes.js';

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
