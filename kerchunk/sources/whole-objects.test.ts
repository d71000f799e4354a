import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChunkReference } from '../reference.js';
import { HttpSource } from './http-source.js';
import { ReadBudget } from './read-budget.js';
import type { SourceError } from './source-error.js';
import { Sources } from './sources.js';

const object = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 256);
type Mode = 'normal' | 'no-head' | 'head-without-length' | 'ignores-range' | 'slow';
let mode: Mode = 'normal';
let requests: Array<{ method: string; range: string | undefined }> = [];
let server: Server;
let origin: string;
let dir: string;

function handle(request: IncomingMessage, response: ServerResponse): void {
  requests.push({ method: request.method ?? '', range: request.headers.range });
  const headers = { etag: '"w1"' };
  if (request.method === 'HEAD') {
    if (mode === 'no-head') return void response.writeHead(405).end();
    if (mode === 'head-without-length') {
      response.writeHead(200, { ...headers, 'transfer-encoding': 'chunked' });
      return void response.end();
    }
    return void response.writeHead(200, { ...headers, 'content-length': object.length }).end();
  }
  const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
  if (!match || mode === 'ignores-range') {
    response.writeHead(200, { ...headers, 'content-length': object.length });
    return void response.end(object);
  }
  const start = Number(match[1]);
  const end = Math.min(Number(match[2]), object.length - 1);
  const send = () => {
    response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${object.length}`, 'content-length': end - start + 1 });
    response.end(object.subarray(start, end + 1));
  };
  if (mode === 'slow') setTimeout(send, 100);
  else send();
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'strato-whole-'));
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'refs'));
  await writeFile(join(dir, 'data', 'w.bin'), object);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  mode = 'normal';
  requests = [];
});

describe('HttpSource.size', () => {
  it('takes Content-Length from a HEAD, once per TTL and shared by concurrent callers', async () => {
    const source = new HttpSource({ retries: 0 });
    try {
      const sizes = await Promise.all([1, 2, 3].map(() => source.size(`${origin}/x`)));
      expect(sizes).toEqual([object.length, object.length, object.length]);
      expect(await source.size(`${origin}/x`)).toBe(object.length);
      expect(requests).toEqual([{ method: 'HEAD', range: undefined }]);
      // the HEAD left the version cached too
      expect(await source.version(`${origin}/x`)).toBe('"w1"');
      expect(requests).toHaveLength(1);
    } finally {
      await source.close();
    }
  });

  it('probes with Range: bytes=0-0 when HEAD is refused or says no length', async () => {
    for (const m of ['no-head', 'head-without-length'] as const) {
      mode = m;
      requests = [];
      const source = new HttpSource({ retries: 0 });
      try {
        expect(await source.size(`${origin}/x`), m).toBe(object.length);
        expect(requests, m).toEqual([
          { method: 'HEAD', range: undefined },
          { method: 'GET', range: 'bytes=0-0' },
        ]);
      } finally {
        await source.close();
      }
    }
  });

  it('takes the Content-Length of a server that ignores Range without reading its body', async () => {
    mode = 'ignores-range';
    const source = new HttpSource({ retries: 0, versionTtlMs: 0 });
    try {
      expect(await source.size(`${origin}/x`)).toBe(object.length);
    } finally {
      await source.close();
    }
  });
});

describe('Sources: whole-object references', () => {
  const whole = (url: string): ChunkReference => ({ kind: 'whole', url });
  const create = (budget?: ReadBudget) => Sources.create({ allow: ['data/', `${origin}/`], baseDir: dir, http: { retries: 0 }, ...(budget ? { readBudget: budget } : {}) });

  it('knows the size of whole, range and inline references', async () => {
    const s = await create();
    try {
      const refs = join(dir, 'refs');
      expect(await s.size(whole('../data/w.bin'), refs)).toBe(object.length);
      expect(await s.size(whole(`${origin}/w.bin`), refs)).toBe(object.length);
      expect(await s.size({ kind: 'range', url: '../data/w.bin', offset: 5, length: 7 }, refs)).toBe(7);
      expect(await s.size({ kind: 'inline', data: new Uint8Array(3) }, refs)).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('shares one source read between concurrent equal reads; one caller aborting does not abort the others', async () => {
    mode = 'slow';
    const s = await create();
    try {
      const ref = whole(`${origin}/w.bin`);
      const refs = join(dir, 'refs');
      const quitter = new AbortController();
      const reads = [
        s.readShared(ref, refs, { start: 100, end: 200 }),
        s.readShared(ref, refs, { start: 100, end: 200 }, quitter.signal),
        s.readShared(ref, refs, { start: 100, end: 200 }),
      ];
      await new Promise((resolve) => setTimeout(resolve, 30));
      quitter.abort(new Error('client went away'));
      const [a, b, c] = await Promise.allSettled(reads);
      expect(a).toEqual({ status: 'fulfilled', value: object.subarray(100, 200) });
      expect(b?.status).toBe('rejected');
      expect(c).toEqual({ status: 'fulfilled', value: object.subarray(100, 200) });
      expect(requests.filter((r) => r.method === 'GET')).toEqual([{ method: 'GET', range: 'bytes=100-199' }]);
    } finally {
      await s.close();
    }
  });

  it('aborts a shared read when every caller has aborted', async () => {
    mode = 'slow';
    const s = await create();
    try {
      const controller = new AbortController();
      const read = s.readShared(whole(`${origin}/w.bin`), join(dir, 'refs'), { start: 0, end: 10 }, controller.signal);
      await new Promise((resolve) => setTimeout(resolve, 30));
      controller.abort(new Error('gone'));
      await expect(read).rejects.toThrow('gone');
      // a later read is a new one, not the aborted one
      expect(await s.readShared(whole(`${origin}/w.bin`), join(dir, 'refs'), { start: 0, end: 10 })).toEqual(object.subarray(0, 10));
    } finally {
      await s.close();
    }
  });

  it('reads whole objects within the read budget: they wait for room, then 503-style `unavailable`', async () => {
    mode = 'slow';
    const budget = new ReadBudget(object.length + 10, 2_000);
    const s = await create(budget);
    try {
      const refs = join(dir, 'refs');
      const held = await budget.acquire(20);
      let done = false;
      const read = s.read(whole(`${origin}/w.bin`), refs).then((bytes) => ((done = true), bytes));
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(done).toBe(false);
      held();
      expect(await read).toEqual(object);
      expect(budget.bytesInFlight).toBe(0);
      const tight = await create(new ReadBudget(100, 50));
      try {
        const blocker = tight.read({ kind: 'range', url: `${origin}/w.bin`, offset: 0, length: 100 }, refs);
        const error = await tight.read({ kind: 'range', url: '../data/w.bin', offset: 0, length: 10 }, refs).catch((e: unknown) => e);
        expect((error as SourceError).failure).toBe('unavailable');
        await blocker;
      } finally {
        await tight.close();
      }
    } finally {
      await s.close();
    }
  });
});
