import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatasetEntry, parseCatalog } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import { datasetValues } from '../kerchunk/array-reader.js';
import { parseJsonReferences } from '../kerchunk/json-references.js';
import { BudgetExceededError, RequestBudget, withBudget } from '../kerchunk/request-budget.js';
import { Sources } from '../kerchunk/sources/sources.js';
import { derivedOpener } from './open-derived.js';

const base64 = (values: Float32Array | Float64Array) => `base64:${Buffer.from(values.buffer).toString('base64')}`;

/** tas(time=4, lat=2) with inline chunks of one time step, daily times in January 2000. */
function source(entry: DatasetEntry, dir: string): Dataset {
  const refs: Record<string, string> = {
    '.zgroup': '{"zarr_format":2}',
    'time/.zarray': JSON.stringify({ zarr_format: 2, shape: [4], chunks: [4], dtype: '<f8', compressor: null, filters: null, fill_value: null, order: 'C' }),
    'time/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time'], units: 'days since 2000-01-01', calendar: 'standard' }),
    'time/0': base64(Float64Array.of(0, 1, 2, 40)),
    'lat/.zarray': JSON.stringify({ zarr_format: 2, shape: [2], chunks: [2], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' }),
    'lat/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['lat'], units: 'degrees_north' }),
    'lat/0': base64(Float32Array.of(10, 20)),
    'tas/.zarray': JSON.stringify({ zarr_format: 2, shape: [4, 2], chunks: [1, 2], dtype: '<f4', compressor: null, filters: null, fill_value: 'NaN', order: 'C' }),
    'tas/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time', 'lat'], units: 'K' }),
  };
  for (let t = 0; t < 4; t++) if (t !== 1) refs[`tas/${t}.0`] = base64(Float32Array.of(t, 10 * t));
  return { id: entry.id, entry, references: parseJsonReferences(JSON.stringify({ version: 1, refs }), 'src.json'), referenceBase: dir };
}

let dir: string;
let sources: Sources;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-derive-'));
  sources = await Sources.create({ allow: [dir], baseDir: dir });
});
afterAll(async () => {
  await sources?.close();
  await rm(dir, { recursive: true, force: true });
});

const YAML = `
datasets:
  src: {refs: src.json}
  monthly: {derive: {from: src, resample: {time: month}, reduce: mean}}
  monthly-max: {derive: {from: monthly, reduce: max, over: [lat]}}
  loop-a: {derive: {from: loop-b, resample: {time: day}, reduce: mean}}
  loop-b: {derive: {from: loop-a, resample: {time: day}, reduce: mean}}
  self: {derive: {from: self, resample: {time: day}, reduce: mean}}
  orphan: {derive: {from: nowhere, resample: {time: day}, reduce: mean}}
  unfit: {derive: {from: src, variables: [pr]}}
  after-unfit: {derive: {from: unfit, resample: {time: day}, reduce: mean}}
`;

describe('opening derived entries', () => {
  it('opens chains in dependency order and reports cycles, unknown sources and unfit specs', async () => {
    const catalog = parseCatalog(YAML, join(tmpdir(), 'catalog.yaml'));
    const [srcEntry, ...derived] = catalog.datasets;
    if (!srcEntry) throw new Error('no source');
    const src = source(srcEntry, dir);
    const open = derivedOpener();
    const result = await open(derived, new Map([['src', src]]), sources);
    expect(result.datasets.map((d) => d.id).sort()).toEqual(['monthly', 'monthly-max']);
    const problems = new Map(result.problems.map((p) => [p.id, p.message]));
    expect(problems.get('loop-a') ?? problems.get('loop-b')).toMatch(/cycle/);
    expect(problems.get('self')).toMatch(/cycle: self → self/);
    expect(problems.get('orphan')).toMatch(/"nowhere", which is not served/);
    expect(problems.get('unfit')).toMatch(/no numeric variable "pr"/);
    expect(problems.get('after-unfit')).toMatch(/cannot be derived/);

    // values: January mean of steps 0, 2 (step 1 is a missing chunk → NaN, skipped); February: step 3
    const monthly = result.datasets.find((d) => d.id === 'monthly') as Dataset;
    const tas = datasetValues(monthly, sources).array('tas');
    expect([
      ...((await tas?.read([
        { start: 0, stop: 2, step: 1 },
        { start: 0, stop: 2, step: 1 },
      ])) ?? []),
    ]).toEqual([1, 10, 3, 30]);
    const max = datasetValues(result.datasets.find((d) => d.id === 'monthly-max') as Dataset, sources).array('tas');
    expect([...((await max?.read([{ start: 0, stop: 2, step: 1 }])) ?? [])]).toEqual([10, 30]);

    // reopened with the same source: the same derived dataset (its cached chunks kept)
    const again = await open(derived, new Map([['src', src]]), sources);
    expect(again.datasets.find((d) => d.id === 'monthly')).toBe(monthly);
  });

  it('a derived chunk is computed within the request budget', async () => {
    const catalog = parseCatalog(YAML, join(tmpdir(), 'catalog.yaml'));
    const [srcEntry, ...derived] = catalog.datasets;
    if (!srcEntry) throw new Error('no source');
    const result = await derivedOpener()(derived, new Map([['src', source(srcEntry, dir)]]), sources);
    const monthly = result.datasets.find((d) => d.id === 'monthly') as Dataset;
    const budget = new RequestBudget({ chunks: 2, decodedBytes: 1e9, wallMs: 60_000 });
    await expect(withBudget(budget, () => monthly.references.chunk('tas/0.0'))).rejects.toBeInstanceOf(BudgetExceededError);
    budget.close();
  });

  it('refuses to publish a protected source through a derived dataset without the same access', async () => {
    const catalog = parseCatalog(
      `auth: {issuers: [{issuer: "https://id.example", audience: strato}]}\ndatasets:\n  src: {refs: src.json, access: {roles: [a]}}\n  open: {derive: {from: src, resample: {time: month}, reduce: mean}}\n  same: {derive: {from: src, resample: {time: month}, reduce: mean}, access: {roles: [a]}}\n`,
      join(tmpdir(), 'catalog.yaml'),
    );
    const srcEntry = catalog.datasets.find((d) => d.id === 'src');
    if (!srcEntry) throw new Error(JSON.stringify(catalog.problems));
    const result = await derivedOpener()(
      catalog.datasets.filter((d) => d.derive),
      new Map([['src', source(srcEntry, dir)]]),
      sources,
    );
    expect(result.datasets.map((d) => d.id)).toEqual(['same']);
    expect(result.problems[0]?.message).toMatch(/protected dataset "src" and must have the same "access"/);
  });
});
