import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { bulkIngest } from '../../ingest/bulk-command.js';
import type { RunningServer } from '../../server/serve.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { lastJsonLine, PYTHON } from '../helpers/python.js';
import { startInProcess } from '../helpers/server.js';

/*
 * `strato ingest --from-intake`: an intake v1 catalog with two levels of nested catalogs, JSON and
 * parquet `reference://` entries, one broken table, one table referencing a file outside
 * sources.allow and one entry of another driver. The good ones are registered, served and read
 * by xarray exactly as the NetCDF files; the bad ones are reported (exit 1); a re-run changes
 * nothing. The catalog is one Debian's intake itself parses.
 */

const run = promisify(execFile);

async function ingestCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await bulkIngest(args, { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

let fixtures: Fixtures;
let catalog: string;
let intake: string;

const MAIN = `metadata:
  version: 1
sources:
  atmos:
    driver: intake_xarray.xzarr.ZarrSource
    description: Basic fields on a small grid
    metadata:
      title: Basic atmosphere
      realm: atmos
    args:
      urlpath: reference://
      storage_options:
        fo: "{{ CATALOG_DIR }}/../basic.json"
        remote_protocol: file
      consolidated: false
  broken:
    driver: zarr
    args:
      urlpath: reference://
      storage_options: {fo: broken.json}
  outside:
    driver: zarr
    args:
      urlpath: reference://
      storage_options: {fo: outside.json}
  stations:
    driver: csv
    args: {urlpath: "{{ CATALOG_DIR }}/stations.csv"}
  hist:
    driver: intake.catalog.local.YAMLFileCatalog
    args: {path: "{{ CATALOG_DIR }}/hist.yaml"}
`;

const HIST = `sources:
  ocean:
    driver: zarr
    description: the same fields from parquet references
    args:
      urlpath: reference://
      storage_options: {fo: ../basic.parq, remote_protocol: file}
  deeper:
    driver: yaml_file_cat
    args: {path: "{{ CATALOG_DIR }}/deeper/deeper.yaml"}
`;

const DEEPER = `sources:
  day:
    driver: zarr
    args:
      urlpath: reference://
      storage_options: {fo: "{{ CATALOG_DIR }}/../../refs/templated.json"}
`;

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  catalog = join(fixtures.dir, 'ingest-intake.yaml');
  await writeFile(catalog, '# the archive, from intake\ndatasets: {}\nsources:\n  allow: [data/]\n');
  const dir = join(fixtures.dir, 'intake');
  await mkdir(join(dir, 'deeper'), { recursive: true });
  intake = join(dir, 'main.yaml');
  await writeFile(intake, MAIN);
  await writeFile(join(dir, 'hist.yaml'), HIST);
  await writeFile(join(dir, 'deeper', 'deeper.yaml'), DEEPER);
  await writeFile(join(dir, 'broken.json'), '{"version": 1, "refs": {".zgroup": "{\\"zarr_format\\": 2}", "x/.zarray": ');
  const zarray = JSON.stringify({ shape: [4], chunks: [4], dtype: '|u1', compressor: null, filters: null, fill_value: 0, order: 'C', zarr_format: 2 });
  await writeFile(
    join(dir, 'outside.json'),
    JSON.stringify({ version: 1, refs: { '.zgroup': '{"zarr_format": 2}', 'x/.zarray': zarray, 'x/.zattrs': '{"_ARRAY_DIMENSIONS": ["x"]}', 'x/0': ['/etc/hostname', 0, 4] } }),
  );
});
afterAll(async () => {
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
});

describe('strato ingest --from-intake', () => {
  it('is a catalog Debian intake itself parses, nested catalogs included', async () => {
    const script = [
      'import intake, json, os, sys',
      'from intake.catalog.utils import merge_pars',
      'cat = intake.open_catalog(sys.argv[1])',
      'top = sorted(cat)',
      'hist = sorted(cat.hist)',
      'deeper = sorted(cat.hist.deeper)',
      'day = cat.hist.deeper._entries["day"]',
      '# the arguments intake would open the source with (its templates expanded; the driver is not installed)',
      'args = merge_pars({"CATALOG_DIR": day._catalog_dir, **day._open_args}, {}, day._user_parameters, getshell=False, getenv=False, client=False)',
      'print(json.dumps({"top": top, "hist": hist, "deeper": deeper, "fo": os.path.normpath(args["storage_options"]["fo"])}))',
    ].join('\n');
    const { stdout } = await run(PYTHON, ['-c', script, intake], { cwd: tmpdir(), timeout: 60_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    const listed = lastJsonLine<{ top: string[]; hist: string[]; deeper: string[]; fo: string }>(stdout);
    expect(listed.top).toEqual(['atmos', 'broken', 'hist', 'outside', 'stations']);
    expect(listed.hist).toEqual(['deeper', 'ocean']);
    expect(listed.deeper).toEqual(['day']);
    // intake expands {{ CATALOG_DIR }} as strato does
    expect(listed.fo).toBe(join(fixtures.dir, 'refs', 'templated.json'));
  });

  it('registers the good entries, reports the bad ones (exit 1) and writes the catalog once', async () => {
    const result = await ingestCli('--catalog', catalog, '--from-intake', intake);
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toContain('added atmos');
    expect(lines).toContain('added hist.ocean');
    expect(lines).toContain('added hist.deeper.day');
    expect(lines.find((l) => l.startsWith('skipped broken: '))).toMatch(/broken\.json/);
    expect(lines.find((l) => l.startsWith('skipped outside: '))).toMatch(/outside|allow/i);
    expect(lines.find((l) => l.startsWith('ignored stations: '))).toMatch(/driver "csv"/);
    expect(lines.at(-1)).toBe('strato ingest: 3 added, 0 updated, 0 unchanged, 0 removed, 2 skipped, 1 ignored; catalog written');
    const loaded = await loadCatalog(catalog);
    expect(loaded.problems).toEqual([]);
    expect(loaded.datasets.map((d) => d.id).sort()).toEqual(['atmos', 'hist.deeper.day', 'hist.ocean']);
    const atmos = loaded.datasets.find((d) => d.id === 'atmos');
    expect(atmos).toMatchObject({ refs: 'basic.json', title: 'Basic atmosphere', description: 'Basic fields on a small grid' });
    expect(atmos?.fields.metadata).toEqual({ title: 'Basic atmosphere', realm: 'atmos' });
    expect(loaded.datasets.find((d) => d.id === 'hist.ocean')?.refs).toBe('basic.parq');
    expect((await readFile(catalog, 'utf8')).startsWith('# the archive, from intake')).toBe(true);
  });

  it('a second run reports no change and writes nothing', async () => {
    const before = await readFile(catalog, 'utf8');
    const result = await ingestCli('--catalog', catalog, '--from-intake', intake);
    expect(result.code).toBe(1); // the broken entries are still reported
    expect(result.stdout).not.toMatch(/^(added|updated|removed) /m);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('strato ingest: 0 added, 0 updated, 3 unchanged, 0 removed, 2 skipped, 1 ignored; no change, catalog not written');
    expect(await readFile(catalog, 'utf8')).toBe(before);
  });

  describe('served', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startInProcess(catalog);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('xarray reads every registered dataset through strato exactly as its NetCDF file', async () => {
      const script = [
        'import json, sys, xarray as xr',
        'url = sys.argv[1]',
        'checked = {}',
        'for pair in sys.argv[2:]:',
        '    dataset_id, nc = pair.split("=", 1)',
        '    ds = xr.open_dataset(f"{url}/datasets/{dataset_id}/kerchunk", engine="zarr", consolidated=True).load()',
        '    src = xr.open_dataset(nc).load()',
        '    names = sorted(src.data_vars)',
        '    xr.testing.assert_identical(ds[names], src[names])',
        '    checked[dataset_id] = names',
        'print(json.dumps(checked))',
      ].join('\n');
      const file = (id: string) => fixtures.datasets.find((d) => d.id === id)?.files[0] ?? '';
      const pairs = [`atmos=${file('basic')}`, `hist.ocean=${file('basic')}`, `hist.deeper.day=${file('templated')}`];
      const { stdout } = await run(PYTHON, ['-c', script, server.url, ...pairs], { cwd: tmpdir(), timeout: 120_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
      const checked = lastJsonLine<Record<string, string[]>>(stdout);
      expect(Object.keys(checked).sort()).toEqual(['atmos', 'hist.deeper.day', 'hist.ocean']);
      for (const names of Object.values(checked)) expect(names.length).toBeGreaterThan(0);
    });

    it('the bad entries are not served', async () => {
      for (const id of ['broken', 'outside', 'stations']) expect((await fetch(`${server.url}/datasets/${id}/kerchunk/.zmetadata`)).status).toBe(404);
    });
  });
});
