import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_GENERATED_KEYS, openJsonReferences, parseJsonReferences } from './json-references.js';
import { ReferenceFormatError, type ReferenceStore } from './reference.js';

const zarray = JSON.stringify({
  zarr_format: 2,
  shape: [4],
  chunks: [2],
  dtype: '<f4',
  compressor: null,
  filters: null,
  fill_value: null,
  order: 'C',
});

async function collect(store: ReferenceStore): Promise<string[]> {
  const urls: string[] = [];
  for await (const url of store.urls()) urls.push(url);
  return urls;
}

describe('JSON references, version 0', () => {
  const store = parseJsonReferences(
    JSON.stringify({
      '.zgroup': '{"zarr_format": 2}',
      'v/.zarray': zarray,
      'v/.zattrs': '{"_ARRAY_DIMENSIONS": ["x"]}',
      'v/0': ['data/a.nc', 100, 8],
      'v/1': ['data/b.nc'],
      'w/0': 'base64:AAECAw==',
      'w/1': 'text',
    }),
    'v0.json',
  );

  it('separates metadata documents from chunk references', () => {
    expect([...store.metadata.keys()].sort()).toEqual(['.zgroup', 'v/.zarray', 'v/.zattrs']);
    expect(store.metadata.get('v/.zattrs')).toEqual({ _ARRAY_DIMENSIONS: ['x'] });
  });
  it('reads ranges, whole files, base64 and plain inline values', async () => {
    expect(await store.chunk('v/0')).toEqual({ kind: 'range', url: 'data/a.nc', offset: 100, length: 8 });
    expect(await store.chunk('v/1')).toEqual({ kind: 'whole', url: 'data/b.nc' });
    const b64 = await store.chunk('w/0');
    expect(b64?.kind === 'inline' && [...b64.data]).toEqual([0, 1, 2, 3]);
    const text = await store.chunk('w/1');
    expect(text?.kind === 'inline' && Buffer.from(text.data).toString()).toBe('text');
  });
  it('answers undefined for chunks the table does not have', async () => {
    expect(await store.chunk('v/2')).toBeUndefined();
    expect(await store.chunk('nope/0')).toBeUndefined();
  });
  it('lists distinct source urls', async () => {
    expect((await collect(store)).sort()).toEqual(['data/a.nc', 'data/b.nc']);
  });
});

describe('JSON references, version 1', () => {
  it('renders templates in urls', async () => {
    const store = parseJsonReferences(
      JSON.stringify({
        version: 1,
        templates: { u: 'data/file.nc', root: 'https://example.org/archive' },
        refs: { '.zgroup': '{"zarr_format":2}', 'v/0': ['{{u}}', 0, 10], 'v/1': ['{{root}}/x.nc', 5, 5] },
      }),
      'v1.json',
    );
    expect(await store.chunk('v/0')).toEqual({ kind: 'range', url: 'data/file.nc', offset: 0, length: 10 });
    expect(await store.chunk('v/1')).toEqual({ kind: 'range', url: 'https://example.org/archive/x.nc', offset: 5, length: 5 });
  });

  it('expands gen blocks over the product of their dimensions', async () => {
    const store = parseJsonReferences(
      JSON.stringify({
        version: 1,
        templates: { base: 'data/part' },
        gen: [
          {
            key: 'v/{{i}}.{{j}}',
            url: '{{base}}{{j}}.nc',
            offset: '{{ (i + 1) * 1000 }}',
            length: '100',
            dimensions: { i: { stop: 3 }, j: [7, 9] },
          },
          { key: 'w/{{k}}', url: 'data/w{{k}}.nc', dimensions: { k: { start: 2, stop: 8, step: 3 } } },
        ],
        refs: { '.zgroup': '{"zarr_format":2}' },
      }),
      'gen.json',
    );
    expect(await store.chunk('v/0.7')).toEqual({ kind: 'range', url: 'data/part7.nc', offset: 1000, length: 100 });
    expect(await store.chunk('v/2.9')).toEqual({ kind: 'range', url: 'data/part9.nc', offset: 3000, length: 100 });
    expect(await store.chunk('w/2')).toEqual({ kind: 'whole', url: 'data/w2.nc' });
    expect(await store.chunk('w/5')).toEqual({ kind: 'whole', url: 'data/w5.nc' });
    expect(await store.chunk('w/8')).toBeUndefined();
    expect((await collect(store)).length).toBe(4);
  });

  it('refuses gen blocks that expand past the limit before expanding them', () => {
    const huge = JSON.stringify({
      version: 1,
      gen: [{ key: 'v/{{i}}.{{j}}', url: 'f.nc', dimensions: { i: { stop: 100000 }, j: { stop: 100000 } } }],
      refs: {},
    });
    const started = Date.now();
    expect(() => parseJsonReferences(huge, 'huge.json', { maxGeneratedKeys: 1000 })).toThrow(/more than 1000 keys/);
    const tenMillion = JSON.stringify({ version: 1, refs: {}, gen: [{ key: 'v/{{i}}', url: 'x', dimensions: { i: { stop: 10_000_000 } } }] });
    expect(() => parseJsonReferences(tenMillion, 'ten-million.json')).toThrow(new RegExp(`more than ${DEFAULT_MAX_GENERATED_KEYS} keys`));
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('keeps metadata text verbatim, so 150.0 stays a float for Python clients', () => {
    const store = parseJsonReferences(JSON.stringify({ version: 1, refs: { 'v/.zattrs': '{"valid_range": [150.0, 350.0], "scale_factor": 2.0}' } }), 'floats.json');
    expect(store.metadataText.get('v/.zattrs')).toBe('{"valid_range": [150.0, 350.0], "scale_factor": 2.0}');
    const consolidated = parseJsonReferences(JSON.stringify({ '.zmetadata': '{"metadata": {"v/.zattrs": {"add_offset": 100000.0}}, "zarr_consolidated_format": 1}' }), 'cons.json');
    expect(consolidated.metadataText.get('v/.zattrs')).toBe('{"add_offset": 100000.0}');
  });

  it('merges an embedded .zmetadata without overriding explicit documents', () => {
    const store = parseJsonReferences(
      JSON.stringify({
        version: 1,
        refs: {
          '.zmetadata': JSON.stringify({ metadata: { '.zgroup': { zarr_format: 2 }, 'v/.zarray': JSON.parse(zarray), '.zattrs': { a: 1 } } }),
          '.zattrs': '{"a": 2}',
        },
      }),
      'cons.json',
    );
    expect(store.metadata.get('.zattrs')).toEqual({ a: 2 });
    expect(store.metadata.has('v/.zarray')).toBe(true);
    expect(store.metadata.has('.zmetadata')).toBe(false);
  });
});

describe('malformed JSON references', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"a": ', /not valid JSON/],
    ['an array', '[1,2]', /must be a JSON object/],
    ['unknown version', '{"version": 2, "refs": {}}', /unsupported reference version 2/],
    ['v1 without refs', '{"version": 1}', /needs a "refs" object/],
    ['metadata that is not JSON', '{".zarray": "{nope"}', /metadata "\.zarray" is not valid JSON/],
    ['metadata as a reference', '{"v/.zarray": ["f.nc", 0, 10]}', /must be an inline JSON object/],
    ['reference of wrong arity', '{"v/0": ["f.nc", 1]}', /must be a string, \[url\] or \[url, offset, length\]/],
    ['negative offset', '{"v/0": ["f.nc", -1, 10]}', /non-negative integer offset and length/],
    ['fractional length', '{"v/0": ["f.nc", 0, 1.5]}', /non-negative integer offset and length/],
    ['missing url', '{"v/0": [null, 0, 1]}', /has no url/],
    ['unknown template', '{"version": 1, "refs": {"v/0": ["{{nope}}", 0, 1]}}', /unknown name "nope"/],
    ['gen with offset but no length', '{"version":1,"gen":[{"key":"a","url":"u","offset":"1","dimensions":{}}],"refs":{}}', /both "offset" and "length"/],
    ['gen with a bad range', '{"version":1,"gen":[{"key":"a/{{i}}","url":"u","dimensions":{"i":{"stop":"x"}}}],"refs":{}}', /integer start\/stop/],
  ];
  for (const [what, text, message] of cases) {
    it(`refuses ${what} with a clear message`, () => {
      expect(() => parseJsonReferences(text, 'bad.json')).toThrow(ReferenceFormatError);
      expect(() => parseJsonReferences(text, 'bad.json')).toThrow(message);
    });
  }

  it('names the file it cannot read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strato-json-'));
    await expect(openJsonReferences(join(dir, 'absent.json'))).rejects.toThrow(/cannot read reference file .*absent\.json/);
    await writeFile(join(dir, 'ok.json'), JSON.stringify({ '.zgroup': '{"zarr_format":2}' }));
    expect((await openJsonReferences(join(dir, 'ok.json'))).metadata.size).toBe(1);
  });
});
