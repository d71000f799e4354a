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
 * Debian's intake (python3-intake 0.6.6, no intake-xarray) reads /intake.yaml and
 * /datasets/{id}/catalog.yaml of the demo server: the driver-zarr sources fail as intake says
 * ("No plugins loaded") but say what they need and give the xarray line, which opens; the
 * `_arrays` sources (intake's built-in zarr_cat driver) open through intake alone, every array
 * equal to xarray's. With intake-xarray installed the driver-zarr sources open too.
 */
let server: SpawnedServer;
const IDS = ['pr-daily', 'tas-daily'];

beforeAll(async () => {
  server = await spawnServer(join(repoRoot, 'demo', 'catalog.yaml'), ['--log-level', 'warn']);
});
afterAll(async () => server?.stop());

describe('intake', () => {
  it('/intake.yaml: a zarr and a zarr_cat source per dataset, method parameter, urlpath template, what each needs', async () => {
    const response = await fetch(`${server.url}/intake.yaml`);
    expect(response.headers.get('content-type')).toContain('yaml');
    const text = await response.text();
    expect(text).not.toMatch(/[&*]a\d/); // no YAML anchors: every source reads on its own
    const document = parse(text) as {
      description: string;
      metadata: { version: number };
      sources: Record<
        string,
        { driver: string; args: { urlpath: string; consolidated: boolean }; parameters: { method: Record<string, unknown> }; description: string; metadata: { xarray: string } }
      >;
    };
    expect(document.metadata.version).toBe(1);
    expect(document.description).toContain('intake-xarray');
    expect(document.description).toContain('zarr_cat');
    expect(Object.keys(document.sources).sort()).toEqual(IDS.flatMap((id) => [id, `${id}_arrays`]).sort());
    for (const id of IDS) {
      for (const [name, driver] of [
        [id, 'zarr'],
        [`${id}_arrays`, 'zarr_cat'],
      ] as const) {
        const source = document.sources[name];
        expect(source?.driver).toBe(driver);
        expect(source?.args).toEqual({ urlpath: `${server.url}/datasets/${id}/{{ method }}`, consolidated: true });
        expect(source?.parameters.method).toMatchObject({ type: 'str', allowed: ['kerchunk', 'zarr'], default: 'kerchunk' });
        expect(source?.metadata.xarray).toBe(`xarray.open_dataset("${server.url}/datasets/${id}/kerchunk", engine="zarr", consolidated=True)`);
      }
      expect(document.sources[id]?.description).toContain(
        `Needs intake-xarray (driver zarr; Debian 12 does not package it). Without it: xarray.open_dataset("${server.url}/datasets/${id}/kerchunk"`,
      );
      expect(document.sources[id]?.description).toContain(`or the source ${id}_arrays (no plugin needed)`);
    }
    const single = parse(await (await fetch(`${server.url}/datasets/tas-daily/catalog.yaml`)).text()) as { sources: Record<string, { driver: string; args: { urlpath: string } }> };
    expect(Object.keys(single.sources)).toEqual(['kerchunk', 'zarr', 'kerchunk_arrays', 'zarr_arrays']);
    expect(single.sources.zarr?.args.urlpath).toBe(`${server.url}/datasets/tas-daily/zarr`);
    expect(single.sources.zarr_arrays).toMatchObject({ driver: 'zarr_cat', args: { urlpath: `${server.url}/datasets/tas-daily/zarr` } });
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
    expect(report.opened.length).toBeGreaterThanOrEqual(IDS.length * (1 + 2 * views.length));
    console.log(
      `intake check: driver zarr ${report.driver_zarr ? 'present (intake-xarray)' : 'absent (no intake-xarray)'}; views ${views.join(', ')}; opened ${report.opened.join(' ')}`,
    );
  });
});
