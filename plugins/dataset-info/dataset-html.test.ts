import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../catalog/dataset.js';
import { datasetSchema } from '../../catalog/dataset-schema.js';
import type { ArrayValues, DatasetValues } from '../../kerchunk/array-values.js';
import type { JsonValue, ReferenceStore } from '../../kerchunk/reference.js';
import { bytesBody, type ServedBody } from '../../server/http/served-body.js';
import { datasetHtml, plotQuery, snippetsOf } from './dataset-html.js';
import { codecLabel, type PageFacts, pageFacts } from './page-facts.js';

const zarray = (shape: number[], dtype = '<f4', extra: Record<string, JsonValue> = {}): JsonValue => ({
  zarr_format: 2,
  shape,
  chunks: shape,
  dtype,
  compressor: null,
  filters: null,
  fill_value: null,
  order: 'C',
  ...extra,
});

/** A dataset of the given data variable dimensions over a lat/lon grid (plus time and plev when named). */
function datasetOf(id: string, dims: string[]): { dataset: Dataset; metadata: Map<string, JsonValue> } {
  const sizes: Record<string, number> = { time: 3, plev: 2, lat: 3, lon: 4 };
  const metadata = new Map<string, JsonValue>([
    ['.zgroup', { zarr_format: 2 }],
    ['.zattrs', {}],
    ['lat/.zarray', zarray([3], '<f8')],
    ['lat/.zattrs', { _ARRAY_DIMENSIONS: ['lat'], units: 'degrees_north' }],
    ['lon/.zarray', zarray([4], '<f8')],
    ['lon/.zattrs', { _ARRAY_DIMENSIONS: ['lon'], units: 'degrees_east' }],
    ['v/.zarray', zarray(dims.map((d) => sizes[d] as number))],
    ['v/.zattrs', { _ARRAY_DIMENSIONS: dims, long_name: 'A variable' }],
  ]);
  if (dims.includes('time')) {
    metadata.set('time/.zarray', zarray([3], '<f8'));
    metadata.set('time/.zattrs', { _ARRAY_DIMENSIONS: ['time'], units: 'days since 2000-01-01', calendar: '360_day' });
  }
  if (dims.includes('plev')) {
    metadata.set('plev/.zarray', zarray([2], '<f8'));
    metadata.set('plev/.zattrs', { _ARRAY_DIMENSIONS: ['plev'], units: 'Pa', positive: 'down' });
  }
  const dataset = {
    id,
    entry: { id, refs: 'r.json', refsLocation: '/r.json', fields: {} },
    references: { metadata } as unknown as ReferenceStore,
    referenceBase: '/',
  } satisfies Dataset;
  return { dataset, metadata };
}

const code = (dataset: Dataset, label: RegExp, facts?: PageFacts) => {
  const found = snippetsOf(dataset, datasetSchema(dataset.references.metadata), 'http://h', facts).find((s) => label.test(s.label));
  return found?.code ?? '';
};

describe('dataset page snippets', () => {
  it('give GDAL one index per dimension before the map, and level only where there is one', () => {
    const flat = datasetOf('flat', ['lat', 'lon']).dataset;
    expect(code(flat, /GDAL/)).toContain(`'ZARR:"/vsicurl/http://h/datasets/flat/zarr":/v'`);
    expect(code(flat, /Quick-look/)).toContain('plot/v.png?cmap=viridis');
    const daily = datasetOf('daily', ['time', 'lat', 'lon']).dataset;
    expect(code(daily, /GDAL/)).toContain(`:/v:0'  # index 0 of time`);
    expect(code(daily, /Quick-look/)).toContain('plot/v.png?time=0&cmap=viridis');
    expect(code(daily, /Quick-look/)).not.toContain('level');
    const levels = datasetOf('levels', ['time', 'plev', 'lat', 'lon']).dataset;
    expect(code(levels, /GDAL/)).toContain(`:/v:0:0'  # index 0 of time, plev`);
    expect(code(levels, /Quick-look/)).toContain('?time=0&level=0&cmap=viridis');
    expect(code(daily, /GDAL/)).toContain('gdalmdiminfo /vsicurl/http://h/datasets/daily/zarr\n');
    expect(code(daily, /ncdump/)).toBe('ncdump -h http://h/datasets/daily/opendap\ncdo sinfo http://h/datasets/daily/opendap');
  });

  it('use the first time step in its calendar, and label lossy variables', () => {
    const { dataset } = datasetOf('daily', ['time', 'lat', 'lon']);
    const facts: PageFacts = {
      raw: new Map(),
      processed: new Map(),
      keepbits: new Map([['v', 7]]),
      times: new Map([['time', { first: '2000-02-30 12:00', last: '2000-03-02', calendar: '360_day', steps: 3 }]]),
    };
    expect(code(dataset, /Quick-look/, facts)).toContain('?time=2000-02-30T12:00&cmap=viridis');
    expect(code(dataset, /processed/, facts)).toMatch(/^# v: mantissa rounded to 7 bits here/);
    const html = datasetHtml(dataset, datasetSchema(dataset.references.metadata), 'http://h', facts);
    expect(html).toContain('<code>v</code>: rounded to 7 mantissa bits in <code>/zarr</code>');
    expect(html).toContain('<b>time:</b> 2000-02-30 12:00 to 2000-03-02 (3 steps, 360_day calendar)');
  });

  it('quote hostile ids and names for the shell and escape them in HTML', () => {
    const { dataset } = datasetOf("it's", ['lat', 'lon']);
    expect(code(dataset, /GDAL/)).toContain(`'/vsicurl/http://h/datasets/it'\\''s/zarr'`);
    const html = datasetHtml(datasetOf('<b>', ['lat', 'lon']).dataset, datasetSchema(datasetOf('<b>', ['lat', 'lon']).metadata), 'http://h');
    expect(html).not.toContain('<b>/');
    expect(plotQuery(datasetSchema(dataset.references.metadata), datasetSchema(dataset.references.metadata).variables.find((v) => v.name === 'v')!, undefined)).toBe('');
  });
});

describe('page facts', () => {
  const served =
    (documents: Map<string, JsonValue>) =>
    (key: string): ServedBody | undefined => {
      const value = documents.get(key);
      return value === undefined ? undefined : bytesBody(new TextEncoder().encode(JSON.stringify(value)), '"e"', 'application/json', 'no-store');
    };
  const timeValues: DatasetValues = {
    array: (name: string) =>
      name === 'time'
        ? ({
            name,
            dtype: '<f8',
            shape: [3],
            chunks: [3],
            fillValue: undefined,
            read: async (s: ReadonlyArray<{ start: number }>) => new Float64Array([[0.5, 1, 29][s[0]?.start ?? 0] as number]),
          } as unknown as ArrayValues)
        : undefined,
  } as unknown as DatasetValues;

  it('read both views, the bits kept and the time range in its calendar', async () => {
    const { dataset, metadata } = datasetOf('daily', ['time', 'lat', 'lon']);
    const processed = new Map(metadata);
    processed.set('v/.zarray', zarray([3, 3, 4], '<f4', { chunks: [1, 3, 4], compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 2 } }));
    processed.set('v/.zattrs', { _ARRAY_DIMENSIONS: ['time', 'lat', 'lon'], _QuantizeBitRoundNumberOfSignificantBits: 9 });
    metadata.set('v/.zarray', zarray([3, 3, 4], '<f4', { filters: [{ id: 'shuffle', elementsize: 4 }], compressor: { id: 'zlib', level: 4 } }));
    const schema = datasetSchema(dataset.references.metadata);
    const facts = await pageFacts(schema, { raw: served(metadata), processed: () => served(processed), values: timeValues });
    expect(facts.keepbits).toEqual(new Map([['v', 9]]));
    expect(facts.times.get('time')).toEqual({ first: '2000-01-01 12:00', last: '2000-01-30', calendar: '360_day', steps: 3 });
    expect(facts.raw.get('v')).toEqual({ chunks: [3, 3, 4], compressor: 'zlib (level 4)', filters: 'shuffle (elementsize 4)' });
    expect((facts.processed as ReadonlyMap<string, unknown>).get('v')).toEqual({ chunks: [1, 3, 4], compressor: 'blosc (cname lz4, clevel 5, shuffle 2)', filters: '' });
    const html = datasetHtml(dataset, schema, 'http://h', facts);
    expect(html).toContain('/zarr 1 × 3 × 4');
    expect(html).toContain('/kerchunk 3 × 3 × 4');
    expect(html).toContain('2000-01-01 12:00 to 2000-01-30</b> (3 steps, 360_day calendar');
  });

  it('say why the processed view cannot be served instead of failing the page', async () => {
    const { dataset, metadata } = datasetOf('flat', ['lat', 'lon']);
    const schema = datasetSchema(dataset.references.metadata);
    const facts = await pageFacts(schema, {
      raw: served(metadata),
      processed: () => {
        throw new Error('unknown processing setting(s) "x"');
      },
      values: timeValues,
    });
    expect(datasetHtml(dataset, schema, '', facts)).toContain('<code>/zarr</code> cannot be served: unknown processing setting(s) &#34;x&#34;');
  });

  it('word codecs, whatever they hold', () => {
    expect(codecLabel(null)).toBe('none');
    expect(codecLabel({ id: 'zstd' })).toBe('zstd');
    expect(codecLabel(JSON.parse('{"__proto__": 1, "id": "x"}') as JsonValue)).toBe('x (__proto__ 1)');
    expect(codecLabel(3)).toBe('3');
  });
});
