import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixtureRegistry } from '../test/helpers/fixture-server.js';
import { runPython } from '../test/helpers/python.js';
import { DecodedChunkCache, datasetValues } from './array-reader.js';
import { type NumericArray, type Slice, sliceLength } from './array-values.js';
import { decodeChunk } from './codecs/chunk.js';
import { parseNumericDtype } from './dtype.js';
import { BudgetExceededError, DEFAULT_BUDGET_LIMITS, RequestBudget, withBudget } from './request-budget.js';
import type { ZarrArrayMetadata } from './zarr-metadata.js';

/**
 * Decoded values through the references (zlib, shuffle, big-endian, missing chunks, partial
 * edge chunks, JSON and parquet tables) must equal netCDF4's stored values for any strided
 * hyperslab.
 */
const context = useFixtureRegistry({ copy: true });

interface Expected {
  readonly values: NumericArray;
  readonly shape: number[];
}

async function expectedValues(id: string): Promise<Map<string, Expected>> {
  const { fixtures } = context();
  const dataset = fixtures.datasets.find((d) => d.id === id);
  if (!dataset) throw new Error(`no fixture ${id}`);
  const out = join(fixtures.dir, `values-${id}`);
  const args = ['--out', out, '--files', ...dataset.files, ...(dataset.concatDim ? ['--combine-dim', dataset.concatDim] : [])];
  const dumped = await runPython('test/interop/dump_raw.py', args);
  if (dumped.code !== 0) throw new Error(dumped.stderr);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Record<string, { dtype: string; shape: number[] }>;
  const result = new Map<string, Expected>();
  for (const [name, { dtype, shape }] of Object.entries(manifest)) {
    const type = parseNumericDtype(dtype);
    if (!type) continue;
    result.set(name, { values: type.view(new Uint8Array(await readFile(join(out, `${name}.bin`)))), shape });
  }
  return result;
}

/** The expected values of a hyperslab, picked element by element from the full array. */
function pick(expected: Expected, selection: readonly Slice[]): number[] {
  const counts = selection.map(sliceLength);
  const total = counts.reduce((a, b) => a * b, 1);
  const strides = expected.shape.map((_, d) => expected.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const values: number[] = [];
  for (let n = 0; n < total; n++) {
    let rest = n;
    let flat = 0;
    for (let d = counts.length - 1; d >= 0; d--) {
      const i = rest % (counts[d] as number);
      rest = Math.floor(rest / (counts[d] as number));
      const slice = selection[d] as Slice;
      flat += (slice.start + i * slice.step) * (strides[d] as number);
    }
    values.push(Number(expected.values[flat]));
  }
  return values;
}

/** Overwrites an array's bytes with zeros (whatever its element type). */
function zero(values: NumericArray): void {
  new Uint8Array(values.buffer, values.byteOffset, values.byteLength).fill(0);
}

function randomSlice(size: number, random: () => number): Slice {
  const start = Math.floor(random() * size);
  const stop = start + 1 + Math.floor(random() * (size - start));
  return { start, stop, step: 1 + Math.floor(random() * 3) };
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('datasetValues', () => {
  for (const id of ['basic', 'templated', 'combined', 'combined-parquet', 'generated']) {
    it(`reads whole arrays and random hyperslabs of ${id} equal to netCDF4`, async () => {
      const { registry } = context();
      const dataset = registry.get(id);
      if (!dataset) throw new Error(`${id} not served: ${JSON.stringify(registry.problems())}`);
      const values = datasetValues(dataset, registry.sources, new DecodedChunkCache(1024 * 1024));
      const expected = await expectedValues(id.replace(/-parquet$/, ''));
      const random = seeded(id.length * 7919);
      let checked = 0;
      for (const [name, want] of expected) {
        const array = values.array(name);
        if (!array) continue;
        const whole = array.shape.map((n) => ({ start: 0, stop: n, step: 1 }));
        expect(Array.from(await array.read(whole), Number), `${id}/${name} whole`).toEqual(Array.from(want.values, Number));
        for (let trial = 0; trial < 5 && array.shape.length > 0; trial++) {
          const selection = array.shape.map((n) => randomSlice(n, random));
          expect(Array.from(await array.read(selection), Number), `${id}/${name} ${JSON.stringify(selection)}`).toEqual(pick(want, selection));
        }
        // whole chunks and step-1 slabs (one contiguous copy per chunk where trailing dimensions are whole)
        const chunkSelections = [0, 1, 2].map((k) =>
          array.shape.map((n, d) => {
            const c = array.chunks[d] as number;
            const start = d === 0 ? Math.min(k, Math.ceil(n / c) - 1) * c : 0;
            return { start, stop: Math.min(start + c, n), step: 1 };
          }),
        );
        const stepOne = [0, 1, 2].map(() => array.shape.map((n) => ({ ...randomSlice(n, random), step: 1 })));
        for (const selection of array.shape.length > 0 ? [...chunkSelections, ...stepOne] : []) {
          expect(Array.from(await array.read(selection), Number), `${id}/${name} ${JSON.stringify(selection)}`).toEqual(pick(want, selection));
        }
        checked++;
      }
      expect(checked).toBeGreaterThan(3);
    });
  }

  it('hands an uncached whole chunk over (uncached reads) without caching it; shared chunks are copied', async () => {
    const { registry } = context();
    const dataset = registry.get('basic');
    if (!dataset) throw new Error('basic not served');
    const cache = new DecodedChunkCache(64 * 1024 * 1024);
    const tas = datasetValues(dataset, registry.sources, cache).array('tas');
    if (!tas) throw new Error('no tas');
    const want = (await expectedValues('basic')).get('tas') as Expected;
    const chunk = tas.shape.map((n, d) => ({ start: 0, stop: Math.min(tas.chunks[d] as number, n), step: 1 }));
    const whole = chunk.every((slice, d) => slice.stop === tas.chunks[d]);
    expect(whole).toBe(true);
    const expected = pick(want, chunk);

    const handed = await tas.read(chunk, undefined, { uncached: true });
    expect(Array.from(handed, Number)).toEqual(expected);
    expect(cache.bytes).toBe(0); // decoded for this caller alone
    zero(handed); // the caller's own: a later read does not see this
    expect(Array.from(await tas.read(chunk, undefined, { uncached: true }), Number)).toEqual(expected);

    const cached = await tas.read(chunk); // an ordinary read keeps the chunk
    expect(cache.bytes).toBeGreaterThan(0);
    const copied = await tas.read(chunk, undefined, { uncached: true });
    zero(copied); // a copy of the cached chunk: the cache is untouched
    expect(Array.from(await tas.read(chunk), Number)).toEqual(expected);
    expect(Array.from(cached, Number)).toEqual(expected);
  });

  it('transcodes an uncached whole chunk in one codec job (charged as the read), and leaves everything else to read()', async () => {
    const { registry } = context();
    const dataset = registry.get('basic');
    if (!dataset) throw new Error('basic not served');
    const cache = new DecodedChunkCache(64 * 1024 * 1024);
    const tas = datasetValues(dataset, registry.sources, cache).array('tas');
    if (!tas?.transcode) throw new Error('no tas, or it cannot transcode');
    const want = (await expectedValues('basic')).get('tas') as Expected;
    const chunk = tas.shape.map((n, d) => ({ start: 0, stop: Math.min(tas.chunks[d] as number, n), step: 1 }));
    const type = parseNumericDtype(tas.dtype);
    if (!type) throw new Error('not numeric');
    const native = `<${tas.dtype.slice(1)}`;
    const target = {
      zarr_format: 2,
      shape: [...tas.shape],
      chunks: [...tas.chunks],
      dtype: native,
      compressor: { id: 'zstd', level: 1 },
      filters: null,
      fill_value: null,
      order: 'C',
    } as const;
    const plan = { target: target as unknown as ZarrArrayMetadata, steps: [] };

    const budget = new RequestBudget();
    const encoded = await withBudget(budget, () => tas.transcode?.(chunk, plan));
    if (!encoded) throw new Error('not transcoded');
    const values = parseNumericDtype(native)?.view(await decodeChunk(encoded, plan.target));
    expect(Array.from(values ?? [], Number)).toEqual(pick(want, chunk));
    expect(cache.bytes).toBe(0);
    // charged as read({uncached}) charges the same chunk: one chunk, its bytes for the output and the decode
    const chunkBytes = (tas.chunks as number[]).reduce((a, b) => a * b, type.size);
    expect([budget.chunks, budget.decodedBytes]).toEqual([1, 2 * chunkBytes]);
    const reading = new RequestBudget();
    await withBudget(reading, () => tas.read(chunk, undefined, { uncached: true }));
    expect([reading.chunks, reading.decodedBytes]).toEqual([1, 2 * chunkBytes]);

    // over the budget: refused before the source is read
    const small = new RequestBudget({ ...DEFAULT_BUDGET_LIMITS, decodedBytes: chunkBytes });
    await expect(withBudget(small, () => tas.transcode?.(chunk, plan))).rejects.toBeInstanceOf(BudgetExceededError);

    // not one whole chunk, or held decoded already: read() does it
    const part = chunk.map((slice, d) => (d === 0 ? { ...slice, stop: slice.stop - 1 } : slice));
    expect(await tas.transcode(part, plan)).toBeUndefined();
    expect(
      await tas.transcode(
        chunk.map((slice) => ({ ...slice, step: 2 })),
        plan,
      ),
    ).toBeUndefined();
    await tas.read(chunk);
    expect(await tas.transcode(chunk, plan)).toBeUndefined();
  });

  it('refuses selections outside the array', async () => {
    const { registry } = context();
    const dataset = registry.get('basic');
    const tas = dataset && datasetValues(dataset, registry.sources).array('tas');
    if (!tas) throw new Error('no tas');
    await expect(
      tas.read([
        { start: 0, stop: 13, step: 1 },
        { start: 0, stop: 6, step: 1 },
        { start: 0, stop: 8, step: 1 },
      ]),
    ).rejects.toThrow(/outside/);
    await expect(tas.read([{ start: 0, stop: 1, step: 1 }])).rejects.toThrow(/3 dimensions/);
    await expect(
      tas.read([
        { start: 0, stop: 1, step: 0 },
        { start: 0, stop: 1, step: 1 },
        { start: 0, stop: 1, step: 1 },
      ]),
    ).rejects.toThrow(/step/);
  });
});
