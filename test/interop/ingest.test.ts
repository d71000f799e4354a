import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { CLI_PATH, type SpawnedServer, spawnServer } from '../helpers/server.js';

const run = promisify(execFile);

interface CheckReport {
  ok: boolean;
  problems: string[];
  variables: number;
  values: number;
}

/**
 * `strato ingest` end to end: the fixture NetCDF files are scanned by strato itself (not by the
 * Python reference scanner), registered in a fresh catalog, served, and xarray must read from the
 * server exactly what it reads from the files.
 */

async function check(id: string): Promise<{ report: CheckReport; stderr: string; code: number }> {
  const dataset = cases.find((c) => c.id === id);
  if (!dataset) throw new Error(`no case ${id}`);
  const args = ['--url', `${server.url}/datasets/${id}/kerchunk`, '--files', ...dataset.files];
  if (dataset.concatDim) args.push('--combine-dim', dataset.concatDim);
  const result = await runPython('test/interop/check_xarray.py', args);
  return { report: lastJsonLine<CheckReport>(result.stdout || '{}'), stderr: result.stderr, code: result.code };
}

let fixtures: Fixtures;
let catalog: string;
let server: SpawnedServer;
const cases: { id: string; files: string[]; format: 'json' | 'parquet'; concatDim?: string }[] = [];

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  catalog = join(fixtures.dir, 'ingested.yaml');
  await writeFile(catalog, 'datasets: {}\nsources:\n  allow: [data/]\n');
  const series = [0, 1, 2].map((i) => join(fixtures.dir, 'data', `series_${i}.nc`));
  const basic = [join(fixtures.dir, 'data', 'basic.nc')];
  for (const format of ['json', 'parquet'] as const) {
    cases.push({ id: `series-${format}`, files: series, format, concatDim: 'time' });
    cases.push({ id: `basic-${format}`, files: basic, format });
  }
  for (const c of cases) {
    const args = ['ingest', '--catalog', catalog, '--id', c.id, '--format', c.format, ...(c.concatDim ? ['--concat-dim', c.concatDim] : []), ...c.files];
    if (c.format === 'parquet') args.push('--record-size', '7');
    await run(process.execPath, [CLI_PATH, ...args], { timeout: 60_000 });
  }
  server = await spawnServer(catalog, ['--log-level', 'warn']);
});
afterAll(async () => {
  await server?.stop();
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
});

describe('xarray over datasets made by strato ingest', () => {
  for (const id of ['series-json', 'series-parquet', 'basic-json', 'basic-parquet']) {
    it(`reads ${id} as the NetCDF4 files`, async () => {
      const { report, stderr } = await check(id);
      // attribute types too: float attributes with integral values (valid_range 150.0) stay floats
      expect(report.problems, stderr).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.variables).toBeGreaterThan(3);
    });
  }
});
