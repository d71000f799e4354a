import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetEntry } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import { datasetValues } from '../kerchunk/array-reader.js';
import { inlineCodecs } from '../kerchunk/codecs/codec-pool.js';
import { parseJsonReferences } from '../kerchunk/json-references.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { Sources } from '../kerchunk/sources/sources.js';
import { HttpProblem } from '../server/http/problem.js';
import { DatasetViews } from './dataset-views.js';

/** A dataset of one inline chunk (no source is read): v = [1, 2, 3, 4] as '<f4'. */
function dataset(processing?: JsonValue, values = [1, 2, 3, 4]): Dataset {
  const chunk = Buffer.from(new Float32Array(values).buffer).toString('base64');
  const refs = {
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format":2}',
      'v/.zarray': JSON.stringify({ zarr_format: 2, shape: [4], chunks: [4], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' }),
      'v/.zattrs': '{"_ARRAY_DIMENSIONS":["x"]}',
      'v/0': `base64:${chunk}`,
    },
  };
  const entry = { id: 'd', ...(processing !== undefined ? { processing } : {}) } as DatasetEntry;
  return { id: 'd', entry, references: parseJsonReferences(JSON.stringify(refs), 'd.json'), referenceBase: tmpdir() };
}

let sources: Sources;
beforeAll(async () => {
  sources = await Sources.create({ allow: [tmpdir()], baseDir: tmpdir() });
});
afterAll(async () => {
  await sources?.close();
});

function makeViews() {
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const counts = { hits: 0, misses: 0, bytes: 0 };
  const views = new DatasetViews({
    sources: () => sources,
    values: (d) => datasetValues(d, sources),
    stages: () => [],
    codecs: inlineCodecs,
    encodedCacheBytes: 1 << 20,
    encodedCacheObserver: { hit: () => counts.hits++, miss: () => counts.misses++, held: (bytes) => (counts.bytes = bytes) },
    logger: { warn: (message, fields) => warnings.push(fields ? { message, fields } : { message }) },
  });
  return { views, warnings, counts };
}

describe('DatasetViews', () => {
  it('makes the views of a dataset once, and new ones for a reloaded (new) dataset object', () => {
    const { views } = makeViews();
    const first = dataset();
    expect(views.raw(first)).toBe(views.raw(first));
    expect(views.processed(first)).toBe(views.processed(first));
    const reloaded = dataset();
    expect(views.raw(reloaded)).not.toBe(views.raw(first));
    expect(views.processed(reloaded)).not.toBe(views.processed(first));
  });

  it('serves the raw chunk as stored and the processed one through the shared encoded cache', async () => {
    const { views, counts } = makeViews();
    const d = dataset();
    const raw = await views.raw(d).chunk('v/0');
    expect(new Float32Array((await raw!.read(0, raw!.size)).slice().buffer)).toEqual(new Float32Array([1, 2, 3, 4]));
    const first = await views.processed(d).chunk('v/0');
    const again = await views.processed(d).chunk('v/0');
    expect(again).toBe(first);
    expect(counts).toMatchObject({ hits: 1, misses: 1 });
    expect(counts.bytes).toBeGreaterThan(0);
    // the cache is keyed by what a chunk is made of: a reloaded dataset with the same references
    // and processing shares the entry; one whose references changed has an entry of its own
    const reloaded = await views.processed(dataset()).chunk('v/0');
    expect(reloaded?.etag).toBe(first?.etag);
    expect(counts).toMatchObject({ hits: 2, misses: 1 });
    const changed = await views.processed(dataset(undefined, [1, 2, 3, 5])).chunk('v/0');
    expect(changed?.etag).not.toBe(first?.etag);
    expect(counts.misses).toBe(2);
  });

  it('answers a processing block the stages refuse with a logged 500, and tries again next time', () => {
    const { views, warnings } = makeViews();
    const d = dataset({ chunks: { x: 2 } });
    const attempt = () => views.processed(d);
    expect(attempt).toThrow(HttpProblem);
    try {
      attempt();
    } catch (error) {
      expect((error as HttpProblem).status).toBe(500);
      expect((error as HttpProblem).detail).toMatch(/^the processing of dataset "d" is misconfigured: unknown processing setting/);
    }
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ message: 'processing misconfigured', fields: { dataset: 'd' } });
    // the raw view of the same dataset is unaffected
    expect(views.raw(d).metadata('v/.zarray')).toBeDefined();
  });
});
