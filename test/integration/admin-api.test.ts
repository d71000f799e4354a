import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { writeParquetReferences } from '../../kerchunk/parquet-writer.js';
import { createAdminPlugin } from '../../plugins/admin/index.js';
import { defaultPlugins } from '../../server/default-plugins.js';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';
import { ADMIN_TOKEN, adminFetch, BASE_CATALOG, makeAdminCatalog, zarray } from '../helpers/admin-fixture.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * The default plugins with the admin plugin configured explicitly (the env is not touched). These
 * tests fire many admin requests in a row from one address: the rate limit is set out of their way
 * here and tested in admin-rate-limit.test.ts.
 */
const UNLIMITED = { ratePerSecond: 10_000, burst: 10_000 };
const pluginsWith = (token: string) => [...defaultPlugins.filter((p) => p.name !== 'admin'), createAdminPlugin({ token, rateLimit: UNLIMITED })];

async function start(catalog: string, token = ADMIN_TOKEN): Promise<RunningServer> {
  return startServer({ catalog, port: 0, host: '127.0.0.1', logger: createLogger('silent'), plugins: pluginsWith(token) });
}

describe('admin API (in-process server)', () => {
  let dir: string;
  let catalog: string;
  let server: RunningServer;
  const admin = (path: string, init: Parameters<typeof adminFetch>[1]) => adminFetch(`${server.url}${path}`, init);
  const catalogText = () => readFile(catalog, 'utf8');

  beforeAll(async () => {
    ({ dir, catalog } = await makeAdminCatalog());
    server = await start(catalog);
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('authentication', () => {
    it('answers 401 with WWW-Authenticate: Bearer without a token, and changes nothing', async () => {
      const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'sneak', refs: 'refs/good.json' }, token: null });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="strato-admin"/);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await catalogText()).toBe(BASE_CATALOG);
      expect((await fetch(`${server.url}/datasets/sneak/kerchunk/.zmetadata`)).status).toBe(404);
    });

    it('answers 401 for a wrong token of any length, and for other schemes', async () => {
      for (const token of ['wrong', `${ADMIN_TOKEN.slice(0, -1)}x`, `${ADMIN_TOKEN}x`, '']) {
        const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'sneak', refs: 'refs/good.json' }, token });
        expect(response.status, token).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      const basic = await admin('/admin/datasets/existing', {
        method: 'DELETE',
        token: null,
        headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
      });
      expect(basic.status).toBe(401);
      const deleted = await admin('/admin/datasets/existing', { method: 'DELETE', token: 'wrong' });
      expect(deleted.status).toBe(401);
      expect(await catalogText()).toBe(BASE_CATALOG);
      expect(server.registry.get('existing')).toBeDefined();
    });
  });

  describe('request validation', () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['not JSON', '{"id": ', 400, /not valid JSON/],
      ['an array', [1, 2], 400, /JSON object/],
      ['no id', { refs: 'refs/good.json' }, 400, /"id" is required/],
      ['a bad id', { id: '../etc', refs: 'refs/good.json' }, 400, /must match/],
      ['no refs', { id: 'x' }, 400, /"refs" is required/],
      ['an unknown field', { id: 'x', refs: 'refs/good.json', titel: 'typo' }, 400, /unknown field.*titel/],
      ['a title that is not text', { id: 'x', refs: 'refs/good.json', title: 5 }, 400, /"title" must be text/],
      ['processing that is not an object', { id: 'x', refs: 'refs/good.json', processing: [1] }, 400, /"processing" must be a JSON object/],
    ];
    for (const [what, body, status, detail] of cases) {
      it(`refuses ${what} with ${status}, catalog untouched`, async () => {
        const response = await admin('/admin/datasets', { method: 'POST', body });
        expect(response.status).toBe(status);
        expect(((await response.json()) as { detail: string }).detail).toMatch(detail);
        expect(await catalogText()).toBe(BASE_CATALOG);
      });
    }

    it('refuses a body that is not declared as JSON with 415', async () => {
      const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'x', refs: 'refs/good.json' }, headers: { 'content-type': 'text/plain' } });
      expect(response.status).toBe(415);
    });

    it('refuses a body over 64 KiB with 413 (declared length)', async () => {
      const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'big', refs: 'refs/good.json', description: 'x'.repeat(70_000) } });
      expect(response.status).toBe(413);
      expect(await catalogText()).toBe(BASE_CATALOG);
    });

    it('refuses a chunked body that grows over 64 KiB with 413', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/admin/datasets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write('{"id": "big", "refs": "refs/good.json", "description": "');
        for (let i = 0; i < 20; i++) req.write('y'.repeat(8192));
        req.end('"}');
      });
      expect(status).toBe(413);
      expect(await catalogText()).toBe(BASE_CATALOG);
    });

    it('refuses a PUT whose body names another id', async () => {
      const response = await admin('/admin/datasets/one', { method: 'PUT', body: { id: 'two', refs: 'refs/good.json' } });
      expect(response.status).toBe(400);
      expect(await catalogText()).toBe(BASE_CATALOG);
    });
  });

  describe('reference validation (422, catalog byte for byte untouched)', () => {
    const refused: Array<[string, string, RegExp]> = [
      ['a ../ escape', 'refs/dotdot.json', /reference "\.\.\/outside\/secret\.bin" is not allowed/],
      ['a ../ escape through the allowed root', 'refs/sneaky-dotdot.json', /reference "\.\.\/data\/\.\.\/outside\/secret\.bin" is not allowed/],
      ['an absolute path outside', 'refs/absolute.json', /reference "\/.*\/outside\/secret\.bin" is not allowed/],
      // where the symlink leads is logged, not answered (issue #13 F9: no probing outside the roots)
      ['a symlink escape', 'refs/symlink.json', /reference "\.\.\/data\/link\.bin" is not allowed: it resolves outside the allowed sources; allowed sources: /],
      ['a file:// URL outside', 'refs/file-url.json', /reference "file:\/\/\/etc\/passwd" is not allowed/],
      ['another host', 'refs/host.json', /reference "https:\/\/elsewhere\.example\/x\.nc" is not allowed: the origin https:\/\/elsewhere\.example is not allowed/],
      ['a table that is not JSON', 'refs/broken.json', /not valid JSON/],
      ['insane metadata', 'refs/bad-metadata.json', /"v\/\.zarray" needs "chunks"/],
      ['a missing table', 'refs/missing.json', /cannot be read/],
      ['a table given as URL', 'https://example.org/refs.json', /not a URL/],
    ];
    for (const [what, refs, detail] of refused) {
      it(`refuses ${what}`, async () => {
        const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'refused', refs } });
        const problem = (await response.json()) as { detail: string; status: number };
        expect(response.status, problem.detail).toBe(422);
        expect(problem.detail).toMatch(detail);
        expect(await catalogText()).toBe(BASE_CATALOG);
        expect(server.registry.get('refused')).toBeUndefined();
      });
    }

    it('refuses a reference table outside the catalog directory and the allowed sources', async () => {
      const elsewhere = await mkdtemp(join(tmpdir(), 'strato-admin-elsewhere-'));
      try {
        await writeFile(join(elsewhere, 'table.json'), await readFile(join(dir, 'refs', 'good.json')));
        for (const refs of [join(elsewhere, 'table.json'), relative(dir, join(elsewhere, 'table.json'))]) {
          const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'refused', refs } });
          expect(response.status).toBe(422);
          expect(((await response.json()) as { detail: string }).detail).toMatch(/outside the catalog's directory and the allowed sources/);
        }
        expect(await catalogText()).toBe(BASE_CATALOG);
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    });

    it('reads every reference of a parquet table, not only the first ones', async () => {
      const metadata = new Map([['v/.zarray', JSON.parse(zarray([40], [10]))]]);
      const chunks = new Map([
        ['v/0', { kind: 'range' as const, url: '../../data/bytes.bin', offset: 0, length: 10 }],
        ['v/1', { kind: 'range' as const, url: '../../data/bytes.bin', offset: 10, length: 10 }],
        ['v/3', { kind: 'range' as const, url: '../../outside/secret.bin', offset: 0, length: 4 }],
      ]);
      await writeParquetReferences(join(dir, 'refs', 'escape.parq'), { metadata, chunks }, { recordSize: 2 });
      const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'refused', refs: 'refs/escape.parq' } });
      expect(response.status).toBe(422);
      expect(((await response.json()) as { detail: string }).detail).toMatch(/reference "\.\.\/\.\.\/outside\/secret\.bin" is not allowed/);
      expect(await catalogText()).toBe(BASE_CATALOG);
    });
  });

  describe('registration', () => {
    it('registers a dataset: 201 with its URL, written to the catalog, served at once', async () => {
      const body = { id: 'fresh', refs: 'refs/good.json', title: 'Fresh: bytes', license: 'CC0-1.0', stac: { keywords: ['a'] } };
      const response = await admin('/admin/datasets', { method: 'POST', body });
      expect(response.status).toBe(201);
      const answer = (await response.json()) as { id: string; url: string; served: boolean };
      expect(answer).toMatchObject({ id: 'fresh', url: `${server.url}/datasets/fresh`, served: true });
      expect(response.headers.get('location')).toBe(`${server.url}/datasets/fresh`);
      // served by this replica when the response arrives (no waiting for the watcher)
      const chunk = await fetch(`${server.url}/datasets/fresh/kerchunk/v/1`);
      expect(chunk.status).toBe(200);
      expect([...new Uint8Array(await chunk.arrayBuffer())]).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
      // written, with the rest of the file as it was
      const text = await catalogText();
      expect(text).toContain('# Admin test catalog');
      expect(text).toContain('existing: {refs: refs/good.json, title: Existing} # there before any registration');
      expect(text).toContain('allow: [data/] # nothing else is read');
      const entry = (await loadCatalog(catalog)).datasets.find((d) => d.id === 'fresh');
      expect(entry).toMatchObject({ refs: 'refs/good.json', title: 'Fresh: bytes', license: 'CC0-1.0', stac: { keywords: ['a'] } });
    });

    it('refuses to register an existing id with POST (409), catalog untouched', async () => {
      const before = await catalogText();
      const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'existing', refs: 'refs/good.json' } });
      expect(response.status).toBe(409);
      expect(await catalogText()).toBe(before);
    });

    it('creates with PUT (201) and replaces with PUT (200)', async () => {
      const created = await admin('/admin/datasets/put-me', { method: 'PUT', body: { refs: 'refs/good.json', title: 'First' } });
      expect(created.status).toBe(201);
      const replaced = await admin('/admin/datasets/put-me', { method: 'PUT', body: { id: 'put-me', refs: 'refs/good.json', title: 'Second' } });
      expect(replaced.status).toBe(200);
      expect(server.registry.get('put-me')?.entry.title).toBe('Second');
      expect((await loadCatalog(catalog)).datasets.find((d) => d.id === 'put-me')?.title).toBe('Second');
    });

    it('refuses a replacement with bad references and keeps the old entry served', async () => {
      const before = await catalogText();
      const response = await admin('/admin/datasets/put-me', { method: 'PUT', body: { refs: 'refs/symlink.json' } });
      expect(response.status).toBe(422);
      expect(await catalogText()).toBe(before);
      expect(server.registry.get('put-me')?.entry.refs).toBe('refs/good.json');
    });

    it('deletes (204), then the dataset is gone (404), and a second delete is a 404', async () => {
      const response = await admin('/admin/datasets/put-me', { method: 'DELETE' });
      expect(response.status).toBe(204);
      expect((await fetch(`${server.url}/datasets/put-me/kerchunk/.zmetadata`)).status).toBe(404);
      expect((await loadCatalog(catalog)).datasets.map((d) => d.id)).not.toContain('put-me');
      const before = await catalogText();
      const again = await admin('/admin/datasets/put-me', { method: 'DELETE' });
      expect(again.status).toBe(404);
      expect(await catalogText()).toBe(before);
    });

    it('keeps every dataset when registrations arrive concurrently', async () => {
      const ids = Array.from({ length: 12 }, (_, i) => `parallel-${i}`);
      const responses = await Promise.all(ids.map((id) => admin('/admin/datasets', { method: 'POST', body: { id, refs: 'refs/good.json' } })));
      expect(responses.map((r) => r.status)).toEqual(ids.map(() => 201));
      const listed = (await loadCatalog(catalog)).datasets.map((d) => d.id);
      for (const id of [...ids, 'existing', 'fresh']) expect(listed).toContain(id);
      for (const id of ids) expect(server.registry.get(id)).toBeDefined();
    });
  });
});

describe('admin API without a configured token', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    const made = await makeAdminCatalog();
    dir = made.dir;
    server = await start(made.catalog, '');
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 404 on every admin route, with or without a token', async () => {
    for (const [method, path] of [
      ['POST', '/admin/datasets'],
      ['PUT', '/admin/datasets/x'],
      ['DELETE', '/admin/datasets/existing'],
    ] as const) {
      for (const token of [null, ADMIN_TOKEN]) {
        const response = await adminFetch(`${server.url}${path}`, { method, token, ...(method === 'DELETE' ? {} : { body: { id: 'x', refs: 'refs/good.json' } }) });
        expect(response.status, `${method} ${path}`).toBe(404);
      }
    }
    expect(server.registry.get('existing')).toBeDefined();
  });
});

describe('admin API across replicas (spawned servers sharing one catalog file)', () => {
  let dir: string;
  let one: SpawnedServer;
  let two: SpawnedServer;
  beforeAll(async () => {
    const made = await makeAdminCatalog();
    dir = made.dir;
    const env = { STRATO_ADMIN_TOKEN: ADMIN_TOKEN };
    [one, two] = await Promise.all([spawnServer(made.catalog, ['--log-level', 'warn'], env), spawnServer(made.catalog, ['--log-level', 'warn'], env)]);
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function servedWithin(server: SpawnedServer, id: string, present: boolean, timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const status = (await fetch(`${server.url}/datasets/${id}/kerchunk/.zmetadata`)).status;
      if ((status === 200) === present) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`${id} ${present ? 'not served' : 'still served'} after ${timeoutMs} ms (status ${status})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('a dataset registered on one replica is served by the other within 1 s', async () => {
    for (const [writer, reader, id] of [
      [one, two, 'via-one'],
      [two, one, 'via-two'],
    ] as const) {
      const response = await adminFetch(`${writer.url}/admin/datasets`, { method: 'POST', body: { id, refs: 'refs/good.json' } });
      expect(response.status).toBe(201);
      expect((await fetch(`${writer.url}/datasets/${id}/kerchunk/.zmetadata`)).status).toBe(200); // the writer serves it at once
      const latency = await servedWithin(reader, id, true, 1000);
      expect(latency).toBeLessThan(1000);
      console.log(`${id}: served by the other replica after ${latency} ms`);
    }
  });

  it('a dataset removed on one replica disappears from the other within 1 s', async () => {
    const response = await adminFetch(`${one.url}/admin/datasets/via-two`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    expect(await servedWithin(two, 'via-two', false, 1000)).toBeLessThan(1000);
  });

  it('concurrent registrations on both replicas all land in the catalog and on both', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => `both-${i}`);
    const responses = await Promise.all(ids.map((id, i) => adminFetch(`${(i % 2 ? one : two).url}/admin/datasets`, { method: 'POST', body: { id, refs: 'refs/good.json' } })));
    expect(responses.map((r) => r.status)).toEqual(ids.map(() => 201));
    const listed = (await loadCatalog(join(dir, 'catalog.yaml'))).datasets.map((d) => d.id);
    for (const id of [...ids, 'existing', 'via-one']) expect(listed).toContain(id);
    for (const server of [one, two]) for (const id of ids) await servedWithin(server, id, true, 1000);
  });
});
