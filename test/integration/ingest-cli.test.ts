import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { makeFixtures, type Fixtures } from '../helpers/fixtures.js';
import { repoRoot, spawnServer, type SpawnedServer } from '../helpers/server.js';

const run = promisify(execFile);

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI: `strato ingest ARGS` (needs `npm run build`). */
async function strato(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [`${repoRoot}dist/server/cli.js`, ...args], { timeout: 60_000 });
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
  fixtures = await makeFixtures();
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
    const urls = Object.values(table.refs).filter(Array.isArray).map((ref) => (ref as string[])[0]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^\.\.\/data\/series_[012]\.nc$/); // relative to refs/
    expect((await readFile(catalog, 'utf8')).startsWith('# datasets ingested by the test')).toBe(true);
  });

  it('ingests as parquet with URLs relative to the parquet directory', async () => {
    const result = await strato('ingest', '--catalog', catalog, '--id', 'series-parquet', '--format', 'parquet', '--record-size', '7', '--concat-dim', 'time', ...series);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('refs/series-parquet.parq (parquet)');
    expect((await stat(join(fixtures.dir, 'refs', 'series-parquet.parq', '.zmetadata'))).isFile()).toBe(true);
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
    expect((await loadCatalog(catalog)).datasets.map((d) => d.id).sort()).toEqual(['basic', 'series-json', 'series-parquet']);
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
