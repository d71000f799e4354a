import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Dataset } from '../../catalog/dataset.js';
import { openDataset } from '../../catalog/dataset.js';
import { Sources } from '../../kerchunk/sources/sources.js';
import { trackResponse } from '../../server/http/response-lifetime.js';
import { configureSendfile, type SendOutcome, sendFileResponse, sendfileAvailable, sendfileStats } from '../../server/http/sendfile.js';
import { sendBodyFile, storeRoutes } from '../../server/http/store-routes.js';
import type { DatasetEnv } from '../../server/plugin.js';
import { DiskChunkCache } from '../../views/disk-chunk-cache.js';
import { EncodedChunkCache } from '../../views/processed-view.js';
import { RawView } from '../../views/raw-view.js';

// Raw chunks of local files are sent by sendfile(2) (server/http/sendfile.ts, native/sendfile.c):
// real sockets, real files, the bytes compared with the file's.
const CHUNK = 1_200_000;
const CHUNKS = 12;
let dir: string;
let server: StoreServer;
let data: Buffer;
const logged: string[] = [];

interface StoreServer {
  readonly url: string;
  readonly view: RawView;
  close(): Promise<void>;
}

interface Modules {
  readonly Sources: typeof Sources;
  readonly openDataset: typeof openDataset;
  readonly RawView: typeof RawView;
  readonly storeRoutes: typeof storeRoutes;
}

/** The raw view's store routes over `dir`'s references, served by @hono/node-server on a real socket. */
async function startStore(modules: Modules): Promise<StoreServer> {
  const sources = await modules.Sources.create({ allow: [dir], baseDir: dir });
  const dataset: Dataset = await modules.openDataset({ id: 'd', refs: 'refs.json', refsLocation: join(dir, 'refs.json'), fields: {} }, sources);
  const view = new modules.RawView(dataset, sources, { warn: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`) });
  const app = new Hono<DatasetEnv>();
  app.use('/datasets/d/*', async (c, next) => {
    c.set('dataset', dataset);
    await next();
  });
  app.route(
    '/datasets/d/kerchunk',
    modules.storeRoutes(() => view, 'raw view'),
  );
  app.onError((error, c) => c.json({ error: error.message }, 502));
  const http = createServer(getRequestListener(app.fetch));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    view,
    close: async () => {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await sources.close();
      await dataset.references.close();
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-sendfile-'));
  data = randomBytes(CHUNK * CHUNKS + 100);
  await writeFile(join(dir, 'data.bin'), data);
  await writeFile(join(dir, 'cut.bin'), data);
  const refs: Record<string, unknown> = {
    '.zgroup': JSON.stringify({ zarr_format: 2 }),
    'v/.zarray': JSON.stringify({ zarr_format: 2, shape: [CHUNK * CHUNKS], chunks: [CHUNK], dtype: '|u1', compressor: null, filters: null, fill_value: 0, order: 'C' }),
    'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
    'cut/.zarray': JSON.stringify({ zarr_format: 2, shape: [CHUNK * CHUNKS], chunks: [CHUNK], dtype: '|u1', compressor: null, filters: null, fill_value: 0, order: 'C' }),
    'cut/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
  };
  for (let i = 0; i < CHUNKS; i++) {
    refs[`v/${i}`] = ['data.bin', 100 + i * CHUNK, CHUNK];
    refs[`cut/${i}`] = ['cut.bin', 100 + i * CHUNK, CHUNK];
  }
  await writeFile(join(dir, 'refs.json'), JSON.stringify({ version: 1, refs }));
  server = await startStore({ Sources, openDataset, RawView, storeRoutes });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const expected = (i: number) => data.subarray(100 + i * CHUNK, 100 + (i + 1) * CHUNK);
const openFds = () => readdirSync('/proc/self/fd').length;

async function settled(): Promise<void> {
  await vi.waitFor(() => expect(sendfileStats().alive).toBe(0), { timeout: 10_000, interval: 20 });
}

/** A GET by node:http; `abortAfter`: destroy the connection once that many body bytes came. */
function get(path: string, options: { abortAfter?: number; headers?: Record<string, string> } = {}): Promise<{ status: number; body: Buffer; complete: boolean; length: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { agent: false, headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      let bytes = 0;
      const done = (complete: boolean) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), complete, length: Number(res.headers['content-length']) });
      res.on('data', (part: Buffer) => {
        parts.push(part);
        bytes += part.byteLength;
        if (options.abortAfter !== undefined && bytes >= options.abortAfter) {
          req.destroy();
          done(false);
        }
      });
      res.on('end', () => done(true));
      res.on('error', () => done(false));
      res.on('aborted', () => done(false));
    });
    req.on('error', (error) => (options.abortAfter !== undefined ? undefined : reject(error)));
    req.end();
  });
}

interface RawResponse {
  readonly head: string;
  readonly status: number;
  readonly body: Buffer;
}

/** Reads `count` responses with Content-Length bodies off a raw socket, in order. */
function readResponses(socket: Socket, count: number): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const responses: RawResponse[] = [];
    const onData = (part: Buffer) => {
      buffered = Buffer.concat([buffered, part]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.byteLength < end + 4 + length) return;
        responses.push({ head, status: Number(head.split(' ')[1]), body: Buffer.from(buffered.subarray(end + 4, end + 4 + length)) });
        buffered = buffered.subarray(end + 4 + length);
        if (responses.length === count) {
          socket.off('data', onData);
          resolve(responses);
          return;
        }
      }
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed after ${responses.length} responses`)));
  });
}

const requestText = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

async function rawConnection(): Promise<Socket> {
  const url = new URL(server.url);
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  return socket;
}

// Both ways of sending: the head through Node and the send on the pool (the default), and the
// head with the body from the addon, on the event loop when the range is in the page cache.
const MODES = [
  { name: 'on the pool', inlineBytes: 0 },
  { name: 'on the event loop', inlineBytes: 4 * 1024 * 1024 },
] as const;

for (const mode of MODES) {
  describe.skipIf(!sendfileAvailable)(`raw chunks by sendfile, ${mode.name}`, () => {
    beforeAll(() => configureSendfile({ inlineBytes: mode.inlineBytes }));
    afterAll(() => configureSendfile({ inlineBytes: 0 }));

    it('uses the pool only when asked to (the files are in the page cache)', async () => {
      const before = sendfileStats();
      const answers = await Promise.all([3, 4].map((i) => get(`/datasets/d/kerchunk/v/${i}`)));
      answers.forEach((answer, n) => expect(answer.body.equals(expected(3 + n))).toBe(true));
      await settled();
      const after = sendfileStats();
      expect(after.started - before.started).toBe(2);
      if (mode.inlineBytes === 0) expect(after.poolWorks - before.poolWorks).toBeGreaterThanOrEqual(2);
      else expect(after.poolWorks).toBe(before.poolWorks);
    });

    it('sends whole chunks byte for byte, by sendfile, many at once', async () => {
      const before = sendfileStats().started;
      const keys = Array.from({ length: 40 }, (_, n) => (n * 7) % CHUNKS);
      const answers = await Promise.all(keys.map((i) => get(`/datasets/d/kerchunk/v/${i}`)));
      answers.forEach((answer, n) => {
        expect(answer.status).toBe(200);
        expect(answer.body.equals(expected(keys[n] as number)), `chunk ${keys[n]}`).toBe(true);
      });
      expect(sendfileStats().started - before).toBeGreaterThan(0);
      await settled();
    });

    it('sends ranges byte for byte (206), small ones the usual way; HEAD, 304 and 416 as before', async () => {
      const before = sendfileStats().started;
      const large = await get('/datasets/d/kerchunk/v/3', { headers: { range: 'bytes=1000-1099999' } });
      expect(large.status).toBe(206);
      expect(large.body.equals(expected(3).subarray(1000, 1_100_000))).toBe(true);
      const suffix = await get('/datasets/d/kerchunk/v/4', { headers: { range: 'bytes=-1100000' } });
      expect(suffix.status).toBe(206);
      expect(suffix.body.equals(expected(4).subarray(CHUNK - 1_100_000))).toBe(true);
      expect(sendfileStats().started - before).toBe(2);
      const small = await get('/datasets/d/kerchunk/v/3', { headers: { range: 'bytes=10-1009' } });
      expect(small.status).toBe(206);
      expect(small.body.equals(expected(3).subarray(10, 1010))).toBe(true);
      expect(sendfileStats().started - before).toBe(2);

      const head = await fetch(`${server.url}/datasets/d/kerchunk/v/3`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(CHUNK));
      const etag = head.headers.get('etag') ?? '';
      const notModified = await fetch(`${server.url}/datasets/d/kerchunk/v/3`, { headers: { 'if-none-match': etag } });
      expect(notModified.status).toBe(304);
      const unsatisfiable = await fetch(`${server.url}/datasets/d/kerchunk/v/3`, { headers: { range: `bytes=${CHUNK}-` } });
      expect(unsatisfiable.status).toBe(416);
      expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${CHUNK}`);
      expect(sendfileStats().started - before).toBe(2);
    });

    it('answers several requests in turn on one keep-alive connection, and pipelined ones in order', async () => {
      const socket = await rawConnection();
      try {
        for (const i of [1, 2, 1]) {
          const answer = readResponses(socket, 1);
          socket.write(requestText(`/datasets/d/kerchunk/v/${i}`));
          const [response] = await answer;
          expect(response?.status).toBe(200);
          expect(response?.head).toMatch(/\r\netag: /i);
          expect(response?.body.equals(expected(i))).toBe(true);
        }
        const keys = [5, 6, 7, 5];
        const pipelined = readResponses(socket, keys.length + 1);
        socket.write(keys.map((i) => requestText(`/datasets/d/kerchunk/v/${i}`)).join('') + requestText('/datasets/d/kerchunk/v/8', 'Range: bytes=0-99\r\n'));
        const responses = await pipelined;
        keys.forEach((i, n) => expect(responses[n]?.body.equals(expected(i)), `response ${n}`).toBe(true));
        expect(responses[4]?.status).toBe(206);
        expect(responses[4]?.body.equals(expected(8).subarray(0, 100))).toBe(true);
      } finally {
        socket.destroy();
      }
      await settled();
    });

    it('survives clients that leave mid-body: no descriptor left open', async () => {
      await get('/datasets/d/kerchunk/v/0');
      await settled();
      const fds = openFds();
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => get(`/datasets/d/kerchunk/v/${i}`, { abortAfter: 1 + i * 50_000 })));
        for (const answer of answers) expect(answer.complete).toBe(false);
      }
      await settled();
      await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(fds), { timeout: 10_000, interval: 50 });
      const after = await get('/datasets/d/kerchunk/v/9');
      expect(after.body.equals(expected(9))).toBe(true);
    });

    it('serves a slow reader all its bytes', async () => {
      const socket = await rawConnection();
      try {
        socket.pause();
        const answer = readResponses(socket, 1);
        socket.write(requestText('/datasets/d/kerchunk/v/10'));
        for (let n = 0; n < 6; n++) {
          await new Promise((resolve) => setTimeout(resolve, 60));
          socket.resume();
          await new Promise((resolve) => setImmediate(resolve));
          socket.pause();
        }
        socket.resume();
        const [response] = await answer;
        expect(response?.body.equals(expected(10))).toBe(true);
      } finally {
        socket.destroy();
      }
      await settled();
    });

    it('cuts the response of a source file that turns out shorter than its references, and logs it', async () => {
      // whole again (an earlier mode cut it), its size re-checked after a second
      await writeFile(join(dir, 'cut.bin'), data);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const first = await get('/datasets/d/kerchunk/cut/0');
      expect(first.body.equals(expected(0))).toBe(true);
      // truncated in place: the pooled descriptor still says the old size until it is re-checked
      await truncate(join(dir, 'cut.bin'), 100 + 5 * CHUNK + 1000);
      const cut = await get('/datasets/d/kerchunk/cut/5');
      expect(cut.length).toBe(CHUNK);
      expect(cut.complete && cut.body.byteLength === CHUNK).toBe(false);
      expect(cut.body.equals(expected(5).subarray(0, cut.body.byteLength))).toBe(true);
      expect(cut.body.byteLength).toBeLessThanOrEqual(1000);
      await settled();
      await vi.waitFor(() => expect(logged.join('\n')).toMatch(/cut short/));
      // beyond the end as last checked: an error answer, nothing sent
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const missing = await get('/datasets/d/kerchunk/cut/7');
      expect(missing.status).toBeGreaterThanOrEqual(500);
      expect(missing.body.includes(data.subarray(100 + 7 * CHUNK, 100 + 7 * CHUNK + 64))).toBe(false);
    });

    it('gives the same bytes as the JavaScript path (STRATO_NATIVE=0)', async () => {
      vi.resetModules();
      vi.stubEnv('STRATO_NATIVE', '0');
      const sendfile = (await import('../../server/http/sendfile.js')) as typeof import('../../server/http/sendfile.js');
      const modules: Modules = {
        Sources: ((await import('../../kerchunk/sources/sources.js')) as typeof import('../../kerchunk/sources/sources.js')).Sources,
        openDataset: ((await import('../../catalog/dataset.js')) as typeof import('../../catalog/dataset.js')).openDataset,
        RawView: ((await import('../../views/raw-view.js')) as typeof import('../../views/raw-view.js')).RawView,
        storeRoutes: ((await import('../../server/http/store-routes.js')) as typeof import('../../server/http/store-routes.js')).storeRoutes,
      };
      vi.unstubAllEnvs();
      expect(sendfile.sendfileAvailable).toBe(false);
      const plain = await startStore(modules);
      try {
        for (const [path, range] of [
          ['/datasets/d/kerchunk/v/2', undefined],
          ['/datasets/d/kerchunk/v/11', 'bytes=5-1099999'],
        ] as const) {
          const headers: Record<string, string> = range ? { range } : {};
          const before = sendfileStats().started;
          const [a, b] = await Promise.all([fetch(`${server.url}${path}`, { headers }), fetch(`${plain.url}${path}`, { headers })]);
          expect(a.status).toBe(b.status);
          expect(a.headers.get('content-length')).toBe(b.headers.get('content-length'));
          expect(a.headers.get('content-range')).toBe(b.headers.get('content-range'));
          expect(a.headers.get('etag')).toBe(b.headers.get('etag'));
          expect(Buffer.from(await a.arrayBuffer()).equals(Buffer.from(await b.arrayBuffer()))).toBe(true);
          expect(sendfileStats().started - before).toBe(1);
        }
      } finally {
        await plain.close();
      }
    });
  });

  describe.skipIf(!sendfileAvailable)(`sendFileResponse on its own, ${mode.name}`, () => {
    let big: string;
    let plainServer: Server;
    let outcomes: SendOutcome[];

    beforeAll(async () => {
      big = join(dir, 'big.bin');
      configureSendfile({ inlineBytes: mode.inlineBytes });
      await writeFile(big, randomBytes(64 * 1024 * 1024));
      outcomes = [];
      const handle = await open(big, 'r');
      plainServer = createServer((_req, res) => {
        const sending = sendFileResponse(res, 200, { 'content-type': 'application/octet-stream' }, { fd: handle.fd, offset: 0, length: 64 * 1024 * 1024 }, { stallMs: 300 });
        void sending?.then((outcome) => outcomes.push(outcome));
      });
      plainServer.on('close', () => void handle.close());
      plainServer.listen(0, '127.0.0.1');
      await once(plainServer, 'listening');
    });

    afterAll(async () => {
      configureSendfile({ inlineBytes: 0 });
      plainServer.closeAllConnections();
      await new Promise((resolve) => plainServer.close(resolve));
    });

    it('sendBodyFile answers a Node response from a store body (a range of it), or says it cannot', async () => {
      const lane = createServer((req, res) => {
        void (async () => {
          const body = await server.view.chunk('v/6');
          if (!body) throw new Error('no chunk');
          const small = req.url === '/small';
          const [start, end] = small ? [0, 1000] : [7, body.size - 3];
          if (await sendBodyFile(res, 206, { 'content-range': `bytes ${start}-${end - 1}/${body.size}` }, body, start, end)) return;
          res.writeHead(200, { 'x-usual': 'yes' }).end(await body.read(start, end));
        })();
      });
      lane.listen(0, '127.0.0.1');
      await once(lane, 'listening');
      try {
        const base = `http://127.0.0.1:${(lane.address() as AddressInfo).port}`;
        const large = await fetch(`${base}/large`);
        expect(large.status).toBe(206);
        expect(large.headers.get('content-length')).toBe(String(CHUNK - 10));
        expect(Buffer.from(await large.arrayBuffer()).equals(expected(6).subarray(7, CHUNK - 3))).toBe(true);
        const small = await fetch(`${base}/small`);
        expect(small.headers.get('x-usual')).toBe('yes');
        expect(Buffer.from(await small.arrayBuffer()).equals(expected(6).subarray(0, 1000))).toBe(true);
      } finally {
        lane.closeAllConnections();
        await new Promise((resolve) => lane.close(resolve));
      }
      await settled();
    });

    it('sends 64 MB to a reader that keeps stopping (waits for the socket on the event loop), byte for byte', async () => {
      const address = plainServer.address() as AddressInfo;
      const socket = connect(address.port, '127.0.0.1');
      await once(socket, 'connect');
      const expectedBody = await readFile(big);
      let received = 0;
      const parts: Buffer[] = [];
      let headEnd = -1;
      const done = new Promise<void>((resolve, reject) => {
        socket.on('data', (part: Buffer) => {
          parts.push(part);
          received += part.byteLength;
          if (headEnd < 0) headEnd = Buffer.concat(parts).indexOf('\r\n\r\n');
          if (headEnd >= 0 && received - headEnd - 4 >= expectedBody.byteLength) resolve();
          // stop for a while now and then: the sender finds the socket full
          if (parts.length % 40 === 0) {
            socket.pause();
            setTimeout(() => socket.resume(), 20);
          }
        });
        socket.on('error', reject);
      });
      const count = outcomes.length;
      const waits = sendfileStats().waits;
      socket.write(requestText('/'));
      await done;
      expect(sendfileStats().waits).toBeGreaterThan(waits);
      const whole = Buffer.concat(parts);
      expect(whole.subarray(headEnd + 4).equals(expectedBody)).toBe(true);
      await vi.waitFor(() => expect(outcomes.length).toBe(count + 1), { timeout: 10_000, interval: 20 });
      expect(outcomes[count]).toEqual({ end: 'sent', bytes: expectedBody.byteLength });
      socket.destroy();
      await settled();
    });

    it('ends a send whose client leaves midway as aborted, holding nothing afterwards', async () => {
      const fds = openFds();
      const address = plainServer.address() as AddressInfo;
      const socket = connect(address.port, '127.0.0.1');
      await once(socket, 'connect');
      const count = outcomes.length;
      socket.write(requestText('/'));
      await once(socket, 'data');
      socket.destroy();
      await vi.waitFor(() => expect(outcomes.length).toBe(count + 1), { timeout: 10_000, interval: 20 });
      expect(outcomes[count]?.end).toBe('aborted');
      await settled();
      await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(fds), { timeout: 10_000, interval: 50 });
    });

    it('cuts a client that never reads after the stall bound, holding nothing afterwards', async () => {
      const fds = openFds();
      const address = plainServer.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.pause();
      socket.write(requestText('/'));
      const count = outcomes.length;
      await vi.waitFor(() => expect(outcomes.length).toBe(count + 1), { timeout: 10_000, interval: 20 });
      expect(outcomes[count]?.end).toBe('stalled');
      expect(outcomes[count]?.bytes).toBeLessThan(64 * 1024 * 1024);
      expect(sendfileStats().working).toBe(0);
      await settled();
      socket.destroy();
      await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(fds), { timeout: 10_000, interval: 50 });
    });
  });

  describe.skipIf(!sendfileAvailable)(`processed chunks found in the disk tier, ${mode.name}`, () => {
    beforeAll(() => configureSendfile({ inlineBytes: mode.inlineBytes }));
    afterAll(() => configureSendfile({ inlineBytes: 0 }));
    it('are sent from their cache file byte for byte (large ones, the first time), read as before otherwise; no descriptor left open', async () => {
      const disk = await DiskChunkCache.open({ dir: join(dir, 'disk'), maxBytes: 1 << 30 });
      if (!disk) throw new Error('no disk cache');
      const large = randomBytes(1_500_000);
      const small = randomBytes(20_000);
      await disk.set('"large"', large);
      for (let round = 0; round < 3; round++) await disk.set(`"large${round}"`, large);
      await disk.set('"small"', small);
      // a fresh memory tier, as in another worker: only the disk has them
      const cache = new EncodedChunkCache(64 * 1024 * 1024, undefined, disk);
      const encode = async (): Promise<Uint8Array> => {
        throw new Error('not on disk');
      };
      const lane = createServer((req, res) => {
        const controller = new AbortController();
        res.once('close', () => controller.abort());
        trackResponse(controller.signal, res);
        void (async () => {
          const body = await cache.get(`"${req.url?.slice(1)}"`, encode, controller.signal);
          if (await sendBodyFile(res, 200, { etag: body.etag }, body, 0, body.size, controller.signal)) return;
          res.writeHead(200, { 'x-usual': 'yes' }).end(await body.read(0, body.size));
        })().catch(() => res.destroy());
      });
      lane.listen(0, '127.0.0.1');
      await once(lane, 'listening');
      const base = `http://127.0.0.1:${(lane.address() as AddressInfo).port}`;
      try {
        await (await fetch(`${base}/large`)).arrayBuffer();
        await settled();
        const fds = openFds();
        const before = sendfileStats().started;
        for (let round = 0; round < 3; round++) {
          const [a, b] = await Promise.all([fetch(`${base}/large${round}`), fetch(`${base}/small`)]);
          expect(a.headers.get('x-usual')).toBeNull();
          expect(Buffer.from(await a.arrayBuffer()).equals(large)).toBe(true);
          expect(b.headers.get('x-usual')).toBe('yes');
          expect(Buffer.from(await b.arrayBuffer()).equals(small)).toBe(true);
        }
        expect(sendfileStats().started - before).toBe(3);
        // found on disk again: read into memory, then served from there, same bytes
        for (let round = 0; round < 2; round++) {
          const again = await fetch(`${base}/large`);
          expect(again.headers.get('x-usual')).toBe('yes');
          expect(Buffer.from(await again.arrayBuffer()).equals(large)).toBe(true);
        }
        expect(sendfileStats().started - before).toBe(3);
        await settled();
        await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(fds), { timeout: 10_000, interval: 50 });
        // without a Node response (app.request()): read from disk into memory, as before
        const body = await cache.get('"large"', encode);
        expect(Buffer.from(await body.read(0, body.size)).equals(large)).toBe(true);
      } finally {
        lane.closeAllConnections();
        await new Promise((resolve) => lane.close(resolve));
      }
    });
  });
}
