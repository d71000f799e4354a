import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCatalog, parseCatalog } from './catalog-file.js';
import type { ReloadResult } from './catalog-reload.js';
import { reloadCatalog } from './catalog-reload.js';
import { addDataset, removeDataset } from './catalog-store.js';
import { type CatalogWatcher, type CatalogWatchOptions, watchCatalog } from './catalog-watch.js';
import { DatasetRegistry } from './registry.js';

const zarray = JSON.stringify({ zarr_format: 2, shape: [4], chunks: [4], dtype: '<u1', compressor: null, filters: null, fill_value: 0, order: 'C' });

let dir: string;
let file: string;
let registry: DatasetRegistry;
let watcher: CatalogWatcher | undefined;
let reloads: ReloadResult[];
let starts: boolean[];
let warnings: string[];

const catalogText = (ids: string[]) => `datasets:\n${ids.map((id) => `  ${id}: {refs: refs/t.json}`).join('\n')}\nsources:\n  allow: [data/]\n`;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-watch-'));
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'refs'));
  await writeFile(join(dir, 'data', 'bytes.bin'), Uint8Array.of(1, 2, 3, 4));
  await writeFile(join(dir, 'refs', 't.json'), JSON.stringify({ 'v/.zarray': zarray, 'v/0': ['../data/bytes.bin', 0, 4] }));
  file = join(dir, 'catalog.yaml');
  await writeFile(file, catalogText(['a']));
  reloads = [];
  starts = [];
  warnings = [];
  const logger = { info: () => undefined, warn: (message: string) => void warnings.push(message) };
  registry = await DatasetRegistry.open(await loadCatalog(file), { logger });
});
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await registry.close();
  await rm(dir, { recursive: true, force: true });
});

function start(options: CatalogWatchOptions = {}): void {
  const logger = { info: () => undefined, warn: (message: string) => void warnings.push(message) };
  watcher = watchCatalog(registry, { logger, onReload: (result) => reloads.push(result), onStart: (reloaded) => starts.push(reloaded), ...options });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

const settle = async () => until(() => starts.length > 0, 2000); // the comparison at start

describe('watchCatalog', () => {
  it('serves a dataset added to the file within a second, and drops a removed one', async () => {
    start();
    await settle();
    await addDataset(file, { id: 'b', refs: 'refs/t.json' });
    expect(await until(() => registry.get('b') !== undefined, 1000)).toBeLessThan(1000);
    await removeDataset(file, 'a');
    await until(() => registry.get('a') === undefined, 1000);
    expect(registry.ids()).toEqual(['b']);
  });

  it('keeps serving the previous catalog when the new one does not parse, and logs why', async () => {
    start();
    await settle();
    const before = reloads.length;
    await writeFile(file, 'datasets: {a: [\n');
    await until(() => reloads.length > before && reloads.some((r) => !r.ok), 2000);
    expect(registry.ids()).toEqual(['a']);
    expect(registry.get('a')).toBeDefined();
    expect(warnings.some((w) => w.includes('previous catalog stays served'))).toBe(true);
    await writeFile(file, catalogText(['a', 'c']));
    await until(() => registry.get('c') !== undefined, 2000);
  });

  it('notices changes by polling alone when fs.watch is unavailable', async () => {
    start({ fsWatch: false, pollMs: 100 });
    await settle();
    await addDataset(file, { id: 'polled', refs: 'refs/t.json' });
    expect(await until(() => registry.get('polled') !== undefined, 1000)).toBeLessThan(1000);
  });

  it('debounces a burst of writes into few reloads and ends on the last state', async () => {
    start({ debounceMs: 100, pollMs: 0 });
    await settle();
    const before = reloads.length;
    for (let n = 0; n < 20; n++) await writeFile(file, catalogText(['a', ...Array.from({ length: n + 1 }, (_, i) => `burst-${i}`)]));
    await until(() => registry.get('burst-19') !== undefined, 2000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(reloads.length - before).toBeLessThan(5);
    expect(registry.ids()).toHaveLength(21);
  });

  it('stops after close', async () => {
    start({ pollMs: 50 });
    await settle();
    await watcher?.close();
    watcher = undefined;
    await addDataset(file, { id: 'late', refs: 'refs/t.json' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(registry.get('late')).toBeUndefined();
  });
});

describe('watchCatalog at start', () => {
  it('does not parse an unchanged catalog again, even rewritten with the same text', async () => {
    await writeFile(file, catalogText(['a'])); // a new mtime, the same text
    const before = registry.get('a');
    start({ pollMs: 20 });
    await settle();
    expect(starts).toEqual([false]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(reloads).toEqual([]);
    expect(registry.get('a')).toBe(before);
  });

  it('applies a change made between loading the catalog and the watch', async () => {
    await writeFile(file, catalogText(['a', 'between']));
    start({ pollMs: 0 });
    await settle();
    expect(starts).toEqual([true]);
    expect(reloads.map((r) => r.ok)).toEqual([true]);
    expect(registry.ids().sort()).toEqual(['a', 'between']);
  });

  it('reloads at start a catalog that was not loaded from the file (no text hash to compare)', async () => {
    await registry.close();
    registry = await DatasetRegistry.open(parseCatalog(catalogText([]), file));
    start({ pollMs: 0 });
    await settle();
    expect(starts).toEqual([true]);
    expect(registry.ids()).toEqual(['a']);
  });

  it('applies a removal made before the watch', async () => {
    await writeFile(file, catalogText([]));
    start({ pollMs: 0 });
    await settle();
    expect(registry.ids()).toEqual([]);
  });

  for (const fsWatch of [true, false]) {
    it(`applies a change written while the start's comparison runs (${fsWatch ? 'fs.watch' : 'poll only'})`, async () => {
      start({ fsWatch, pollMs: 30 });
      // no await: the comparison is under way (or about to be) when the file changes
      const write = writeFile(file, catalogText(['a', 'meanwhile']));
      await write;
      await until(() => registry.get('meanwhile') !== undefined, 2000);
      await settle();
    });
  }
});

describe('reloadCatalog', () => {
  it('serialises reloads: the last one reads the file as it is after every call', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        await writeFile(file, catalogText(['a', `r${i}`]));
        return reloadCatalog(registry);
      }),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    await writeFile(file, catalogText(['a', 'final']));
    await reloadCatalog(registry);
    expect(registry.ids().sort()).toEqual(['a', 'final']);
  });
});

describe('DatasetRegistry.apply', () => {
  it('keeps serving the previous datasets and problems until the new catalog is opened, then swaps both at once', async () => {
    await writeFile(join(dir, 'refs', 'broken.json'), '{"v/.zarray": ');
    const text = (ids: string[]) => {
      const lines = catalogText(ids).split('\n');
      const at = lines.indexOf('sources:');
      return [...lines.slice(0, at), '  broken: {refs: refs/broken.json}', ...lines.slice(at)].join('\n');
    };
    await registry.apply(await loadCatalog(await writeText(text(['a']))));
    expect(registry.problems().map((p) => p.id)).toEqual(['broken']);

    const pending = registry.apply(await loadCatalog(await writeText(text(['a', 'b']))));
    // while the new version opens, /health and the routes see the old one, whole
    expect(registry.problems().map((p) => p.id)).toEqual(['broken']);
    expect(registry.ids()).toEqual(['a']);
    await pending;
    expect(registry.problems().map((p) => p.id)).toEqual(['broken']);
    expect(registry.ids().sort()).toEqual(['a', 'b']);
  });
});

async function writeText(text: string): Promise<string> {
  await writeFile(file, text);
  return file;
}
