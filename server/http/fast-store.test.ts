import { rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { DatasetRegistry } from '../../catalog/registry.js';
import { derivedOpener } from '../../derive/open-derived.js';
import { makeGridCatalog } from '../../test/helpers/grid-fixture.js';
import { AccessControl } from '../access-control.js';
import { createServerApp, mayMatchKeyUnder } from '../app.js';
import { defaultPlugins } from '../default-plugins.js';
import { createLogger } from '../log.js';
import { type AppMetrics, createMetrics } from '../metrics.js';
import { malformedRequestResponse } from './client-errors.js';
import type { NodeListener } from './fast-store.js';
import { nodeClientSignal } from './request-frame.js';
import { whenResponseOver } from './response-lifetime.js';
import { sendfileAvailable, sendfileStats } from './sendfile.js';

const zarray = (shape: number[], chunks: number[], dtype: string) =>
  JSON.stringify({ zarr_format: 2, shape, chunks, dtype, compressor: null, filters: null, fill_value: 0, order: 'C' });

/** 1.3 MB of source bytes; 50 KB chunks, a 1.2 MB one (sent by sendfile), inline data and a chunk whose file is gone. */
async function makeCatalog(): Promise<{ dir: string; catalog: string }> {
  // the grid's dir (refs/grid.json: inline chunks with a time axis, for derived datasets)
  const { dir } = await makeGridCatalog();
  await writeFile(
    join(dir, 'data', 'bytes.bin'),
    Uint8Array.from({ length: 1_300_000 }, (_, i) => (i * 7919) % 251),
  );
  const refs = {
    version: 1,
    refs: {
      '.zattrs': JSON.stringify({ title: 'fast lane' }),
      'v/.zarray': zarray([25_600], [12_800], '<f4'),
      'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
      'v/0': ['../data/bytes.bin', 0, 51_200],
      'v/1': ['../data/bytes.bin', 51_200, 51_200],
      'big/.zarray': zarray([300_000], [300_000], '<f4'),
      'big/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['b'] }),
      'big/0': ['../data/bytes.bin', 0, 1_200_000],
      'i/.zarray': zarray([4], [4], '|u1'),
      'i/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['i'] }),
      'i/0': `base64:${Buffer.from([1, 2, 3, 4]).toString('base64')}`,
      'gone/.zarray': zarray([10], [10], '|u1'),
      'gone/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['g'] }),
      'gone/0': ['../data/doomed.bin', 0, 10],
    },
  };
  await writeFile(join(dir, 'refs', 'pub.json'), JSON.stringify(refs));
  const catalog = join(dir, 'catalog.yaml');
  // the issuer is never asked: the requests here carry no token
  await writeFile(
    catalog,
    `auth:
  issuers: [{issuer: "http://127.0.0.1:9/", audience: strato}]
datasets:
  pub: {refs: refs/pub.json}
  guarded: {refs: refs/pub.json, access: {roles: [members]}}
  grid: {refs: refs/grid.json}
  grid-guarded: {refs: refs/grid.json, access: {roles: [members]}}
  grid-monthly: {derive: {from: grid, resample: {time: month}, reduce: mean}}
  derived-from-guarded: {derive: {from: grid-guarded, resample: {time: month}, reduce: mean}, access: {roles: [members]}}
sources:
  allow: [data/]
`,
  );
  return { dir, catalog };
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** Connection headers and the date differ between any two answers; a fresh request id too. */
function comparable(headers: IncomingHttpHeaders, keepRequestId: boolean): Record<string, string | string[] | undefined> {
  const kept: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'date' || name === 'connection' || name === 'keep-alive') continue;
    if (name === 'x-request-id' && !keepRequestId) {
      kept[name] = typeof value === 'string' && value.length > 0 ? 'present' : 'missing';
      continue;
    }
    kept[name] = value;
  }
  return kept;
}

const SANE_ID = /^[A-Za-z0-9._:+=/@-]{1,128}$/;

/** A raw request (the path is sent as written: no URL normalisation of `..`, `//` or escapes). */
function ask(base: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        // an answer may name the server it came from (links): the two servers differ by port
        const body = Buffer.from(Buffer.concat(parts).toString('latin1').replaceAll(`127.0.0.1:${port}`, 'SERVER'), 'latin1');
        resolve({ status: res.statusCode ?? 0, headers: comparable(res.headers, SANE_ID.test(headers['x-request-id'] ?? '')), body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function listen(listener: NodeListener): Promise<{ server: Server; url: string }> {
  const server = createServer(listener);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let dir: string;
let registry: DatasetRegistry;
let metrics: AppMetrics;
const logLines: string[] = [];
/** The app's listener alone, and the fast lane in front of it (counting what it hands over). */
let app: { server: Server; url: string };
let lane: { server: Server; url: string };
let handedOver = 0;

beforeAll(async () => {
  const made = await makeCatalog();
  dir = made.dir;
  registry = await DatasetRegistry.open(await loadCatalog(made.catalog), { servesProtected: true, openDerived: derivedOpener() });
  expect(registry.problems()).toEqual([]);
  metrics = createMetrics();
  const access = AccessControl.create(registry, metrics);
  const served = createServerApp({ registry, plugins: defaultPlugins, logger: createLogger('debug', (line) => logLines.push(line)), version: '0.0.0', metrics, access });
  const hono = getRequestListener(served.app.fetch, { hostname: '127.0.0.1', errorHandler: malformedRequestResponse });
  app = await listen(hono);
  lane = await listen(
    served.listener((incoming, outgoing) => {
      handedOver++;
      void hono(incoming, outgoing);
    }),
  );
});

afterAll(async () => {
  for (const listening of [app, lane]) {
    listening?.server.closeAllConnections();
    await new Promise((resolve) => listening?.server.close(resolve));
  }
  await registry?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Asks both servers; the answers must be the same. Returns the lane's, and whether it answered
 * without the app. An answer the lane left to the app is the app's own: only its status is
 * compared (a page may differ by the server's port, in its links and so its ETag).
 */
async function same(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer & { readonly fast: boolean }> {
  const expected = await ask(app.url, path, method, headers);
  const before = handedOver;
  const actual = await ask(lane.url, path, method, headers);
  const fast = handedOver === before;
  if (!fast) {
    expect({ path, method, status: actual.status }).toEqual({ path, method, status: expected.status });
    return { ...actual, fast };
  }
  expect({ path, method, headers, status: actual.status, headers_: actual.headers }).toEqual({ path, method, headers, status: expected.status, headers_: expected.headers });
  expect(actual.body.equals(expected.body), `${method} ${path} body`).toBe(true);
  return { ...actual, fast };
}

describe('the fast lane', () => {
  it('answers metadata and chunks of both faces as the app does, without the app', async () => {
    for (const face of ['kerchunk', 'zarr']) {
      for (const key of ['.zmetadata', '.zgroup', '.zattrs', 'v/.zarray', 'v/0', 'v/1', 'i/0', 'big/0']) {
        for (const method of ['GET', 'HEAD']) {
          const answer = await same(`/datasets/pub/${face}/${key}`, method);
          expect(answer.status, key).toBe(200);
          expect(answer.fast, `${method} ${face}/${key}`).toBe(true);
        }
      }
    }
    // a derived dataset's chunks are made on request, under the request's budget
    for (const key of ['.zmetadata', 't/.zarray', 't/0.0.0', 'u/0.0.0.0']) {
      for (const face of ['kerchunk', 'zarr']) {
        const answer = await same(`/datasets/grid-monthly/${face}/${key}`);
        expect(answer.status, key).toBe(200);
        expect(answer.fast).toBe(true);
      }
    }
    if (sendfileAvailable) {
      // a large range of a local file goes by sendfile on the lane too
      const before = sendfileStats().started;
      expect((await same('/datasets/pub/kerchunk/big/0')).fast).toBe(true);
      expect(sendfileStats().started).toBe(before + 2);
    }
    const chunk = await same('/datasets/pub/kerchunk/v/1');
    expect(chunk.body.byteLength).toBe(51_200);
    expect(chunk.headers['access-control-allow-origin']).toBe('*');
    expect(chunk.headers['x-content-type-options']).toBe('nosniff');
    expect(chunk.headers['x-request-id']).toBe('present');
  });

  it('answers conditional and range requests as the app does: 304, 206, 416, ignored ranges, HEAD', async () => {
    const { headers } = await same('/datasets/pub/kerchunk/v/0');
    const etag = String(headers.etag);
    const cases: Array<[Record<string, string>, number]> = [
      [{ 'if-none-match': etag }, 304],
      [{ 'if-none-match': `W/${etag}` }, 304],
      [{ 'if-none-match': `"other", ${etag}` }, 304],
      [{ 'if-none-match': '*' }, 304],
      [{ 'if-none-match': '"other"' }, 200],
      [{ range: 'bytes=0-9' }, 206],
      [{ range: 'bytes=-5' }, 206],
      [{ range: 'bytes=51190-' }, 206],
      [{ range: 'bytes=51199-99999999999999999999' }, 206],
      [{ range: 'bytes=51200-' }, 416],
      [{ range: 'bytes=-0' }, 416],
      [{ range: 'bytes=9-2' }, 200],
      [{ range: 'bytes=0-1,4-5' }, 200],
      [{ range: 'items=0-1' }, 200],
      [{ range: 'bytes=0-9', 'if-none-match': etag }, 304],
    ];
    for (const [headers, status] of cases) {
      for (const method of ['GET', 'HEAD']) {
        for (const key of ['v/0', '.zmetadata', 'big/0']) {
          const answer = await same(`/datasets/pub/kerchunk/${key}`, method, headers);
          if (key === 'v/0') expect(answer.status, JSON.stringify(headers)).toBe(status);
          expect(answer.fast).toBe(true);
        }
      }
    }
    const ranged = await same('/datasets/pub/kerchunk/big/0', 'GET', { range: 'bytes=1000-1199999' });
    expect(ranged.headers['content-range']).toBe('bytes 1000-1199999/1200000');
    expect(ranged.body.byteLength).toBe(1_199_000);
  });

  it('keeps the X-Request-Id a client sends, and ignores a query string as the app does', async () => {
    const answer = await same('/datasets/pub/kerchunk/v/0?token=x&y', 'GET', { 'x-request-id': 'req-42' });
    expect(answer.headers['x-request-id']).toBe('req-42');
    expect(answer.fast).toBe(true);
    expect((await same('/datasets/pub/kerchunk/v/0', 'GET', { 'x-request-id': 'bad id with spaces' })).headers['x-request-id']).toBe('present');
  });

  it('answers errors as the app does: unknown keys and datasets (404 problem+json), unreadable sources', async () => {
    for (const path of ['/datasets/pub/kerchunk/v/99', '/datasets/pub/kerchunk/nope/.zarray', '/datasets/nope/kerchunk/.zmetadata', '/datasets/pub/kerchunk/v/0.0']) {
      const answer = await same(path);
      expect(answer.status, path).toBe(404);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      const body = JSON.parse(answer.body.toString()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 404, title: 'Not Found', instance: path });
    }
    const gone = await same('/datasets/pub/kerchunk/gone/0');
    expect(gone.status).toBeGreaterThanOrEqual(400);
    expect(gone.fast).toBe(true);
    expect(gone.body.toString()).not.toContain(dir);
    await same('/datasets/pub/kerchunk/gone/0', 'HEAD');
  });

  it('leaves hostile and unusual paths to the app, with the same answers', async () => {
    const paths = [
      '/datasets/pub/kerchunk/__proto__',
      '/datasets/pub/kerchunk/__proto__/.zarray',
      '/datasets/__proto__/kerchunk/.zmetadata',
      '/datasets/constructor/kerchunk/.zmetadata',
      '/datasets/pub/kerchunk/../kerchunk/.zmetadata',
      '/datasets/pub/kerchunk/v/../v/0',
      '/datasets/pub/kerchunk/./v/0',
      '/datasets/pub/kerchunk//v/0',
      '/datasets/pub/kerchunk/v/0/',
      '/datasets/pub/kerchunk/v%2F0',
      '/datasets/pub/kerchunk/v/%30',
      '/datasets/pub/kerchunk/%2E%2E/v/0',
      '/datasets/pub/kerchunk/v/%',
      '/datasets/pub/kerchunk/%00',
      '/datasets/pub/kerchunk/',
      '/datasets/pub/kerchunk',
      '/datasets/pub/',
      '/datasets/pub%2Fx/kerchunk/.zmetadata',
      `/datasets/pub/kerchunk/${'a/'.repeat(300)}0`,
      `/datasets/${'p'.repeat(500)}/kerchunk/.zmetadata`,
      '/datasets/pub/KERCHUNK/.zmetadata',
      '/datasets/pub/references.json',
    ];
    for (const path of paths) {
      for (const method of ['GET', 'HEAD']) expect((await same(path, method)).fast, `${method} ${path}`).toBe(false);
    }
    expect((await same('/datasets/pub/kerchunk/__proto__')).status).toBe(404);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) expect((await same('/datasets/pub/kerchunk/v/0', method)).fast).toBe(false);
  });

  it('refuses protected datasets (and ones derived from them) as the app does: the app decides', async () => {
    for (const path of [
      '/datasets/guarded/kerchunk/.zmetadata',
      '/datasets/guarded/kerchunk/v/0',
      '/datasets/guarded/zarr/v/0',
      '/datasets/derived-from-guarded/kerchunk/.zmetadata',
    ]) {
      const answer = await same(path);
      expect(answer.status, path).toBe(401);
      expect(answer.headers['www-authenticate']).toBeTruthy();
      expect(answer.fast).toBe(false);
      expect(answer.body.toString()).not.toContain('members');
    }
  });

  it('counts its requests in the same metrics and writes the same access lines', async () => {
    const count = async (status: string, method = 'GET'): Promise<number> => {
      const { text } = await metrics.render();
      const line = text.split('\n').find((l) => l.startsWith(`strato_http_requests_total{route="/datasets/:id/kerchunk/*",method="${method}",status="${status}"}`));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const bytes = async (): Promise<number> => {
      const { text } = await metrics.render();
      const line = text.split('\n').find((l) => l.startsWith('strato_http_response_bytes_total{route="/datasets/:id/kerchunk/*"}'));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const ok = await count('200');
    const notModified = await count('304');
    const sent = await bytes();
    logLines.length = 0;
    const etag = String((await ask(lane.url, '/datasets/pub/kerchunk/v/0', 'HEAD')).headers.etag);
    await ask(lane.url, '/datasets/pub/kerchunk/v/0', 'GET', { 'x-request-id': 'seen-1' });
    await ask(lane.url, '/datasets/pub/kerchunk/v/0', 'GET', { 'if-none-match': etag });
    expect(await count('200')).toBe(ok + 1);
    expect(await count('200', 'HEAD')).toBeGreaterThanOrEqual(1);
    expect(await count('304')).toBe(notModified + 1);
    expect(await bytes()).toBe(sent + 2 * 51_200);
    const lines = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatchObject({
      level: 'debug',
      requestId: 'seen-1',
      method: 'GET',
      path: '/datasets/pub/kerchunk/v/0',
      route: '/datasets/:id/kerchunk/*',
      status: 200,
      bytes: 51_200,
    });
    expect(lines[2]).toMatchObject({ status: 304 });
    expect(typeof lines[1]?.ms).toBe('number');
    const { text } = await metrics.render();
    expect(text).toMatch(/^strato_http_requests_in_flight 0$/m);
  });
});

describe('the fast lane under a request budget', () => {
  it('refuses work past the budget as the app does (413), and serves what fits', async () => {
    // a registry of its own: derived chunks made earlier are kept by the dataset
    const fresh = await DatasetRegistry.open(await loadCatalog(join(dir, 'catalog.yaml')), { servesProtected: true, openDerived: derivedOpener() });
    const budgetMetrics = createMetrics();
    const served = createServerApp({
      registry: fresh,
      plugins: defaultPlugins,
      logger: createLogger('silent'),
      version: '0.0.0',
      metrics: budgetMetrics,
      access: AccessControl.create(fresh, budgetMetrics),
      budgetLimits: { chunks: 100, decodedBytes: 60, wallMs: 60_000 },
    });
    const hono = getRequestListener(served.app.fetch, { hostname: '127.0.0.1', errorHandler: malformedRequestResponse });
    let handed = 0;
    const alone = await listen(hono);
    const fronted = await listen(
      served.listener((incoming, outgoing) => {
        handed++;
        void hono(incoming, outgoing);
      }),
    );
    try {
      // a monthly mean decodes its days' source chunks (96 bytes each of u): more than 60 bytes is refused
      const statuses: number[] = [];
      for (const key of ['.zmetadata', 'u/0.0.0.0']) {
        const expected = await ask(alone.url, `/datasets/grid-monthly/kerchunk/${key}`);
        const actual = await ask(fronted.url, `/datasets/grid-monthly/kerchunk/${key}`);
        expect(actual.status, key).toBe(expected.status);
        expect(actual.headers).toEqual(expected.headers);
        expect(actual.body.equals(expected.body)).toBe(true);
        statuses.push(actual.status);
      }
      expect(statuses).toEqual([200, 413]);
      expect(handed).toBe(0);
    } finally {
      for (const { server } of [alone, fronted]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await fresh.close();
    }
  });
});

describe('mayMatchKeyUnder', () => {
  it('tells which route patterns could answer a store key', () => {
    expect(mayMatchKeyUnder('*', 'kerchunk')).toBe(true);
    expect(mayMatchKeyUnder('/datasets/:id/*', 'kerchunk')).toBe(true);
    expect(mayMatchKeyUnder('/datasets/:id/kerchunk/*', 'kerchunk')).toBe(true);
    expect(mayMatchKeyUnder('/datasets/:id/kerchunk/special.json', 'kerchunk')).toBe(true);
    expect(mayMatchKeyUnder('/:a/:b/:c/:d', 'kerchunk')).toBe(true);
    expect(mayMatchKeyUnder('/datasets/:path{.+}', 'kerchunk')).toBe(true);
    expect(mayMatchKeyUnder('/datasets/:id?/kerchunk', 'kerchunk')).toBe(true);
    expect(mayMatchKeyUnder('/datasets/:id/kerchunk', 'kerchunk')).toBe(false);
    expect(mayMatchKeyUnder('/datasets/:id', 'kerchunk')).toBe(false);
    expect(mayMatchKeyUnder('/datasets/:id/zarr/*', 'kerchunk')).toBe(false);
    expect(mayMatchKeyUnder('/datasets/:id/references.json', 'kerchunk')).toBe(false);
    expect(mayMatchKeyUnder('/health', 'kerchunk')).toBe(false);
  });
});

// the client signal the lane (and the request frame) hand to the views: request-frame.ts, response-lifetime.ts
let signalServer: Server | undefined;

/** A server whose every request runs `handle`; resolves to its port. */
function serve(handle: Parameters<typeof createServer>[1]): Promise<number> {
  const listening = createServer(handle);
  signalServer = listening;
  return new Promise((resolve) => listening.listen(0, '127.0.0.1', () => resolve((listening.address() as AddressInfo).port)));
}

describe('the client signal of a Node response', () => {
  afterEach(async () => {
    const listening = signalServer;
    signalServer = undefined;
    if (listening === undefined) return;
    listening.closeAllConnections();
    await new Promise((resolve) => listening.close(resolve));
  });

  it('is aborted when the client leaves before the answer, and says why', async () => {
    let seen: AbortSignal | undefined;
    const aborted = new Promise<unknown>((resolve) => {
      void serve((incoming, outgoing) => {
        seen = nodeClientSignal(incoming, outgoing);
        seen.addEventListener('abort', () => resolve(seen?.reason));
        // never answered: the client gives up
      }).then((port) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent: false });
        req.on('error', () => undefined);
        req.end();
        setTimeout(() => req.destroy(), 50);
      });
    });
    // an AbortError (what rethrows it ends the request as cancelled, not as an unexpected error),
    // saying the request's own error when it has one (Node marks a request cut short as errored),
    // else that the connection closed early
    const reason = (await aborted) as Error;
    expect(reason).toBeInstanceOf(DOMException);
    expect(reason.name).toBe('AbortError');
    expect(['Error: aborted', 'Client connection prematurely closed.']).toContain(reason.message);
    expect(seen?.aborted).toBe(true);
  });

  it('is one signal per response, never aborted once the answer is out, and leads to the response', async () => {
    const results: Array<Promise<{ same: boolean; abortedAfter: boolean; over: boolean }>> = [];
    const port = await serve((incoming, outgoing) => {
      const signal = nodeClientSignal(incoming, outgoing);
      const same = nodeClientSignal(incoming, outgoing) === signal;
      results.push(
        new Promise((resolve) => {
          let over = false;
          expect(whenResponseOver(signal, () => (over = true))).toBe(true);
          outgoing.on('close', () => setImmediate(() => resolve({ same, abortedAfter: signal.aborted, over })));
        }),
      );
      outgoing.writeHead(200, { 'content-length': '2' }).end('ok');
    });
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end();
      });
    }
    expect(await Promise.all(results)).toEqual(Array.from({ length: 3 }, () => ({ same: true, abortedAfter: false, over: true })));
  });

  it('belongs to no response when made outside a Node request', () => {
    expect(whenResponseOver(new AbortController().signal, () => undefined)).toBe(false);
    expect(whenResponseOver(undefined, () => undefined)).toBe(false);
  });
});
