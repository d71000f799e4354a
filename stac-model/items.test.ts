import { describe, expect, it } from 'vitest';
import type { DatasetEntry } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import type { ArrayValues, DatasetValues, NumericArray } from '../kerchunk/array-values.js';
import type { JsonValue, ReferenceStore } from '../kerchunk/reference.js';
import { StacValidator } from '../test/helpers/stac-validator.js';
import { buildCollections } from './collections.js';
import { absoluteItem, buildItem } from './items.js';

/** One array of an in-memory dataset: values in C order, its dims and attributes. */
interface MemoryArray {
  readonly values: NumericArray;
  readonly shape: number[];
  readonly dims: string[];
  readonly attrs?: Record<string, JsonValue>;
  readonly dtype?: string;
  readonly fill?: number;
}

/** A Dataset whose metadata is made of the arrays, and DatasetValues over the same typed arrays. */
function memoryDataset(id: string, arrays: Record<string, MemoryArray>, entry: Partial<DatasetEntry> = {}, failing: string[] = []): { dataset: Dataset; values: DatasetValues } {
  const metadata = new Map<string, JsonValue>([
    ['.zgroup', { zarr_format: 2 }],
    ['.zattrs', { Conventions: 'CF-1.8' }],
  ]);
  for (const [name, array] of Object.entries(arrays)) {
    metadata.set(`${name}/.zarray`, {
      zarr_format: 2,
      shape: array.shape,
      chunks: array.shape.length > 0 ? array.shape : [1],
      dtype: array.dtype ?? '<f8',
      compressor: null,
      filters: null,
      fill_value: array.fill ?? null,
      order: 'C',
    });
    metadata.set(`${name}/.zattrs`, { ...(array.attrs ?? {}), _ARRAY_DIMENSIONS: array.dims });
  }
  const references = { metadata, metadataText: new Map() } as unknown as ReferenceStore;
  const dataset: Dataset = {
    id,
    entry: { id, refs: `${id}.json`, refsLocation: `/srv/${id}.json`, fields: {}, ...entry },
    references,
    referenceBase: '/srv',
  };
  const values: DatasetValues = {
    array(name) {
      const array = arrays[name];
      if (!array) return undefined;
      const result: ArrayValues = {
        name,
        dtype: array.dtype ?? '<f8',
        shape: array.shape,
        chunks: array.shape,
        fillValue: array.fill,
        read: async (selection) => {
          if (failing.includes(name)) throw new Error('source unreachable');
          expect(selection.map((s) => s.stop)).toEqual(array.shape);
          return array.values;
        },
      };
      return result;
    },
  };
  return { dataset, values };
}

const validator = new StacValidator();
/** STAC 1.0 wants a `collection` link beside the `collection` field; the API and the static tree add it. */
const linked = (item: Record<string, JsonValue>): Record<string, JsonValue> => ({ ...absoluteItem(item, 'http://h'), links: [{ rel: 'collection', href: 'http://h/c' }] });

describe('Items from decoded values', () => {
  it('curvilinear lat/lon in 0..360 across Greenwich, 360_day time, fill values skipped', async () => {
    const { dataset, values } = memoryDataset(
      'curvi',
      {
        time: { values: new Float64Array([0, 30, 60, 1e20]), shape: [4], dims: ['time'], attrs: { units: 'days since 2000-01-01', calendar: '360_day' }, fill: 1e20 },
        lat: { values: new Float32Array([40, 40, 40, 45, 45, 45]), shape: [2, 3], dims: ['y', 'x'], attrs: { standard_name: 'latitude', units: 'degrees_north' }, dtype: '<f4' },
        lon: { values: new Float32Array([350, 0, 10, 351, 1, 11]), shape: [2, 3], dims: ['y', 'x'], attrs: { standard_name: 'longitude', units: 'degrees_east' }, dtype: '<f4' },
        sst: {
          values: new Int16Array(24),
          shape: [4, 2, 3],
          dims: ['time', 'y', 'x'],
          attrs: { long_name: 'Sea Surface Temperature', units: 'K', coordinates: 'lat lon', scale_factor: 0.01 },
          dtype: '<i2',
        },
      },
      {
        title: 'Curvilinear',
        license: 'CC-BY-4.0',
        stac: { collection: 'ocean', keywords: ['sst'] },
        fields: { providers: [{ name: 'Ocean Lab', roles: ['producer', 'bogus'] }] },
      },
    );
    const record = await buildItem(dataset, values);
    expect(record.collection).toBe('ocean');
    expect(record.bbox).toEqual([-10, 40, 11, 45]);
    expect(record.problems).toEqual([]);
    const item = absoluteItem(record.item, 'https://example.org');
    expect(validator.validate(linked(record.item))).toEqual([]);
    const properties = item.properties as Record<string, JsonValue>;
    expect(properties.start_datetime).toBe('2000-01-01T00:00:00Z');
    expect(properties.end_datetime).toBe('2000-03-01T00:00:00Z');
    expect(properties.providers).toEqual([{ name: 'Ocean Lab', roles: ['producer'] }]);
    const dims = properties['cube:dimensions'] as Record<string, Record<string, JsonValue>>;
    expect(dims.time).toEqual({ type: 'temporal', extent: ['2000-01-01T00:00:00Z', '2000-03-01T00:00:00Z'] }); // a missing value: no regular step
    expect(dims.x).toMatchObject({ type: 'other', extent: [0, 2] });
    const vars = properties['cube:variables'] as Record<string, Record<string, JsonValue>>;
    expect(vars.lat).toMatchObject({ type: 'auxiliary', dimensions: ['y', 'x'] });
    expect(vars.sst).toMatchObject({ type: 'data', unit: 'K', description: 'Sea Surface Temperature' });
    expect((item.assets as Record<string, { href: string }>).kerchunk?.href).toBe('https://example.org/datasets/curvi/kerchunk');
    // The validator does reject what the datacube schema forbids (a spatial dimension on axis "t").
    const broken = structuredClone(linked(record.item));
    const brokenDims = (broken.properties as Record<string, JsonValue>)['cube:dimensions'] as Record<string, JsonValue>;
    brokenDims.time = { type: 'spatial', axis: 't', extent: [0, 1] };
    expect(validator.validate(broken)).not.toEqual([]);
  });

  it('an unreadable coordinate leaves its extent out and is reported; the Item stays valid', async () => {
    const { dataset, values } = memoryDataset(
      'broken',
      {
        time: { values: new Float64Array([0, 1]), shape: [2], dims: ['time'], attrs: { units: 'hours since 2010-05-01' } },
        lat: { values: new Float64Array([1, 2]), shape: [2], dims: ['lat'], attrs: { units: 'degrees_north' } },
        lon: { values: new Float64Array([1, 2]), shape: [2], dims: ['lon'], attrs: { units: 'degrees_east' } },
      },
      { license: 'MIT' },
      ['lat'],
    );
    const record = await buildItem(dataset, values, { now: () => new Date('2024-05-05T00:00:00Z') });
    expect(record.problems).toEqual(['lat: source unreachable']);
    expect(record.bbox).toBeUndefined();
    expect(record.item.geometry).toBeNull();
    expect(record.start).toBe(Date.parse('2010-05-01T00:00:00Z'));
    expect(validator.validate(linked(record.item))).toEqual([]);
  });

  it('a dataset without time takes datetime from date_created, else from now; collections union the extents', async () => {
    const { dataset, values } = memoryDataset('static', {
      lat: { values: new Float64Array([10, 20]), shape: [2], dims: ['lat'], attrs: { units: 'degrees_north' } },
      lon: { values: new Float64Array([170, 175, 180, 185]), shape: [4], dims: ['lon'], attrs: { units: 'degrees_east' } },
    });
    const record = await buildItem(dataset, values, { now: () => new Date('2024-05-05T00:00:00Z') });
    expect(record.item.properties).toMatchObject({ datetime: '2024-05-05T00:00:00Z' });
    expect(record.bbox).toEqual([170, 10, -175, 20]);
    expect(record.item.geometry).toMatchObject({ type: 'MultiPolygon' });
    expect(validator.validate(linked(record.item))).toEqual([]);
    const other = memoryDataset('west', {
      lat: { values: new Float64Array([-5, 0]), shape: [2], dims: ['lat'], attrs: { units: 'degrees_north' } },
      lon: { values: new Float64Array([-170, -160]), shape: [2], dims: ['lon'], attrs: { units: 'degrees_east' } },
      time: { values: new Float64Array([0]), shape: [1], dims: ['time'], attrs: { units: 'days since 2020-01-01' } },
    });
    const second = await buildItem(other.dataset, other.values);
    const [collection] = buildCollections([record, second]);
    expect(collection?.document.extent).toEqual({
      spatial: { bbox: [[170, -5, -160, 20]] },
      temporal: { interval: [['2020-01-01T00:00:00Z', '2024-05-05T00:00:00Z']] },
    });
    expect(validator.validate(collection?.document)).toEqual([]);
  });
});
