import { copyFile, cp, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { bulkIngest } from '../../ingest/bulk-command.js';
import { openJsonReferences } from '../../kerchunk/json-references.js';
import { parquetArrayGrids } from '../../kerchunk/parquet-references.js';
import { writeParquetReferences } from '../../kerchunk/parquet-writer.js';
import type { ChunkReference } from '../../kerchunk/reference.js';
import type { RunningServer } from '../../server/serve.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { startInProcess } from '../helpers/server.js';

/*
 * `strato ingest --from-dir` and `catalog: {watch_dir}`: reference sets found in a directory
 * (JSON tables and fsspec parquet directories), ids from their relative paths; a watched
 * directory registers a set copied in within a second and drops it when it is removed; a JSON
 * file still being written is never registered broken.
 */

let fixtures: Fixtures;
/** basic.json with absolute source paths: it can be copied anywhere. */
let portableJson: string;
/** The same references as an fsspec parquet directory (absolute source paths). */
let portableParquet: string;

async function ingestCli(...args: string[]): Promise<{ code: number; stdout: string }> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await bulkIngest(args, { stdout, stderr: new PassThrough() });
  return { code, stdout: out };
}

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  const store = await openJsonReferences(join(fixtures.dir, 'basic.json'));
  const chunks = new Map<string, ChunkReference>();
  for (const [array, grid] of parquetArrayGrids(store.metadata, 'basic')) {
    for (let index = 0; index < grid.size; index++) {
      const key = `${array}/${grid.suffixOf(index)}`;
      const reference = await store.chunk(key);
      if (!reference) continue;
      chunks.set(key, reference.kind === 'inline' || isAbsolute(reference.url) ? reference : { ...reference, url: join(fixtures.dir, reference.url) });
    }
  }
  const refs: Record<string, unknown> = {};
  for (const [key, text] of store.metadataText ?? new Map<string, string>()) refs[key] = text;
  for (const [key, reference] of chunks) {
    if (reference.kind === 'inline') refs[key] = `base64:${Buffer.from(reference.data).toString('base64')}`;
    else if (reference.kind === 'range') refs[key] = [reference.url, reference.offset, reference.length];
    else refs[key] = [reference.url];
  }
  portableJson = join(fixtures.dir, 'portable.json');
  await writeFile(portableJson, JSON.stringify({ version: 1, refs }));
  portableParquet = join(fixtures.dir, 'portable.parq');
  await writeParquetReferences(portableParquet, { metadata: store.metadata, metadataText: store.metadataText, chunks }, { recordSize: 7 });
  await store.close();
});
afterAll(async () => {
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
});

describe('strato ingest --from-dir', () => {
  it('registers JSON and parquet sets by relative path, skips a broken one and a symlink leaving the directory', async () => {
    const tree = join(fixtures.dir, 'tree');
    await mkdir(join(tree, 'icon', 'hist'), { recursive: true });
    await copyFile(portableJson, join(tree, 'icon', 'hist', 'atmos.json'));
    await cp(portableParquet, join(tree, 'icon', 'hist', 'ocean.parq'), { recursive: true });
    await writeFile(join(tree, 'icon', 'bad.json'), '{"version": 1, "refs": {');
    await symlink(portableJson, join(tree, 'escape.json'));
    await writeFile(join(tree, '.hidden.json'), 'not looked at');
    const catalog = join(fixtures.dir, 'from-dir.yaml');
    await writeFile(catalog, 'datasets: {}\nsources:\n  allow: [data/]\n');

    const first = await ingestCli('--catalog', catalog, '--from-dir', tree);
    expect(first.code).toBe(1);
    const lines = first.stdout.trim().split('\n');
    expect(lines).toContain('added icon.hist.atmos');
    expect(lines).toContain('added icon.hist.ocean');
    expect(lines.find((l) => l.startsWith('skipped icon.bad: '))).toBeDefined();
    expect(lines.find((l) => l.startsWith('skipped escape: '))).toMatch(/symlink/);
    expect(lines.at(-1)).toBe('strato ingest: 2 added, 0 updated, 0 unchanged, 0 removed, 2 skipped; catalog written');
    const loaded = await loadCatalog(catalog);
    expect(loaded.datasets.map((d) => [d.id, d.refs])).toEqual([
      ['icon.hist.atmos', 'tree/icon/hist/atmos.json'],
      ['icon.hist.ocean', 'tree/icon/hist/ocean.parq'],
    ]);

    const before = await readFile(catalog, 'utf8');
    const second = await ingestCli('--catalog', catalog, '--from-dir', tree);
    expect(second.stdout.trim().split('\n').at(-1)).toBe('strato ingest: 0 added, 0 updated, 2 unchanged, 0 removed, 2 skipped; no change, catalog not written');
    expect(await readFile(catalog, 'utf8')).toBe(before);

    await rm(join(tree, 'icon', 'hist', 'atmos.json'));
    await rm(join(tree, 'icon', 'bad.json'));
    await rm(join(tree, 'escape.json'));
    const third = await ingestCli('--catalog', catalog, '--from-dir', tree);
    expect(third.code).toBe(0);
    expect(third.stdout.trim().split('\n')).toEqual(['removed icon.hist.atmos', 'strato ingest: 0 added, 0 updated, 1 unchanged, 1 removed, 0 skipped; catalog written']);
  });
});

describe('catalog: {watch_dir}', () => {
  let server: RunningServer;
  let sets: string;
  let catalog: string;
  beforeAll(async () => {
    sets = join(fixtures.dir, 'watched');
    await mkdir(sets);
    catalog = join(fixtures.dir, 'watched.yaml');
    await writeFile(catalog, 'catalog:\n  watch_dir: watched\ndatasets: {}\nsources:\n  allow: [data/]\n');
    server = await startInProcess(catalog);
  });
  afterAll(async () => {
    await server?.close();
  });

  const status = async (id: string) => (await fetch(`${server.url}/datasets/${id}/kerchunk/.zmetadata`)).status;
  /** Milliseconds until `id` answers `expected` (polled every 20 ms, at most 5 s). */
  async function until(id: string, expected: number): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < 5000) {
      if ((await status(id)) === expected) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${id} did not answer ${expected} within 5 s`);
  }

  it('a reference set copied in is served within a second; rewritten, the new one; removed, it is gone within a second', async () => {
    await mkdir(join(sets, 'icon', 'hist'), { recursive: true });
    await copyFile(portableJson, join(sets, 'icon', 'hist', 'atmos.json'));
    expect(await until('icon.hist.atmos', 200)).toBeLessThan(1000);
    const served = (await (await fetch(`${server.url}/datasets/icon.hist.atmos/kerchunk/.zmetadata`)).json()) as { metadata: Record<string, unknown> };
    expect(Object.keys(served.metadata)).toContain('.zgroup');
    await cp(portableParquet, join(sets, 'ocean.parq'), { recursive: true });
    expect(await until('ocean', 200)).toBeLessThan(1000);

    // rewritten in place (same path, same catalog entry): the new table is served
    const table = JSON.parse(await readFile(portableJson, 'utf8')) as { refs: Record<string, unknown> };
    table.refs['.zattrs'] = JSON.stringify({ ...(JSON.parse(String(table.refs['.zattrs'] ?? '{}')) as object), revision: 2 });
    const staged = join(fixtures.dir, 'atmos-v2.json');
    await writeFile(staged, JSON.stringify(table));
    await rename(staged, join(sets, 'icon', 'hist', 'atmos.json'));
    const revised = async () => {
      const started = performance.now();
      while (performance.now() - started < 5000) {
        const zmetadata = (await (await fetch(`${server.url}/datasets/icon.hist.atmos/kerchunk/.zmetadata`)).json()) as { metadata: Record<string, { revision?: number }> };
        if (zmetadata.metadata['.zattrs']?.revision === 2) return performance.now() - started;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('the rewritten table was not served within 5 s');
    };
    expect(await revised()).toBeLessThan(1000);

    await rm(join(sets, 'icon', 'hist', 'atmos.json'));
    expect(await until('icon.hist.atmos', 404)).toBeLessThan(1000);
    expect((await loadCatalog(catalog)).datasets.map((d) => d.id)).toEqual(['ocean']);
  });

  it('a JSON file still being written is not registered until it parses', async () => {
    const text = await readFile(portableJson, 'utf8');
    const file = join(sets, 'partial.json');
    await writeFile(file, text.slice(0, Math.floor(text.length / 2)));
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a debounced pass and a rescan
    expect(await status('partial')).toBe(404);
    expect((await loadCatalog(catalog)).datasets.map((d) => d.id)).not.toContain('partial');
    await writeFile(file, text);
    expect(await until('partial', 200)).toBeLessThan(1000);
  });
});
