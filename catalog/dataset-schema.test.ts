import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../kerchunk/reference.js';
import { datasetSchema, numpyDtypeName, schemaOf } from './dataset-schema.js';

const zarray = (shape: number[], dtype = '<f4'): JsonValue => ({
  zarr_format: 2,
  shape,
  chunks: shape.map((n) => Math.max(1, n)),
  dtype,
  compressor: null,
  filters: null,
  fill_value: null,
  order: 'C',
});

describe('datasetSchema', () => {
  const metadata = new Map<string, JsonValue>([
    ['.zattrs', { title: 'demo' }],
    ['time/.zarray', zarray([3], '<f8')],
    ['time/.zattrs', { _ARRAY_DIMENSIONS: ['time'], units: 'days since 2000-01-01' }],
    ['lat/.zarray', zarray([2, 4])],
    ['lat/.zattrs', { _ARRAY_DIMENSIONS: ['y', 'x'] }],
    ['tas/.zarray', zarray([3, 2, 4], '<i2')],
    ['tas/.zattrs', { _ARRAY_DIMENSIONS: ['time', 'y', 'x'], coordinates: 'lat', scale_factor: 0.1 }],
    ['grp/inner/.zarray', zarray([1])],
  ]);
  const schema = datasetSchema(metadata);

  it('collects dimensions and root variables', () => {
    expect(schema.dims).toEqual({ time: 3, y: 2, x: 4 });
    expect(schema.variables.map((v) => v.name)).toEqual(['time', 'lat', 'tas']);
    expect(schema.attrs).toEqual({ title: 'demo' });
  });
  it('tells coordinates from data variables as xarray does', () => {
    expect(schema.variables.filter((v) => v.isCoordinate).map((v) => v.name)).toEqual(['time', 'lat']);
  });
  it('drops _ARRAY_DIMENSIONS from attributes and names dtypes as numpy does', () => {
    const tas = schema.variables.find((v) => v.name === 'tas');
    expect(tas?.attrs).toEqual({ coordinates: 'lat', scale_factor: 0.1 });
    expect(tas?.dtypeName).toBe('int16');
  });
});

describe('numpyDtypeName', () => {
  it('maps Zarr dtype strings', () => {
    expect(numpyDtypeName('<f4')).toBe('float32');
    expect(numpyDtypeName('>f8')).toBe('float64');
    expect(numpyDtypeName('|u1')).toBe('uint8');
    expect(numpyDtypeName('|b1')).toBe('bool');
    expect(numpyDtypeName('|S4')).toBe('bytes32');
    expect(numpyDtypeName('<U2')).toBe('str64');
    expect(numpyDtypeName('<M8[ns]')).toBe('datetime64[ns]');
  });
});

describe('prototype names in ingested files', () => {
  it('keeps dimensions, variables and attributes named __proto__ or constructor as own keys', () => {
    const metadata = new Map<string, JsonValue>([
      ['.zattrs', JSON.parse('{"__proto__": "global"}') as JsonValue],
      ['__proto__/.zarray', zarray([3])],
      ['__proto__/.zattrs', JSON.parse('{"_ARRAY_DIMENSIONS": ["__proto__"], "constructor": "ctor"}') as JsonValue],
      ['constructor/.zarray', zarray([3, 2])],
      ['constructor/.zattrs', { _ARRAY_DIMENSIONS: ['__proto__', 'constructor'] }],
      ['plain/.zarray', zarray([2])],
      ['plain/.zattrs', { _ARRAY_DIMENSIONS: ['constructor'] }],
    ]);
    const schema = datasetSchema(metadata);
    expect(Object.getPrototypeOf(schema.dims)).toBe(Object.prototype);
    expect(Object.keys(schema.dims)).toEqual(['__proto__', 'constructor']);
    expect(Object.hasOwn(schema.dims, '__proto__') && schema.dims.__proto__).toBe(3);
    expect(schema.dims.constructor).toBe(2);
    const proto = schema.variables.find((v) => v.name === '__proto__');
    expect(proto?.isCoordinate).toBe(true);
    expect(Object.keys(proto?.attrs ?? {})).toEqual(['constructor']);
    expect(proto?.attrs.constructor).toBe('ctor');
    expect(Object.keys(schema.attrs)).toEqual(['__proto__']);
    // A variable without a "coordinates" attribute does not find Object.prototype's members.
    expect(schema.variables.find((v) => v.name === 'plain')?.dims).toEqual(['constructor']);
  });
});

describe('schemaOf', () => {
  it('computes a schema once per dataset object, and again for a reloaded (new) object', () => {
    const metadata = new Map<string, JsonValue>([
      ['a/.zarray', zarray([2])],
      ['a/.zattrs', { _ARRAY_DIMENSIONS: ['a'] }],
    ]);
    const dataset = { references: { metadata } };
    const first = schemaOf(dataset);
    expect(first).toEqual(datasetSchema(metadata));
    expect(schemaOf(dataset)).toBe(first);
    const reloaded = { references: { metadata } };
    expect(schemaOf(reloaded)).not.toBe(first);
    expect(schemaOf(reloaded)).toEqual(first);
  });
});
