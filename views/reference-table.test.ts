import { describe, expect, it } from 'vitest';
import type { Dataset } from '../catalog/dataset.js';
import { parseJsonReferences } from '../kerchunk/json-references.js';
import { RequestBudget } from '../kerchunk/request-budget.js';
import { orderedPath, referenceTableStream } from './reference-table.js';

describe('orderedPath', () => {
  it('spells the same path, URLs sorting in index order', () => {
    const path = '/datasets/tas-daily/kerchunk/tas/';
    const keys = Array.from({ length: 300 }, (_, i) => i);
    const urls = keys.map((i) => `${orderedPath(path, i, keys.length)}${i}.0.0`);
    for (const [i, url] of urls.entries()) expect(decodeURIComponent(url)).toBe(`${path}${i}.0.0`);
    // the plain keys do not sort in C order; the spelled ones do (as Python's sorted() compares code points)
    expect([...keys.map((i) => `${path}${i}.0.0`)].sort()).not.toEqual(keys.map((i) => `${path}${i}.0.0`));
    expect([...urls].sort()).toEqual(urls);
  });

  it('keeps escapes already in the path and leaves reserved characters alone', () => {
    const path = '/datasets/a%7Bb/kerchunk/x/';
    for (let i = 0; i < 64; i++) expect(decodeURIComponent(orderedPath(path, i, 64))).toBe('/datasets/a{b/kerchunk/x/');
  });

  it('with fewer characters than bits, the order is kept for the top bits', () => {
    const path = '/a/';
    const urls = Array.from({ length: 16 }, (_, i) => orderedPath(path, i, 16));
    expect([...urls].sort()).toEqual(urls);
    expect(new Set(urls).size).toBe(2);
  });
});

describe('referenceTableStream', () => {
  const huge = (): Dataset => {
    const refs = {
      '.zgroup': '{"zarr_format": 2}',
      'v/.zarray': JSON.stringify({ zarr_format: 2, shape: [3_000_000], chunks: [1], dtype: '<f4', compressor: null, filters: null, fill_value: 0, order: 'C' }),
      'v/.zattrs': '{"_ARRAY_DIMENSIONS": ["x"]}',
      'v/0': ['data.nc', 0, 4],
      '__proto__/.zarray': JSON.stringify({ zarr_format: 2, shape: [2], chunks: [1], dtype: '<f4', compressor: null, filters: null, fill_value: 0, order: 'C' }),
      '__proto__/.zattrs': '{"_ARRAY_DIMENSIONS": ["y"]}',
      '__proto__/1': 'base64:AAAAAA==',
    };
    const references = parseJsonReferences(JSON.stringify({ version: 1, refs }), 'huge.json');
    return { id: '__proto__', entry: { id: '__proto__' } as Dataset['entry'], references, referenceBase: '/nowhere', tableVersion: '1' };
  };
  const options = { baseUrl: 'http://h', templates: false, missing: 'absent' as const };

  it('streams a table of millions of keys piece by piece and stops when the client leaves', async () => {
    const client = new AbortController();
    const budget = new RequestBudget({ chunks: 10, decodedBytes: 10, wallMs: Infinity }, client.signal);
    const reader = referenceTableStream(huge(), { ...options, missing: 'url' }, budget).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // one piece, not the whole table (3M keys, about 200 MB)
    expect((first.value as Uint8Array).byteLength).toBeLessThan(256 * 1024);
    client.abort();
    await expect(reader.read()).rejects.toThrow();
  });

  it('writes `__proto__` names as plain keys, and missing chunks absent on request', async () => {
    const dataset = huge();
    // a small grid for the whole text: drop the 3M-key array
    const small: Dataset = {
      ...dataset,
      references: {
        ...dataset.references,
        metadata: new Map([...dataset.references.metadata].filter(([k]) => !k.startsWith('v/'))),
        metadataText: new Map([...dataset.references.metadataText].filter(([k]) => !k.startsWith('v/'))),
        chunk: (key) => dataset.references.chunk(key),
        urls: () => dataset.references.urls(),
        close: () => dataset.references.close(),
      },
    };
    const text = await new Response(referenceTableStream(small, options, new RequestBudget({ chunks: 1, decodedBytes: 1, wallMs: Infinity }))).text();
    const table = JSON.parse(text) as { refs: Record<string, unknown> };
    expect(Object.hasOwn(table.refs, '__proto__/.zarray')).toBe(true);
    expect(table.refs['__proto__/1']).toBe('base64:AAAAAA==');
    expect(Object.hasOwn(table.refs, '__proto__/0')).toBe(false);
    expect(table.refs['.zmetadata']).toContain('__proto__/.zarray');
  });
});
