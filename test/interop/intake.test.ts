import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

interface Report {
  ok: boolean;
  problems: string[];
  opened: string[];
  driver_zarr: boolean;
}

/**
 * Debian's intake (python3-intake 0.6.6) reads /intake.yaml and /datasets/{id}/catalog.yaml of
 * the demo server; every source's data opens in xarray (through intake-xarray's `zarr` driver
 * when installed; Debian does not package it, so otherwise from intake's expanded urlpath).
 */
let server: SpawnedServer;
const IDS = ['pr-daily', 'tas-daily'];

beforeAll(async () => {
  server = await spawnServer(join(repoRoot, 'demo', 'catalog.yaml'), ['--log-level', 'warn']);
});
afterAll(async () => server?.stop());

describe('intake', () => {
  it('/intake.yaml: one zarr source per dataset, method parameter, urlpath template', async () => {
    const response = await fetch(`${server.url}/intake.yaml`);
    expect(response.headers.get('content-type')).toContain('yaml');
    const document = parse(await response.text()) as {
      metadata: { version: number };
      sources: Record<string, { driver: string; args: { urlpath: string; consolidated: boolean }; parameters: { method: Record<string, unknown> }; description: string }>;
    };
    expect(document.metadata.version).toBe(1);
    expect(Object.keys(document.sources).sort()).toEqual(IDS);
    for (const id of IDS) {
      const source = document.sources[id];
      expect(source?.driver).toBe('zarr');
      expect(source?.args).toEqual({ urlpath: `${server.url}/datasets/${id}/{{ method }}`, consolidated: true });
      expect(source?.parameters.method).toMatchObject({ type: 'str', allowed: ['kerchunk', 'zarr'], default: 'kerchunk' });
      expect(source?.description.length).toBeGreaterThan(10);
    }
    const single = parse(await (await fetch(`${server.url}/datasets/tas-daily/catalog.yaml`)).text()) as { sources: Record<string, { args: { urlpath: string } }> };
    expect(Object.keys(single.sources)).toEqual(['kerchunk', 'zarr']);
    expect(single.sources.zarr?.args.urlpath).toBe(`${server.url}/datasets/tas-daily/zarr`);
    expect((await fetch(`${server.url}/datasets/nope/catalog.yaml`)).status).toBe(404);
  });

  it("Debian's intake loads the catalogs and every source opens in xarray", async () => {
    // The processed view is a separate plugin: open it through intake when the server serves it.
    const processed = (await fetch(`${server.url}/datasets/tas-daily/zarr/.zmetadata`)).status === 200;
    const views = processed ? ['kerchunk', 'zarr'] : ['kerchunk'];
    const result = await runPython('test/interop/check_intake.py', ['--url', server.url, '--ids', ...IDS, '--views', ...views]);
    const report = lastJsonLine<Report>(result.stdout || '{}');
    expect(report.problems, result.stderr).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.opened.length).toBeGreaterThanOrEqual(IDS.length * views.length);
    console.log(
      `intake check: driver zarr ${report.driver_zarr ? 'present (intake-xarray)' : 'absent (no intake-xarray)'}; views ${views.join(', ')}; opened ${report.opened.join(' ')}`,
    );
  });
});
