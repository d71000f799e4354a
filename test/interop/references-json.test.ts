import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { repoRoot, startInProcess } from '../helpers/server.js';

interface CheckReport {
  ok: boolean;
  problems: string[];
  variables: number;
  references: number;
}

/**
 * Debian's fsspec 2022.11 + xarray open `/datasets/{id}/references.json` as a user would
 * (`fsspec.filesystem("reference", fo=URL, remote_protocol="http")`) and read exactly what the
 * NetCDF4 files hold, for JSON- and parquet-referenced datasets: every chunk through strato's
 * raw view.
 */
let fixtures: Fixtures;
let server: RunningServer;
beforeAll(async () => {
  fixtures = await makeFixtures();
  server = await startInProcess(fixtures.catalog);
});
afterAll(async () => {
  await server?.close();
});

describe('fsspec + xarray over references.json', () => {
  const cases = ['basic', 'templated', 'generated', 'combined'].flatMap((id) => [id, `${id}-parquet`]);
  for (const id of cases) {
    for (const templates of [false, true]) {
      it(`reads ${id}${templates ? ' (templates)' : ''} exactly as the NetCDF4 files`, async () => {
        const dataset = fixtures.datasets.find((d) => d.id === id);
        if (!dataset) throw new Error(`no fixture ${id}`);
        const url = `${server.url}/datasets/${id}/references.json${templates ? '?templates=true' : ''}`;
        const args = ['--url', url, '--files', ...dataset.files];
        if (dataset.concatDim) args.push('--combine-dim', dataset.concatDim);
        const result = await runPython('test/interop/check_references_json.py', args);
        const report = lastJsonLine<CheckReport>(result.stdout || '{}');
        expect(report.problems, result.stderr).toEqual([]);
        expect(report.ok).toBe(true);
        expect(report.variables).toBeGreaterThan(3);
        expect(report.references).toBeGreaterThan(0);
        expect(result.code).toBe(0);
      });
    }
  }
});

describe('fsspec + xarray over references.json of the demo and a derived dataset', () => {
  let dir: string;
  let demo: RunningServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strato-refs-demo-'));
    const catalog = join(dir, 'catalog.yaml');
    const refs = join(repoRoot, 'demo', 'refs');
    await writeFile(
      catalog,
      `datasets:\n  tas-daily:\n    refs: ${join(refs, 'tas-daily.json')}\n  pr-daily:\n    refs: ${join(refs, 'pr-daily.json')}\n` +
        `  tas-monthly:\n    derive: {from: tas-daily, resample: {time: month}, reduce: mean}\nsources:\n  allow: [${join(repoRoot, 'demo', 'data')}/]\n`,
    );
    demo = await startInProcess(catalog);
  });
  afterAll(async () => {
    await demo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const demoFiles: Record<string, string[]> = {
    'tas-daily': ['demo/data/tas_day_2001.nc', 'demo/data/tas_day_2002.nc'],
    'pr-daily': ['demo/data/pr_day_2001-2002.nc'],
  };
  for (const [id, files] of Object.entries(demoFiles)) {
    it(`reads demo ${id} exactly as its files`, async () => {
      const args = ['--url', `${demo.url}/datasets/${id}/references.json`, '--files', ...files.map((f) => join(repoRoot, f))];
      if (files.length > 1) args.push('--combine-dim', 'time');
      const result = await runPython('test/interop/check_references_json.py', args);
      const report = lastJsonLine<CheckReport>(result.stdout || '{}');
      expect(report.problems, result.stderr).toEqual([]);
      expect(result.code).toBe(0);
    });
  }

  it('reads a derived dataset exactly as its raw view serves it', async () => {
    const args = ['--url', `${demo.url}/datasets/tas-monthly/references.json`, '--against', `${demo.url}/datasets/tas-monthly/kerchunk`];
    const result = await runPython('test/interop/check_references_json.py', args);
    const report = lastJsonLine<CheckReport>(result.stdout || '{}');
    expect(report.problems, result.stderr).toEqual([]);
    expect(report.references).toBeGreaterThan(0);
    expect(result.code).toBe(0);
  });
});
