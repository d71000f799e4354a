import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openJsonReferences } from '../../kerchunk/json-references.js';
import { parquetArrayGrids } from '../../kerchunk/parquet-references.js';
import { writeParquetReferences } from '../../kerchunk/parquet-writer.js';
import type { ChunkReference, JsonValue } from '../../kerchunk/reference.js';
import { runPython } from './python.js';

export interface FixtureDataset {
  readonly id: string;
  /** Reference table, relative to the fixture directory. */
  readonly refs: string;
  /** NetCDF4 files behind it, absolute. */
  readonly files: readonly string[];
  readonly format: string;
  readonly concatDim?: string;
}

export interface Fixtures {
  readonly dir: string;
  readonly catalog: string;
  readonly datasets: readonly FixtureDataset[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The fixtures test/global-setup.ts made once for the run (read-only for tests). */
    stratoFixtures: Fixtures;
  }
}

export interface FixtureOptions {
  /**
   * A private copy of the shared fixtures in a fresh temporary directory (no Python), for tests
   * that write into their fixture directory (catalogs, registrations, outputs, damaged files).
   * The caller removes `dir` after its tests.
   */
  readonly copy?: boolean;
}

/**
 * The NetCDF4 fixtures, made once per vitest run by test/global-setup.ts (globalSetup of the
 * integration and slow projects). Without `copy`, the shared set itself: read it, never write
 * into its directory nor remove it (the teardown checks it is unchanged). With `copy`, a copy of
 * it in a fresh directory, the caller's to change and to remove.
 */
export async function makeFixtures(options: FixtureOptions = {}): Promise<Fixtures> {
  const { inject } = await import('vitest'); // not at the top: test/global-setup.ts imports this module, outside any test
  const shared = inject('stratoFixtures');
  if (!shared) throw new Error('no shared fixtures: test/global-setup.ts makes them; list it as globalSetup of this vitest project (vitest.config.ts)');
  return options.copy ? copyFixtures(shared) : shared;
}

/** The fixtures copied into a fresh temporary directory, paths re-based onto it. */
async function copyFixtures(shared: Fixtures): Promise<Fixtures> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-fixtures-'));
  await cp(shared.dir, dir, { recursive: true });
  const rebase = (path: string) => join(dir, relative(shared.dir, path));
  return { dir, catalog: rebase(shared.catalog), datasets: shared.datasets.map((dataset) => ({ ...dataset, files: dataset.files.map(rebase) })) };
}

/**
 * The NetCDF4 fixtures of test/fixtures/make_netcdf.py made in `dir` (an empty directory), each
 * JSON table also converted into an fsspec parquet reference set (`<id>-parquet`, record size 7 so
 * every array spans several records), all listed in one catalog. Tests call `makeFixtures`.
 */
export async function generateFixtures(dir: string): Promise<Fixtures> {
  const made = await runPython('test/fixtures/make_netcdf.py', [dir]);
  if (made.code !== 0) throw new Error(`make_netcdf.py failed:\n${made.stderr}`);
  const listed = JSON.parse(await readFile(join(dir, 'fixtures.json'), 'utf8')) as Record<string, { refs: string; files: string[]; format: string; concat_dim?: string }>;
  const datasets: FixtureDataset[] = [];
  const catalogEntries: string[] = [];
  for (const [id, entry] of Object.entries(listed)) {
    const files = entry.files.map((file) => join(dir, file));
    const common = { files, ...(entry.concat_dim ? { concatDim: entry.concat_dim } : {}) };
    datasets.push({ id, refs: entry.refs, format: entry.format, ...common });
    const parquetDir = `${entry.refs.replace(/\.json$/, '')}.parq`;
    await convertToParquet(join(dir, entry.refs), join(dir, parquetDir));
    datasets.push({ id: `${id}-parquet`, refs: parquetDir, format: 'parquet', ...common });
    catalogEntries.push(`  ${id}: {refs: ${entry.refs}}`, `  ${id}-parquet: {refs: ${parquetDir}}`);
  }
  const catalog = join(dir, 'catalog-all.yaml');
  await writeFile(catalog, `datasets:\n${catalogEntries.join('\n')}\nsources:\n  allow: [data/]\n`);
  return { dir, catalog, datasets };
}

/**
 * A JSON table rewritten as parquet references beside it. Source paths stay relative: the parquet
 * directory sits next to the JSON file, so paths are re-based one level down.
 */
async function convertToParquet(jsonFile: string, parquetDir: string): Promise<void> {
  const store = await openJsonReferences(jsonFile);
  const chunks = new Map<string, ChunkReference>();
  for (const key of allChunkKeys(store.metadata)) {
    const reference = await store.chunk(key);
    if (!reference) continue;
    chunks.set(key, reference.kind === 'inline' || isAbsoluteUrl(reference.url) ? reference : { ...reference, url: `../${reference.url}` });
  }
  await writeParquetReferences(parquetDir, { metadata: store.metadata, metadataText: store.metadataText, chunks }, { recordSize: 7 });
}

function isAbsoluteUrl(url: string): boolean {
  return url.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(url);
}

function allChunkKeys(metadata: ReadonlyMap<string, JsonValue>): string[] {
  const keys: string[] = [];
  for (const [array, grid] of parquetArrayGrids(metadata, 'fixture')) {
    for (let index = 0; index < grid.size; index++) keys.push(`${array}/${grid.suffixOf(index)}`);
  }
  return keys;
}
