import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { createCatalogTreePlugin } from '../../plugins/catalog-tree/index.js';
import { defaultPlugins } from '../../server/default-plugins.js';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';
import { TREE, TREE_GROUPS, writeTreeCatalog } from '../helpers/catalog-tree-fixture.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { lastJsonLine, runPython } from '../helpers/python.js';

interface TreeReport {
  ok: boolean;
  problems: string[];
  groups: number;
  arrays: number;
}

interface CheckReport {
  ok: boolean;
  problems: string[];
  variables: number;
}

/**
 * Debian's zarr-python 2 and xarray (and zarrita.js, v2 and v3) read the catalog tree: `zarr.open_consolidated(URL)` walks
 * every group, `xr.open_dataset(URL + "/icon/hist/atmos")` and `group=` open a dataset with
 * exactly the values of its own route, and those equal the NetCDF4 files (check_xarray.py).
 */
describe('the catalog tree read by zarr-python 2, xarray and zarrita', () => {
  let fixtures: Fixtures;
  let dir: string;
  let server: RunningServer;
  let large: RunningServer;
  beforeAll(async () => {
    fixtures = await makeFixtures();
    dir = await mkdtemp(join(tmpdir(), 'strato-tree-interop-'));
    const catalog = await writeTreeCatalog(fixtures, dir, TREE);
    const logger = createLogger('silent');
    server = await startServer({ catalog, port: 0, host: '127.0.0.1', logger });
    // the same catalog as a "large" one: the root lists groups only, clients walk down
    const plugins = [...defaultPlugins.filter((p) => p.name !== 'catalog-tree'), createCatalogTreePlugin({ fullListingMaxDatasets: 1 })];
    large = await startServer({ catalog, port: 0, host: '127.0.0.1', logger, plugins });
  });
  afterAll(async () => {
    await server?.close();
    await large?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const expectation = (base: string, face: string) =>
    JSON.stringify({
      groups: TREE_GROUPS,
      datasets: Object.fromEntries(Object.keys(TREE).map((id) => [id.split('.').join('/'), `${base}/datasets/${id}/${face}`])),
    });

  for (const face of ['kerchunk', 'zarr']) {
    it(`${face}: open_consolidated walks every group; xarray opens each dataset by URL and by group= exactly as its own route`, async () => {
      const result = await runPython('test/interop/check_catalog_tree.py', ['--url', `${server.url}/catalog/${face}`, '--expect', expectation(server.url, face)]);
      const report = lastJsonLine<TreeReport>(result.stdout || '{}');
      expect(report.problems, result.stderr).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.groups).toBe(TREE_GROUPS.length);
      expect(report.arrays).toBeGreaterThan(20);
    });

    it(`${face}: a large catalog's tree is walked group by group, each dataset opened by its URL`, async () => {
      // a large listing shows each dataset group's reference attributes; the processed view's own
      // .zattrs adds its processing note to `history` (made without building 10,000 views)
      const args = [
        '--url',
        `${large.url}/catalog/${face}`,
        '--expect',
        expectation(large.url, face),
        '--no-group-open',
        ...(face === 'zarr' ? ['--listed-attrs-without', 'history'] : []),
      ];
      const result = await runPython('test/interop/check_catalog_tree.py', args);
      const report = lastJsonLine<TreeReport>(result.stdout || '{}');
      // walking from the root finds every group, but their arrays are listed only in each group's own .zmetadata
      expect(report.groups).toBe(TREE_GROUPS.length);
      expect(report.problems.filter((p) => !/^[a-z0-9/]+: arrays \[\] != \[/.test(p))).toEqual([]);
    });
  }

  /** Every array of a group read by zarrita, as bytes by name. */
  async function arraysOf(url: string, format: 'v2' | 'v3', path: string): Promise<Map<string, Buffer>> {
    const store = await zarr.withConsolidatedMetadata(new zarr.FetchStore(url), { format });
    const group = await zarr.open(zarr.root(store).resolve(path), { kind: 'group' });
    const arrays = new Map<string, Buffer>();
    for (const key of store.contents().map((c) => c.path)) {
      const prefix = path === '' ? '/' : `/${path}/`;
      if (!key.startsWith(prefix) || key.slice(prefix.length).includes('/') || key === prefix) continue;
      const name = key.slice(prefix.length);
      let array: zarr.Array<zarr.DataType, typeof store>;
      try {
        array = await zarr.open(group.resolve(name), { kind: 'array' });
      } catch {
        continue; // a group
      }
      const result = (await zarr.get(array)) as unknown;
      const data = typeof result === 'object' && result !== null ? (result as { data: ArrayBufferView }).data : undefined;
      arrays.set(name, data ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(String(result)));
    }
    return arrays;
  }

  for (const face of ['kerchunk', 'zarr']) {
    for (const format of ['v2', 'v3'] as const) {
      it(`${face}: zarrita (${format}) reads every array through the tree's root exactly as through each dataset's own route`, async () => {
        for (const id of Object.keys(TREE)) {
          const path = id.split('.').join('/');
          const [mine, theirs] = await Promise.all([arraysOf(`${server.url}/catalog/${face}`, format, path), arraysOf(`${server.url}/datasets/${id}/${face}`, format, '')]);
          expect([...mine.keys()].sort(), id).toEqual([...theirs.keys()].sort());
          expect(theirs.size, id).toBeGreaterThan(3);
          for (const [name, bytes] of theirs) expect(mine.get(name)?.equals(bytes), `${id}/${name}`).toBe(true);
        }
      });
    }
  }

  for (const [id, fixture] of Object.entries(TREE)) {
    it(`the tree's ${id.split('.').join('/')} reads exactly as the NetCDF4 files of ${fixture}`, async () => {
      const dataset = fixtures.datasets.find((d) => d.id === fixture);
      if (!dataset) throw new Error(`no fixture ${fixture}`);
      const args = ['--url', `${server.url}/catalog/kerchunk/${id.split('.').join('/')}`, '--files', ...dataset.files];
      if (dataset.concatDim) args.push('--combine-dim', dataset.concatDim);
      const result = await runPython('test/interop/check_xarray.py', args);
      const report = lastJsonLine<CheckReport>(result.stdout || '{}');
      expect(report.problems, result.stderr).toEqual([]);
      expect(report.ok).toBe(true);
    });
  }
});
