import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { stratoVersion } from '../../server/version.js';
import { type ClassicAttribute, classicNetcdf } from '../adversarial/classic-netcdf.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { openApp } from '../helpers/in-process-app.js';
import { lastJsonLine, PYTHON } from '../helpers/python.js';
import { CLI_PATH, type SpawnedServer, spawnServer } from '../helpers/server.js';

const run = promisify(execFile);

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI: `strato ingest ARGS` (needs `npm run build`). */
async function strato(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_PATH, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let fixtures: Fixtures;
let catalog: string;
let series: string[];

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  catalog = join(fixtures.dir, 'ingest.yaml');
  await writeFile(catalog, '# datasets ingested by the test\ndatasets: {}\nsources:\n  allow: [data/]\n');
  series = [0, 1, 2].map((i) => join(fixtures.dir, 'data', `series_${i}.nc`));
});
afterAll(async () => {
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
});

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('strato ingest', () => {
  it('ingests three files along time as JSON v1 and registers the dataset', async () => {
    const result = await strato('ingest', '--catalog', catalog, '--id', 'series-json', '--concat-dim', 'time', '--title', 'Series', ...series);
    expect(result.stderr).toMatch(/scanned 3\/3 .*series_2\.nc/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/added "series-json" → refs\/series-json\.json \(json\): 3 files, 7 variables, \d+ chunks, .* referenced; scan [\d.]+ s/);
    const entry = (await loadCatalog(catalog)).datasets.find((d) => d.id === 'series-json');
    expect(entry).toMatchObject({ refs: 'refs/series-json.json', title: 'Series' });
    const table = JSON.parse(await readFile(join(fixtures.dir, 'refs', 'series-json.json'), 'utf8')) as { version: number; refs: Record<string, unknown> };
    expect(table.version).toBe(1);
    const urls = Object.values(table.refs)
      .filter(Array.isArray)
      .map((ref) => (ref as string[])[0]);
    expect(urls.length).toBeGreaterThan(0);
    // Absolute paths by default: plain fsspec opens the table from any working directory.
    for (const url of urls) expect([0, 1, 2].map((i) => join(fixtures.dir, 'data', `series_${i}.nc`))).toContain(url);
    expect((await readFile(catalog, 'utf8')).startsWith('# datasets ingested by the test')).toBe(true);
  });

  it('records the ingest in the entry, and the provenance shows it as the activity that made the table', async () => {
    const entry = (await loadCatalog(catalog)).datasets.find((d) => d.id === 'series-json');
    expect(entry?.fields.ingest).toMatchObject({ tool: 'strato ingest', strato: stratoVersion(), files: 3, format: 'json', concat_dim: 'time' });
    const ingest = (entry?.fields.ingest ?? {}) as Record<string, unknown>;
    expect(Date.parse(String(ingest.time))).toBeGreaterThan(Date.now() - 600_000);
    const app = await openApp(catalog);
    try {
      const document = (await (await app.request('/datasets/series-json/provenance')).json()) as { activity: Record<string, Record<string, unknown>> };
      expect(document.activity['ds:ingest']).toMatchObject({ 'strato:tool': 'strato ingest', 'strato:strato': stratoVersion(), 'strato:files': { $: '3' } });
    } finally {
      await app.close();
    }
  });

  it('--relative-paths writes paths relative to the table, which strato resolves against it', async () => {
    const result = await strato('ingest', '--catalog', catalog, '--id', 'series-relative', '--relative-paths', '--concat-dim', 'time', ...series);
    expect(result.code, result.stderr).toBe(0);
    const table = JSON.parse(await readFile(join(fixtures.dir, 'refs', 'series-relative.json'), 'utf8')) as { refs: Record<string, unknown> };
    const urls = Object.values(table.refs)
      .filter(Array.isArray)
      .map((ref) => (ref as string[])[0]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^\.\.\/data\/series_[012]\.nc$/); // relative to refs/
  });

  it('ingests as parquet (absolute paths)', async () => {
    const result = await strato('ingest', '--catalog', catalog, '--id', 'series-parquet', '--format', 'parquet', '--record-size', '7', '--concat-dim', 'time', ...series);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('refs/series-parquet.parq (parquet)');
    expect((await stat(join(fixtures.dir, 'refs', 'series-parquet.parq', '.zmetadata'))).isFile()).toBe(true);
  });

  it('plain fsspec + xarray open the ingested table from another directory, equal to the files', async () => {
    // Issue 16, item 6: `fsspec.filesystem("reference", fo=...)` with no other argument, run away
    // from the table's folder, as a user would after `strato ingest`.
    const script = [
      'import json, sys, fsspec, xarray as xr',
      'from collections.abc import MutableMapping',
      'fs = fsspec.filesystem("reference", fo=sys.argv[1])',
      // fsspec 2022.11 fails a batch read when one chunk is absent (the fixture has a sparse
      // variable): read key by key, as test/interop/check_references.py explains.
      'class One(MutableMapping):',
      '    def __init__(self, m): self.m = m',
      '    def __getitem__(self, k): return self.m[k]',
      '    def __iter__(self): return iter(fs.references)',
      '    def __len__(self): return len(fs.references)',
      '    def __setitem__(self, k, v): raise PermissionError(k)',
      '    def __delitem__(self, k): raise PermissionError(k)',
      'ds = xr.open_dataset(One(fs.get_mapper("")), engine="zarr", consolidated=False).load()',
      'src = xr.open_mfdataset(sys.argv[2:], combine="nested", concat_dim="time", data_vars="minimal", coords="minimal", compat="override").load()',
      'xr.testing.assert_identical(ds[sorted(src.data_vars)], src[sorted(src.data_vars)])',
      'print(json.dumps({"variables": sorted(ds.data_vars), "time": int(ds.sizes["time"])}))',
    ].join('\n');
    let result: { stdout: string; stderr: string };
    try {
      result = await run(PYTHON, ['-c', script, join(fixtures.dir, 'refs', 'series-json.json'), ...series], {
        cwd: tmpdir(),
        timeout: 60_000,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      });
    } catch (error) {
      throw new Error(`python failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
    }
    const seen = lastJsonLine<{ variables: string[]; time: number }>(result.stdout);
    expect(seen.variables.length).toBeGreaterThan(0);
    expect(seen.time).toBeGreaterThan(1);
  });

  it('ingests a single file without --concat-dim', async () => {
    const result = await strato('ingest', '--catalog', catalog, '--id', 'basic', join(fixtures.dir, 'data', 'basic.nc'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('sparse: time 8→12');
  });

  it('regenerates the static STAC tree when the catalog configures one', async () => {
    const configured = join(fixtures.dir, 'with-site.yaml');
    await writeFile(configured, 'datasets: {}\nsources:\n  allow: [data/]\nstac:\n  static: {out: site, base_url: "http://data.example.test"}\n');
    const result = await strato('ingest', '--catalog', configured, '--id', 'sited', '--out', join(fixtures.dir, 'refs', 'sited.json'), join(fixtures.dir, 'data', 'basic.nc'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/static STAC regenerated: 1 items/);
    const root = JSON.parse(await readFile(join(fixtures.dir, 'site', 'catalog.json'), 'utf8')) as { links: Array<{ rel: string; href: string }> };
    expect(root.links.some((link) => link.rel === 'child')).toBe(true);
    const files = await readdir(join(fixtures.dir, 'site'), { recursive: true });
    const item = files.find((file) => file.endsWith('sited.json'));
    expect(item).toBeDefined();
    const document = JSON.parse(await readFile(join(fixtures.dir, 'site', item as string), 'utf8')) as { id: string; assets: Record<string, { href: string }> };
    expect(document.id).toBe('sited');
    expect(document.assets.kerchunk?.href).toBe('http://data.example.test/datasets/sited/kerchunk');
  });

  it('writes nothing with --dry-run', async () => {
    const before = await readFile(catalog, 'utf8');
    const refsBefore = await readdir(join(fixtures.dir, 'refs'));
    const result = await strato('ingest', '--catalog', catalog, '--id', 'dry', '--dry-run', '--concat-dim', 'time', ...series);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/dry run, nothing written/);
    expect(await readFile(catalog, 'utf8')).toBe(before);
    expect(await readdir(join(fixtures.dir, 'refs'))).toEqual(refsBefore);
  });

  it('refuses an existing id without --replace and replaces it with --replace', async () => {
    const file = join(fixtures.dir, 'data', 'basic.nc');
    const refused = await strato('ingest', '--catalog', catalog, '--id', 'basic', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/dataset "basic" is already in the catalog .*--replace/);
    noStack(refused.stderr);
    const replaced = await strato('ingest', '--catalog', catalog, '--id', 'basic', '--replace', '--license', 'CC0-1.0', file);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout).toContain('replaced "basic"');
    expect((await loadCatalog(catalog)).datasets.find((d) => d.id === 'basic')?.license).toBe('CC0-1.0');
    expect((await readdir(join(fixtures.dir, 'refs'))).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('refuses files outside sources.allow and leaves the catalog unchanged', async () => {
    await mkdir(join(fixtures.dir, 'elsewhere'), { recursive: true });
    const outside = join(fixtures.dir, 'elsewhere', 'basic.nc');
    await copyFile(join(fixtures.dir, 'data', 'basic.nc'), outside);
    const before = await readFile(catalog, 'utf8');
    const result = await strato('ingest', '--catalog', catalog, '--id', 'outside', outside);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(outside);
    expect(result.stderr).toMatch(/outside the catalog's sources\.allow/);
    noStack(result.stderr);
    expect(await readFile(catalog, 'utf8')).toBe(before);
    await expect(stat(join(fixtures.dir, 'refs', 'outside.json'))).rejects.toThrow();
  });

  it('removes a written table that validation refuses (table outside the catalog directory)', async () => {
    const before = await readFile(catalog, 'utf8');
    const elsewhere = await mkdtemp(join(tmpdir(), 'strato-ingest-out-'));
    const out = join(elsewhere, 'refs.json');
    const result = await strato('ingest', '--catalog', catalog, '--id', 'table-outside', '--out', out, join(fixtures.dir, 'data', 'basic.nc'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/outside the catalog's directory and the allowed sources/);
    expect(await readdir(elsewhere)).toEqual([]);
    expect(await readFile(catalog, 'utf8')).toBe(before);
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('says clearly that a file is not HDF5 / NetCDF, or missing', async () => {
    const text = join(fixtures.dir, 'data', 'notes.nc');
    await writeFile(text, 'this is not a netCDF file, only some text long enough to be searched\n'.repeat(20));
    const bad = await strato('ingest', '--catalog', catalog, '--id', 'bad', text);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/notes\.nc: neither HDF5 \/ NetCDF-4 nor NetCDF-3/);
    noStack(bad.stderr);
    const missing = await strato('ingest', '--catalog', catalog, '--id', 'missing', join(fixtures.dir, 'data', 'nope.nc'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.nc: no such file/);
    noStack(missing.stderr);
    expect((await loadCatalog(catalog)).datasets.map((d) => d.id).sort()).toEqual(['basic', 'series-json', 'series-parquet', 'series-relative']);
  });

  it('exits 2 on usage errors', async () => {
    const noId = await strato('ingest', '--catalog', catalog, join(fixtures.dir, 'data', 'basic.nc'));
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain('--id is required');
    const noDim = await strato('ingest', '--catalog', catalog, '--id', 'x', ...series);
    expect(noDim.code).toBe(2);
    expect(noDim.stderr).toContain('--concat-dim');
    const badId = await strato('ingest', '--catalog', catalog, '--id', '../x', ...series);
    expect(badId.code).toBe(2);
    const badFormat = await strato('ingest', '--catalog', catalog, '--id', 'x', '--format', 'csv', ...series);
    expect(badFormat.code).toBe(2);
    const help = await strato('ingest', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--concat-dim');
    expect((await strato('--help')).stdout).toContain('strato ingest');
  });
});

describe('a running server and strato ingest', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer(catalog, ['--log-level', 'warn']);
  });
  afterAll(async () => server?.stop());

  it('serves a dataset ingested while it runs (the catalog is reloaded)', async () => {
    const result = await strato('ingest', '--catalog', catalog, '--id', 'live', '--concat-dim', 'time', ...series);
    expect(result.code, result.stderr).toBe(0);
    const started = Date.now();
    while ((await fetch(`${server.url}/datasets/live/kerchunk/.zmetadata`)).status !== 200) {
      if (Date.now() - started > 5000) throw new Error(`"live" not served; server stderr:\n${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const zmetadata = (await (await fetch(`${server.url}/datasets/live/kerchunk/.zmetadata`)).json()) as { metadata: Record<string, { shape?: number[] }> };
    expect(zmetadata.metadata['time/.zarray']?.shape).toEqual([27]);
  });
});

describe('prototype names in ingested files', () => {
  /** An object whose own keys are exactly `entries` (an object literal's `__proto__:` would set the prototype). */
  const own = <T>(entries: [string, T][]): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    return out;
  };
  let protoCatalog: string;
  let server: SpawnedServer | undefined;

  beforeAll(async () => {
    protoCatalog = join(fixtures.dir, 'proto.yaml');
    await writeFile(protoCatalog, 'datasets: {}\nsources:\n  allow: [data/]\n');
    // Legal NetCDF names that are also Object.prototype's: a variable "__proto__" on a dimension
    // "x", with an attribute "constructor"; a variable "constructor" with an attribute "__proto__".
    const file = classicNetcdf({
      dims: { x: 3 },
      attributes: own([
        ['__proto__', 'global proto'],
        ['title', 'prototype names'],
      ]),
      variables: [
        {
          name: '__proto__',
          dims: ['x'],
          type: 'float',
          values: [1.5, 2.5, 3.5],
          attributes: own<ClassicAttribute>([
            ['constructor', 'ctor text'],
            ['prototype', { type: 'double', values: [2] }],
          ]),
        },
        { name: 'constructor', dims: ['x'], type: 'int', values: [4, 5, 6], attributes: own([['__proto__', 'p']]) },
      ],
    });
    await writeFile(join(fixtures.dir, 'data', 'proto.nc'), file);
  });
  afterAll(async () => server?.stop());

  it('ingests as JSON and parquet with the names as ordinary own keys', async () => {
    const nc = join(fixtures.dir, 'data', 'proto.nc');
    const json = await strato('ingest', '--catalog', protoCatalog, '--id', 'proto', '--inline-threshold', '0', nc);
    expect(json.code, json.stderr).toBe(0);
    const table = JSON.parse(await readFile(join(fixtures.dir, 'refs', 'proto.json'), 'utf8')) as { refs: Record<string, unknown> };
    expect(Object.keys(table.refs)).toEqual(expect.arrayContaining(['__proto__/.zarray', '__proto__/.zattrs', '__proto__/0', 'constructor/.zattrs']));
    expect(JSON.parse(table.refs['__proto__/.zarray'] as string)).toMatchObject({ shape: [3], dtype: '>f4' });
    expect(JSON.parse(table.refs['__proto__/.zattrs'] as string)).toEqual({ constructor: 'ctor text', prototype: 2, _ARRAY_DIMENSIONS: ['x'] });
    expect(Object.keys(JSON.parse(table.refs['.zattrs'] as string))).toEqual(['__proto__', 'title']);
    expect(Object.keys(JSON.parse(table.refs['constructor/.zattrs'] as string))).toEqual(['__proto__', '_ARRAY_DIMENSIONS']);

    const parquet = await strato('ingest', '--catalog', protoCatalog, '--id', 'proto-parquet', '--format', 'parquet', nc);
    expect(parquet.code, parquet.stderr).toBe(0);
    const zmetadata = JSON.parse(await readFile(join(fixtures.dir, 'refs', 'proto-parquet.parq', '.zmetadata'), 'utf8')) as { metadata: Record<string, unknown> };
    expect(Object.keys(zmetadata.metadata)).toEqual(expect.arrayContaining(['__proto__/.zarray', '__proto__/.zattrs', 'constructor/.zarray']));
    const attrs = zmetadata.metadata['__proto__/.zattrs'];
    expect(typeof attrs === 'string' ? JSON.parse(attrs) : attrs).toEqual({ constructor: 'ctor text', prototype: 2, _ARRAY_DIMENSIONS: ['x'] });
  });

  it('is served with the names in .zmetadata, .zattrs and zarr.json', async () => {
    server = await spawnServer(protoCatalog, ['--log-level', 'warn']);
    for (const id of ['proto', 'proto-parquet']) {
      const base = `${server.url}/datasets/${id}/kerchunk`;
      const zmetadata = (await (await fetch(`${base}/.zmetadata`)).json()) as { metadata: Record<string, unknown> };
      expect(Object.keys(zmetadata.metadata), id).toEqual(expect.arrayContaining(['__proto__/.zarray', '__proto__/.zattrs', 'constructor/.zarray']));
      expect(zmetadata.metadata['__proto__/.zattrs'], id).toEqual({ constructor: 'ctor text', prototype: 2, _ARRAY_DIMENSIONS: ['x'] });
      expect(Object.keys(zmetadata.metadata['.zattrs'] as object), id).toEqual(['__proto__', 'title']);
      expect(await (await fetch(`${base}/__proto__/.zattrs`)).json(), id).toEqual({ constructor: 'ctor text', prototype: 2, _ARRAY_DIMENSIONS: ['x'] });
      const chunk = new DataView(await (await fetch(`${base}/__proto__/0`)).arrayBuffer());
      expect([chunk.getFloat32(0), chunk.getFloat32(4), chunk.getFloat32(8)], id).toEqual([1.5, 2.5, 3.5]);
      const v3 = (await (await fetch(`${base}/__proto__/zarr.json`)).json()) as { attributes: unknown; dimension_names: unknown };
      expect(v3.attributes, id).toEqual({ constructor: 'ctor text', prototype: 2 });
      expect(v3.dimension_names, id).toEqual(['x']);
    }
  });

  it("opens in Debian's xarray (plain fsspec reference filesystem, from another directory) with the names", async () => {
    // The table holds absolute paths, so fsspec opens it from any working directory: Python runs in
    // the system's temporary directory, not beside the table.
    const script = [
      'import json, sys, fsspec, xarray as xr',
      'fs = fsspec.filesystem("reference", fo=sys.argv[1])',
      'ds = xr.open_dataset(fs.get_mapper(""), engine="zarr", consolidated=False)',
      'v = ds["__proto__"]',
      'print(json.dumps({"variables": sorted(ds.variables), "attrs": {k: (v.item() if hasattr(v, "item") else v) for k, v in v.attrs.items()},',
      '  "values": v.values.tolist(), "ctor": ds["constructor"].values.tolist(), "ctor_attrs": dict(ds["constructor"].attrs), "global": dict(ds.attrs)}))',
    ].join('\n');
    let result: { stdout: string; stderr: string };
    try {
      result = await run(PYTHON, ['-c', script, join(fixtures.dir, 'refs', 'proto.json')], {
        cwd: tmpdir(),
        timeout: 60_000,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      });
    } catch (error) {
      throw new Error(`python failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
    }
    const seen = lastJsonLine<{
      variables: string[];
      attrs: Record<string, unknown>;
      values: number[];
      ctor: number[];
      ctor_attrs: Record<string, unknown>;
      global: Record<string, unknown>;
    }>(result.stdout);
    expect(seen.variables).toEqual(['__proto__', 'constructor']);
    expect(seen.attrs).toEqual({ constructor: 'ctor text', prototype: 2 });
    expect(seen.values).toEqual([1.5, 2.5, 3.5]);
    expect(seen.ctor).toEqual([4, 5, 6]);
    expect(Object.keys(seen.ctor_attrs)).toEqual(['__proto__']);
    expect(seen.ctor_attrs).toEqual(own([['__proto__', 'p']]));
    expect(Object.keys(seen.global)).toEqual(['__proto__', 'title']);
    expect(seen.global).toEqual(
      own([
        ['__proto__', 'global proto'],
        ['title', 'prototype names'],
      ]),
    );
  });
});
