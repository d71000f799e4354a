import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { startInProcess } from '../helpers/server.js';

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
