import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceReadEvent } from './source-observer.js';
import { Sources } from './sources.js';

const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
let dir: string;
let server: Server;
let origin: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-source-observer-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.bin'), bytes);
  server = createServer((request, response) => {
    if (request.url !== '/a.bin') {
      response.writeHead(404).end();
      return;
    }
    const [start, end] = (/^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '') ?? []).slice(1).map(Number);
    if (start === undefined || end === undefined) {
      response.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      return;
    }
    response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1 }).end(bytes.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function observedSources(): Promise<{ sources: Sources; events: SourceReadEvent[] }> {
  const events: SourceReadEvent[] = [];
  const sources = await Sources.create({ allow: ['data/', `${origin}/`], baseDir: dir, http: { retries: 0 }, observer: { read: (event) => events.push(event) } });
  return { sources, events };
}

describe('Sources observer', () => {
  it('sees each read with its kind, bytes and latency', async () => {
    const { sources, events } = await observedSources();
    try {
      await sources.read({ kind: 'range', url: 'a.bin', offset: 10, length: 90 }, join(dir, 'data'));
      await sources.read({ kind: 'range', url: `${origin}/a.bin`, offset: 0, length: 500 }, dir);
      expect(events.map(({ kind, bytes: n, failure }) => ({ kind, bytes: n, failure }))).toEqual([
        { kind: 'file', bytes: 90, failure: undefined },
        { kind: 'http', bytes: 500, failure: undefined },
      ]);
      expect(events.every((event) => event.seconds >= 0 && event.seconds < 10)).toBe(true);
    } finally {
      await sources.close();
    }
  });

  it('sees failures by their SourceError failure, and an observer that throws fails nothing', async () => {
    const { sources, events } = await observedSources();
    try {
      await expect(sources.read({ kind: 'range', url: 'missing.bin', offset: 0, length: 10 }, join(dir, 'data'))).rejects.toThrow();
      await expect(sources.read({ kind: 'range', url: `${origin}/gone.bin`, offset: 0, length: 10 }, dir)).rejects.toThrow();
      expect(events.map(({ kind, bytes: n, failure }) => ({ kind, bytes: n, failure }))).toEqual([
        { kind: 'file', bytes: 0, failure: 'not-found' },
        { kind: 'http', bytes: 0, failure: 'not-found' },
      ]);
    } finally {
      await sources.close();
    }
    const throwing = await Sources.create({
      allow: ['data/'],
      baseDir: dir,
      observer: {
        read: () => {
          throw new Error('observer broke');
        },
      },
    });
    try {
      expect((await throwing.read({ kind: 'range', url: 'a.bin', offset: 0, length: 4 }, join(dir, 'data'))).byteLength).toBe(4);
    } finally {
      await throwing.close();
    }
  });
});
