import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetEntry } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import { chunkCount, chunksCovering, DecodedChunkCache, datasetValues } from './array-reader.js';
import type { ArrayValues, Slice } from './array-values.js';
import { parseJsonReferences } from './json-references.js';
import { BudgetExceededError, RequestBudget, withBudget } from './request-budget.js';
import { Sources } from './sources/sources.js';

/** A dataset whose references name no chunk at all: every read is fill values. */
function emptyDataset(shape: number[], chunks: number[], fill: number | null, dir: string): Dataset {
  const refs = {
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format":2}',
      'v/.zarray': JSON.stringify({ zarr_format: 2, shape, chunks, dtype: '<f4', compressor: null, filters: null, fill_value: fill, order: 'C' }),
      'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: shape.map((_, i) => `d${i}`) }),
    },
  };
  return { id: 'empty', entry: {} as DatasetEntry, references: parseJsonReferences(JSON.stringify(refs), 'empty.json'), referenceBase: dir };
}

let dir: string;
let sources: Sources;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-budget-'));
  sources = await Sources.create({ allow: [dir], baseDir: dir });
});
afterAll(async () => {
  await sources?.close();
  await rm(dir, { recursive: true, force: true });
});

function arrayOf(dataset: Dataset, cache = new DecodedChunkCache()): ArrayValues {
  const array = datasetValues(dataset, sources, cache).array('v');
  if (!array) throw new Error('no array v');
  return array;
}

describe('chunk arithmetic', () => {
  const slice = (size: number) =>
    fc.tuple(fc.nat(size - 1), fc.nat(size), fc.integer({ min: 1, max: size + 2 })).map(([start, stop, step]): Slice => ({ start, stop: Math.max(start, stop), step }));

  it('chunkCount and chunksCovering agree with visiting every selected index', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 })), { minLength: 1, maxLength: 3 })
          .chain((dims) => fc.tuple(fc.constant(dims), fc.tuple(...dims.map(([size]) => slice(size))))),
        ([dims, selection]) => {
          const chunks = dims.map(([, chunk]) => chunk);
          const perDim = selection.map((s, d) => {
            const seen = new Set<number>();
            for (let i = s.start; i < s.stop; i += s.step) seen.add(Math.floor(i / (chunks[d] as number)));
            return [...seen];
          });
          let expected: number[][] = [[]];
          for (const options of perDim) expected = expected.flatMap((prefix) => options.map((i) => [...prefix, i]));
          if (perDim.some((o) => o.length === 0)) expected = [];
          expect([...chunksCovering(selection, chunks)]).toEqual(expected);
          expect(chunkCount(selection, chunks)).toBe(expected.length);
        },
      ),
      { seed: 20261204, numRuns: 500 },
    );
  });
});

describe('F3: reads over missing chunks are bounded, yield, and cost nothing', () => {
  it('refuses a selection over 5M unwritten chunks before touching one (413 class)', async () => {
    const array = arrayOf(emptyDataset([5_000_000, 1, 1], [1, 1, 1], 1e20, dir));
    const budget = new RequestBudget({ chunks: 100_000, decodedBytes: 1024 ** 3, wallMs: 10_000 });
    const started = performance.now();
    const read = withBudget(budget, () =>
      array.read([
        { start: 0, stop: 5_000_000, step: 1 },
        { start: 0, stop: 1, step: 1 },
        { start: 0, stop: 1, step: 1 },
      ]),
    );
    await expect(read).rejects.toBeInstanceOf(BudgetExceededError);
    expect(performance.now() - started).toBeLessThan(100);
    budget.close();
  });

  it('fills missing chunks in place: the fill value, nothing cached, the event loop keeps turning', async () => {
    const cache = new DecodedChunkCache(64 * 1024 * 1024);
    const array = arrayOf(emptyDataset([200_000, 3], [1, 3], 1e20, dir), cache);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const values = await array.read([
      { start: 0, stop: 200_000, step: 1 },
      { start: 0, stop: 3, step: 1 },
    ]);
    clearInterval(ticker);
    expect(values.length).toBe(600_000);
    expect(values.every((v) => v === Math.fround(1e20))).toBe(true);
    expect(cache.bytes).toBe(0);
    expect(ticks).toBeGreaterThan(0);
  });

  it('without a fill value a missing chunk reads as zeros, also for strided and edge selections', async () => {
    const array = arrayOf(emptyDataset([10, 7], [3, 4], null, dir));
    const values = await array.read([
      { start: 1, stop: 10, step: 4 },
      { start: 2, stop: 7, step: 2 },
    ]);
    expect(Array.from(values as Float32Array)).toEqual(new Array(9).fill(0));
  });

  it('stops at once when the request is aborted', async () => {
    const array = arrayOf(emptyDataset([2_000_000], [1], 5, dir));
    const client = new AbortController();
    const budget = new RequestBudget({ chunks: Infinity, decodedBytes: Infinity, wallMs: Infinity }, client.signal);
    setTimeout(() => client.abort(), 30);
    const started = performance.now();
    await expect(withBudget(budget, () => array.read([{ start: 0, stop: 2_000_000, step: 1 }]))).rejects.toThrow(/abort/i);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('stops when the wall time runs out (503 class)', async () => {
    const array = arrayOf(emptyDataset([3_000_000], [1], 5, dir));
    const budget = new RequestBudget({ chunks: Infinity, decodedBytes: Infinity, wallMs: 50 });
    const read = withBudget(budget, () => array.read([{ start: 0, stop: 3_000_000, step: 1 }]));
    await expect(read).rejects.toMatchObject({ name: 'BudgetExceededError', limit: 'wallMs' });
  });

  it('refuses an output larger than the decoded-bytes budget before allocating it', async () => {
    const array = arrayOf(emptyDataset([100_000, 100_000], [100_000, 100_000], 0, dir));
    const budget = new RequestBudget({ chunks: 10, decodedBytes: 1024 ** 3, wallMs: 10_000 });
    const read = withBudget(budget, () =>
      array.read([
        { start: 0, stop: 100_000, step: 1 },
        { start: 0, stop: 100_000, step: 1 },
      ]),
    );
    await expect(read).rejects.toMatchObject({ limit: 'decodedBytes' });
    budget.close();
  });

  it("counts a chunk's declared decoded size before reading its source (a table declaring huge chunks)", async () => {
    const refs = {
      version: 1,
      refs: {
        '.zgroup': '{"zarr_format":2}',
        'v/.zarray': JSON.stringify({
          zarr_format: 2,
          shape: [600_000_000],
          chunks: [600_000_000],
          dtype: '<f8',
          compressor: { id: 'zlib', level: 1 },
          filters: null,
          fill_value: null,
          order: 'C',
        }),
        'v/.zattrs': '{"_ARRAY_DIMENSIONS":["i"]}',
        'v/0': ['does-not-exist.bin', 0, 10],
      },
    };
    const dataset: Dataset = { id: 'huge', entry: {} as DatasetEntry, references: parseJsonReferences(JSON.stringify(refs), 'huge.json'), referenceBase: dir };
    const array = arrayOf(dataset);
    const budget = new RequestBudget({ chunks: 10, decodedBytes: 1024 ** 3, wallMs: 10_000 });
    // one value asked for: the output is tiny, the chunk behind it is 4.8 GB decoded
    await expect(withBudget(budget, () => array.read([{ start: 0, stop: 1, step: 1 }]))).rejects.toMatchObject({ limit: 'decodedBytes' });
    budget.close();
  });
});
