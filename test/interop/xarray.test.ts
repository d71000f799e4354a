import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFixtureServer } from '../helpers/fixture-server.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

interface CheckReport {
  ok: boolean;
  problems: string[];
  variables: number;
  values: number;
}

/**
 * xarray + zarr-python + fsspec (Debian's) open every served dataset over HTTP and must read
 * exactly what xr.open_dataset / open_mfdataset reads from the NetCDF4 files: dims, coords,
 * attributes, encodings and every value, CF-decoded and raw.
 */
const context = useFixtureServer();

describe('xarray over /kerchunk', () => {
  it('serves every fixture dataset', async () => {
    const { fixtures, server } = context();
    const ids = (await (await fetch(`${server.url}/datasets`)).json()) as string[];
    expect(ids.sort()).toEqual(fixtures.datasets.map((d) => d.id).sort());
  });

  const cases = ['basic', 'templated', 'generated', 'combined'].flatMap((id) => [id, `${id}-parquet`]);
  for (const id of cases) {
    it(`reads ${id} exactly as the NetCDF4 files`, async () => {
      const { fixtures, server } = context();
      const dataset = fixtures.datasets.find((d) => d.id === id);
      if (!dataset) throw new Error(`no fixture ${id}`);
      const args = ['--url', `${server.url}/datasets/${id}/kerchunk`, '--files', ...dataset.files];
      if (dataset.concatDim) args.push('--combine-dim', dataset.concatDim);
      const result = await runPython('test/interop/check_xarray.py', args);
      const report = lastJsonLine<CheckReport>(result.stdout || '{}');
      expect(report.problems, result.stderr).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.variables).toBeGreaterThan(3);
      expect(result.code).toBe(0);
    });
  }
});

describe('xarray over the bundled demo', () => {
  let demo: SpawnedServer;
  beforeAll(async () => {
    demo = await spawnServer(join(repoRoot, 'demo', 'catalog.yaml'), ['--log-level', 'warn']);
  });
  afterAll(async () => demo?.stop());

  const demoFiles: Record<string, string[]> = {
    'tas-daily': ['demo/data/tas_day_2001.nc', 'demo/data/tas_day_2002.nc'],
    'pr-daily': ['demo/data/pr_day_2001-2002.nc'],
  };
  for (const [id, files] of Object.entries(demoFiles)) {
    it(`reads demo dataset ${id} exactly as its files`, async () => {
      const args = ['--url', `${demo.url}/datasets/${id}/kerchunk`, '--files', ...files.map((f) => join(repoRoot, f))];
      if (files.length > 1) args.push('--combine-dim', 'time');
      const result = await runPython('test/interop/check_xarray.py', args);
      const report = lastJsonLine<CheckReport>(result.stdout || '{}');
      expect(report.problems, result.stderr).toEqual([]);
      expect(report.ok).toBe(true);
    });
  }
});
