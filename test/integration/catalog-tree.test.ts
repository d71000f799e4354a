import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminPlugin } from '../../plugins/admin/index.js';
import { createCatalogTreePlugin } from '../../plugins/catalog-tree/index.js';
import { defaultPlugins } from '../../server/default-plugins.js';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';
import { ADMIN_TOKEN, adminFetch } from '../helpers/admin-fixture.js';
import { TREE, TREE_GROUPS, writeTreeCatalog } from '../helpers/catalog-tree-fixture.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';

/**
 * The catalog as one Zarr tree (/catalog/kerchunk, /catalog/zarr) against the per-dataset
 * routes: same bytes, ETags, ranges; adversarial ids; a registration through the admin API.
 * The Python clients (zarr-python 2, xarray) read it in test/interop/catalog-tree.test.ts.
 */

/** Ids the tree must survive: each left out with a reason, or placed where it belongs. */
const HOSTILE: Readonly<Record<string, string>> = {
  'icon.hist.field': 'basic', // `field` is an array of dataset icon.hist
  'bad..id': 'basic',
  'trailing.': 'basic',
  'x.__proto__': 'basic',
  'constructor.prototype': 'basic-parquet',
  toString: 'basic',
};

const FACES = ['kerchunk', 'zarr'] as const;

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-tree-'));
  dirs.push(dir);
  return dir;
}

/** `.zmetadata`'s documents of a store, by key. */
async function consolidated(request: (path: string) => Promise<Response>, path: string): Promise<Record<string, unknown>> {
  const response = await request(path);
  expect(response.status, path).toBe(200);
  return ((await response.json()) as { metadata: Record<string, unknown> }).metadata;
}

describe('the catalog tree against the per-dataset routes', () => {
  let fixtures: Fixtures;
  let app: InProcessApp;
  beforeAll(async () => {
    fixtures = await makeFixtures();
    app = await openApp(await writeTreeCatalog(fixtures, await tempDir(), { ...TREE, ...HOSTILE }));
  });
  afterAll(async () => app?.close());
  const get = (path: string, init?: RequestInit) => app.request(path, init);

  for (const face of FACES) {
    it(`${face}: the root answers like a static store root (301, then an index; HEAD too)`, async () => {
      const bare = await get(`/catalog/${face}`);
      expect(bare.status).toBe(301);
      expect(bare.headers.get('location')).toBe(`${face}/`);
      const index = await get(`/catalog/${face}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await index.text();
      for (const name of ['icon/', 'era5/', 'constructor/', 'toString/', '.zmetadata', '.zgroup', 'zarr.json']) expect(html).toContain(`href="${name}"`);
      expect(html).not.toContain(fixtures.dir);
      const head = await get(`/catalog/${face}/`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(index.headers.get('content-length'));
      expect(await head.text()).toBe('');
      const group = await get(`/catalog/${face}/icon/hist/`);
      expect(await group.text()).toMatch(/href="atmos\/"[\s\S]*href="field\/"/);
      expect((await get(`/catalog/${face}/icon/hist`)).headers.get('location')).toBe('hist/');
    });

    it(`${face}: every dataset key answers exactly what the dataset's own route does`, async () => {
      for (const id of Object.keys(TREE)) {
        const own = `/datasets/${id}/${face}`;
        const tree = `/catalog/${face}/${id.split('.').join('/')}`;
        const documents = await consolidated(get, `${own}/.zmetadata`);
        const keys = Object.keys(documents).filter((key) => key.includes('/'));
        const chunkKeys = Object.entries(documents)
          .filter(([key]) => key.endsWith('/.zarray'))
          .map(([key, meta]) => {
            const { shape } = meta as { shape: number[] };
            return `${key.slice(0, -'/.zarray'.length)}/${shape.length === 0 ? '0' : shape.map(() => '0').join('.')}`;
          });
        const v3 = keys.filter((key) => key.endsWith('/.zarray')).map((key) => key.replace(/\.zarray$/, 'zarr.json'));
        for (const key of [...keys, ...chunkKeys, ...v3, '.zgroup', '.zattrs']) {
          const [mine, theirs] = await Promise.all([get(`${tree}/${key}`), get(`${own}/${key}`)]);
          expect(mine.status, `${tree}/${key}`).toBe(theirs.status);
          expect(mine.headers.get('etag'), key).toBe(theirs.headers.get('etag'));
          // problems (a chunk never written: 404) name their own path; answers are equal byte for byte
          if (mine.status === 200) expect(Buffer.from(await mine.arrayBuffer()).equals(Buffer.from(await theirs.arrayBuffer())), key).toBe(true);
        }
        const chunk = chunkKeys[0] as string;
        const etag = (await get(`${own}/${chunk}`)).headers.get('etag') as string;
        expect((await get(`${tree}/${chunk}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
        const [ranged, ownRanged] = await Promise.all([get(`${tree}/${chunk}`, { headers: { range: 'bytes=1-3' } }), get(`${own}/${chunk}`, { headers: { range: 'bytes=1-3' } })]);
        expect(ranged.status).toBe(ownRanged.status);
        expect(ranged.headers.get('content-range')).toBe(ownRanged.headers.get('content-range'));
        expect(Buffer.from(await ranged.arrayBuffer())).toEqual(Buffer.from(await ownRanged.arrayBuffer()));
      }
    });

    it(`${face}: a dataset group without child groups answers its own .zmetadata and zarr.json, byte for byte`, async () => {
      for (const name of ['.zmetadata', 'zarr.json']) {
        const [mine, theirs] = await Promise.all([get(`/catalog/${face}/icon/hist/atmos/${name}`), get(`/datasets/icon.hist.atmos/${face}/${name}`)]);
        expect(await mine.text()).toBe(await theirs.text());
      }
    });

    it(`${face}: the root's consolidated metadata holds every group and every array of this small catalog`, async () => {
      const root = await consolidated(get, `/catalog/${face}/.zmetadata`);
      for (const group of TREE_GROUPS) {
        expect(root[`${group}/.zgroup`], group).toEqual({ zarr_format: 2 });
      }
      for (const [id] of Object.entries(TREE)) {
        const own = await consolidated(get, `/datasets/${id}/${face}/.zmetadata`);
        const prefix = id.split('.').join('/');
        for (const [key, document] of Object.entries(own)) expect(root[`${prefix}/${key}`], `${prefix}/${key}`).toEqual(document);
      }
      // icon.hist is a dataset and a prefix: its group holds its arrays and its child groups
      const hist = await consolidated(get, `/catalog/${face}/icon/hist/.zmetadata`);
      expect(hist['field/.zarray']).toBeDefined();
      expect(hist['atmos/tas/.zarray']).toBeDefined();
      const v3 = (await (await get(`/catalog/${face}/zarr.json`)).json()) as { node_type: string; consolidated_metadata: { metadata: Record<string, { node_type: string }> } };
      expect(v3.node_type).toBe('group');
      expect(v3.consolidated_metadata.metadata['icon/hist/atmos']?.node_type).toBe('group');
      expect(v3.consolidated_metadata.metadata['icon/hist/atmos/tas']?.node_type).toBe('array');
    });

    it(`${face}: hostile ids never break the tree; they are listed as problems in the root's attributes`, async () => {
      const attrs = (await (await get(`/catalog/${face}/.zattrs`)).json()) as { catalog_tree_problems: Array<{ id: string; problem: string }> };
      const problems = new Map(attrs.catalog_tree_problems.map((p) => [p.id, p.problem]));
      expect([...problems.keys()].sort()).toEqual(['bad..id', 'icon.hist.field', 'trailing.', 'x.__proto__']);
      expect(problems.get('icon.hist.field')).toMatch(/member .* of dataset "icon\.hist"/);
      expect(JSON.stringify(attrs)).not.toContain(fixtures.dir);
      // the member of icon.hist wins: the same bytes as icon.hist's own `field`
      const [mine, theirs] = await Promise.all([get(`/catalog/${face}/icon/hist/field/.zarray`), get(`/datasets/icon.hist/${face}/field/.zarray`)]);
      expect(await mine.text()).toBe(await theirs.text());
      expect((await get(`/catalog/${face}/constructor/prototype/.zattrs`)).status).toBe(200);
      expect((await get(`/catalog/${face}/toString/tas/.zarray`)).status).toBe(200);
      for (const path of ['__proto__/.zgroup', 'x/__proto__/.zgroup', 'x/.zgroup', 'bad/id/.zgroup', 'constructor/.zarray', 'toString/valueOf/.zgroup', 'icon/hasOwnProperty/']) {
        const response = await get(`/catalog/${face}/${path}`);
        expect(response.status, path).toBe(404);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
      }
      for (const path of ['icon/a%2Fb/.zgroup', 'icon/%00/.zgroup', 'icon//.zgroup', 'icon/%E0%A4%A/.zgroup', `${'a/'.repeat(600)}.zgroup`]) {
        const response = await get(`/catalog/${face}/${path}`);
        expect(response.status, path).toBe(400);
        expect(await response.text()).not.toContain(fixtures.dir);
      }
      expect(({} as Record<string, unknown>).prototype).toBeUndefined();
    });
  }
});

describe('a large catalog: group listings only, each group consolidated on its own', () => {
  let fixtures: Fixtures;
  let app: InProcessApp;
  beforeAll(async () => {
    fixtures = await makeFixtures();
    const plugins = [...defaultPlugins.filter((p) => p.name !== 'catalog-tree'), createCatalogTreePlugin({ fullListingMaxDatasets: 2 })];
    app = await openApp(await writeTreeCatalog(fixtures, await tempDir(), TREE), plugins);
  });
  afterAll(async () => app?.close());
  const get = (path: string) => app.request(path);

  it('lists every group with its attributes at the root, and no array', async () => {
    const root = await consolidated(get, '/catalog/kerchunk/.zmetadata');
    expect(Object.keys(root).filter((key) => key.endsWith('.zarray'))).toEqual([]);
    expect(
      Object.keys(root)
        .filter((key) => key.endsWith('/.zgroup'))
        .sort(),
    ).toEqual(TREE_GROUPS.map((g) => `${g}/.zgroup`));
    const ownAttrs = await (await get('/datasets/icon.hist.atmos/kerchunk/.zattrs')).json();
    expect(root['icon/hist/atmos/.zattrs']).toEqual(ownAttrs);
  });

  it('a group with a large subtree lists its own arrays and its groups; a small subtree lists every array', async () => {
    const hist = await consolidated(get, '/catalog/kerchunk/icon/.zmetadata');
    expect(Object.keys(hist).filter((key) => key.endsWith('.zarray'))).toEqual([]);
    const ownHist = await consolidated(get, '/catalog/kerchunk/icon/hist/.zmetadata');
    expect(ownHist['field/.zarray']).toBeDefined();
    expect(ownHist['atmos/tas/.zarray']).toBeUndefined(); // icon/hist holds three datasets: more than 2
    const ssp = await consolidated(get, '/catalog/kerchunk/icon/ssp585/.zmetadata');
    expect(ssp['atmos/day/ta/.zarray']).toBeDefined();
  });
});

describe('the tree follows the catalog: admin registrations and removals', () => {
  let fixtures: Fixtures;
  let server: RunningServer;
  beforeAll(async () => {
    fixtures = await makeFixtures();
    const plugins = [...defaultPlugins.filter((p) => p.name !== 'admin'), createAdminPlugin({ token: ADMIN_TOKEN, rateLimit: { ratePerSecond: 1000, burst: 1000 } })];
    server = await startServer({ catalog: await writeTreeCatalog(fixtures, await tempDir(), TREE), port: 0, host: '127.0.0.1', logger: createLogger('silent'), plugins });
  });
  afterAll(async () => server?.close());

  it('a registered dataset appears in the tree at once, a removed one is gone', async () => {
    const basic = fixtures.datasets.find((d) => d.id === 'basic');
    const refs = join(fixtures.dir, basic?.refs as string);
    const rootKeys = async () => Object.keys(await consolidated((path) => fetch(`${server.url}${path}`), '/catalog/kerchunk/.zmetadata'));
    expect(await rootKeys()).not.toContain('icon/new/run/.zgroup');
    const created = await adminFetch(`${server.url}/admin/datasets`, { method: 'POST', body: { id: 'icon.new.run', refs } });
    expect(created.status).toBe(201);
    expect(await rootKeys()).toContain('icon/new/run/tas/.zarray');
    const [mine, theirs] = await Promise.all([fetch(`${server.url}/catalog/zarr/icon/new/run/tas/0.0.0`), fetch(`${server.url}/datasets/icon.new.run/zarr/tas/0.0.0`)]);
    expect(mine.status).toBe(200);
    expect(Buffer.from(await mine.arrayBuffer())).toEqual(Buffer.from(await theirs.arrayBuffer()));
    expect((await adminFetch(`${server.url}/admin/datasets/icon.new.run`, { method: 'DELETE' })).status).toBe(204);
    expect((await rootKeys()).filter((key) => key.startsWith('icon/new'))).toEqual([]);
    expect((await fetch(`${server.url}/catalog/kerchunk/icon/new/run/.zattrs`)).status).toBe(404);
  });
});
