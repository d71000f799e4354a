import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkReference } from '../../kerchunk/reference.js';
import { SourceForbiddenError } from '../../kerchunk/sources/source-error.js';
import { Sources } from '../../kerchunk/sources/sources.js';
import type { RunningServer } from '../../server/serve.js';
import { underAttack } from '../helpers/hostile.js';
import { type SpawnedServer, spawnServer, startInProcess } from '../helpers/server.js';

const zarray = (shape: number[], chunks: number[]) => JSON.stringify({ zarr_format: 2, shape, chunks, dtype: '<u1', compressor: null, filters: null, fill_value: 0, order: 'C' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const INSIDE = 'inside!';
const OUTSIDE = 'OUTSIDE';

/**
 * A root `data/` with `d/f.bin` (INSIDE) and `alias` → `d` (a symlink inside the root), and an
 * `outside/d/f.bin` (OUTSIDE, same length) that `data/d` can be swapped for.
 */
async function makeSwapTree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-swap-'));
  await mkdir(join(dir, 'data', 'd'), { recursive: true });
  await mkdir(join(dir, 'outside', 'd'), { recursive: true });
  await mkdir(join(dir, 'refs'));
  await writeFile(join(dir, 'data', 'd', 'f.bin'), INSIDE);
  await writeFile(join(dir, 'outside', 'd', 'f.bin'), OUTSIDE);
  await symlink(join(dir, 'data', 'd'), join(dir, 'data', 'alias'));
  return dir;
}

/** `data/d` becomes a symlink to `outside/d`. */
async function swapOut(dir: string): Promise<void> {
  await rename(join(dir, 'data', 'd'), join(dir, 'data', 'd.orig'));
  await symlink(join(dir, 'outside', 'd'), join(dir, 'data', 'd'));
}

/** `data/d` is the real directory again. */
async function swapBack(dir: string): Promise<void> {
  await rm(join(dir, 'data', 'd'));
  await rename(join(dir, 'data', 'd.orig'), join(dir, 'data', 'd'));
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('F6: a directory swapped for a symlink out of the root, read through an alias', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeSwapTree();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const refs = () => join(dir, 'refs');
  const whole = (url: string): ChunkReference => ({ kind: 'whole', url });
  const ranged = (url: string): ChunkReference => ({ kind: 'range', url, offset: 0, length: INSIDE.length });

  for (const alias of ['../data/d/./f.bin', '../data/./d/f.bin', '../data/alias/f.bin']) {
    it(`never serves the outside file through ${alias} (pooled handles re-checked on every read, 3 trials)`, async () => {
      for (let trial = 0; trial < 3; trial++) {
        const s = await Sources.create({ allow: ['data/'], baseDir: dir, file: { revalidateMs: 0 } });
        try {
          expect(text(await s.read(whole('../data/d/f.bin'), refs()))).toBe(INSIDE);
          expect(text(await s.read(ranged(alias), refs()))).toBe(INSIDE);
          await swapOut(dir);
          for (const ref of [ranged(alias), whole(alias), ranged('../data/d/f.bin')]) {
            const outcome = await s.read(ref, refs()).then(text, (e: unknown) => e);
            expect(outcome, `trial ${trial}`).not.toBe(OUTSIDE);
            expect(outcome, `trial ${trial}`).toBeInstanceOf(SourceForbiddenError);
          }
          await expect(s.version(ranged(alias), refs())).rejects.toBeInstanceOf(SourceForbiddenError);
        } finally {
          await s.close();
          await swapBack(dir);
        }
      }
    });
  }

  it('never serves the outside file with the default caches (realpath 1 s, pool re-check 1 s), 3 trials', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const s = await Sources.create({ allow: ['data/'], baseDir: dir });
      try {
        expect(text(await s.read(ranged('../data/d/f.bin'), refs()))).toBe(INSIDE);
        await sleep(500);
        // the alias's resolution is cached now, half a second after the descriptor was checked
        expect(text(await s.read(ranged('../data/alias/f.bin'), refs()))).toBe(INSIDE);
        await swapOut(dir);
        await sleep(600);
        // the descriptor is due for a re-check, the alias's resolution is not
        const outcome = await s.read(ranged('../data/alias/f.bin'), refs()).then(text, (e: unknown) => e);
        expect(outcome, `trial ${trial}`).not.toBe(OUTSIDE);
        expect(outcome === INSIDE || outcome instanceof SourceForbiddenError, `trial ${trial}: ${String(outcome)}`).toBe(true);
      } finally {
        await s.close();
        await swapBack(dir);
      }
    }
  });

  describe('through the HTTP server', () => {
    let server: RunningServer;
    beforeAll(async () => {
      await writeFile(
        join(dir, 'refs', 'swap.json'),
        JSON.stringify({
          'v/.zarray': zarray([INSIDE.length], [INSIDE.length]),
          'v/0': ['../data/d/f.bin', 0, INSIDE.length],
          'w/.zarray': zarray([INSIDE.length], [INSIDE.length]),
          'w/0': ['../data/alias/f.bin', 0, INSIDE.length],
          'x/.zarray': zarray([INSIDE.length], [INSIDE.length]),
          'x/0': ['../data/d/./f.bin'],
        }),
      );
      await writeFile(join(dir, 'catalog.yaml'), 'datasets:\n  swap: {refs: refs/swap.json}\nsources:\n  allow: [data/]\n');
      server = await startInProcess(join(dir, 'catalog.yaml'));
    });
    afterAll(async () => {
      await server?.close();
    });

    it('answers 403 or the inside bytes, never the outside bytes (plain and alias keys, 3 trials)', async () => {
      const get = async (key: string) => {
        const response = await fetch(`${server.url}/datasets/swap/kerchunk/${key}`);
        return { status: response.status, body: await response.text() };
      };
      const seen: string[] = [];
      for (let trial = 0; trial < 3; trial++) {
        expect(await get('v/0')).toEqual({ status: 200, body: INSIDE });
        await sleep(500);
        // the aliases' resolutions are cached now, half a second after the descriptor was checked
        expect(await get('w/0')).toEqual({ status: 200, body: INSIDE });
        expect(await get('x/0')).toEqual({ status: 200, body: INSIDE });
        await swapOut(dir);
        try {
          await sleep(600);
          for (const key of ['w/0', 'x/0', 'v/0']) {
            const answer = await get(key);
            seen.push(`${key}:${answer.status}`);
            expect(answer.body, `trial ${trial} ${key}`).not.toContain(OUTSIDE);
            expect(answer.status === 403 || (answer.status === 200 && answer.body === INSIDE), `trial ${trial} ${key}: ${answer.status}`).toBe(true);
          }
          await sleep(1100);
          for (const key of ['w/0', 'x/0', 'v/0']) {
            const answer = await get(key);
            seen.push(`${key}:${answer.status}`);
            expect(answer.status, `trial ${trial} ${key}, later`).toBe(403);
          }
        } finally {
          await swapBack(dir);
        }
        await sleep(1100);
      }
      console.log(`F6 over HTTP: ${seen.join(' ')}`);
    });
  });
});

const BIG = 100 * 1024 * 1024;
const MARK_AT = [0, 12_345, 50 * 1024 * 1024, BIG - 1];

/** A sparse 100 MiB file with a marker byte at each MARK_AT offset (the byte is offset % 251 + 1). */
async function makeBigFile(path: string): Promise<void> {
  await writeFile(path, '');
  await truncate(path, BIG);
  const handle = await open(path, 'r+');
  try {
    for (const at of MARK_AT) await handle.write(Uint8Array.of((at % 251) + 1), 0, 1, at);
  } finally {
    await handle.close();
  }
}

/** Serves a file with single-range support (HEAD, 206, 416), streaming it from disk. */
function fileOrigin(path: string): Server {
  return createServer((request, response) => {
    void stat(path).then((info) => {
      const size = info.size;
      const headers = { 'content-type': 'application/octet-stream', etag: `"${info.mtimeMs}"`, 'accept-ranges': 'bytes' };
      const match = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
      if (!match) {
        response.writeHead(200, { ...headers, 'content-length': size });
        if (request.method === 'HEAD') {
          response.end();
          return;
        }
        createReadStream(path).pipe(response);
        return;
      }
      const start = Number(match[1]);
      const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
      if (start >= size) {
        response.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      response.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` });
      if (request.method === 'HEAD') {
        response.end();
        return;
      }
      createReadStream(path, { start, end }).pipe(response);
    });
  });
}

/** Reads a response body without keeping it, returning its length and the bytes at `probe` offsets. */
async function drain(response: Response, probes: readonly number[]): Promise<{ length: number; at: number[] }> {
  const at = probes.map(() => -1);
  let length = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    probes.forEach((offset, i) => {
      if (offset >= length && offset < length + value.byteLength) at[i] = value[offset - length] as number;
    });
    length += value.byteLength;
  }
  return { length, at };
}

describe('F7: whole-object references read only what a request asks for', () => {
  let dir: string;
  let origin: Server;
  let server: SpawnedServer | undefined;
  const results: string[] = [];
  // a fresh server per case, so one case's memory is not the next one's baseline
  const serve = async (): Promise<SpawnedServer> => {
    await server?.stop();
    server = await spawnServer(join(dir, 'catalog.yaml'), ['--log-level', 'error']);
    return server;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strato-whole-'));
    await mkdir(join(dir, 'data'));
    await mkdir(join(dir, 'refs'));
    await mkdir(join(dir, 'remote'));
    await makeBigFile(join(dir, 'data', 'big.bin'));
    await makeBigFile(join(dir, 'remote', 'big.bin'));
    origin = fileOrigin(join(dir, 'remote', 'big.bin'));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/big.bin`;
    const table = (ref: string) => JSON.stringify({ '.zattrs': '{}', 'v/.zarray': zarray([BIG], [BIG]), 'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }), 'v/0': [ref] });
    await writeFile(join(dir, 'refs', 'local.json'), table('../data/big.bin'));
    await writeFile(join(dir, 'refs', 'remote.json'), table(url));
    await writeFile(
      join(dir, 'catalog.yaml'),
      `datasets:\n  local: {refs: refs/local.json}\n  remote: {refs: refs/remote.json}\nsources:\n  allow: [data/, ${JSON.stringify(new URL('/', url).href)}]\n`,
    );
  });
  afterAll(async () => {
    await server?.stop();
    origin?.closeAllConnections();
    await new Promise<void>((resolve) => (origin ? origin.close(() => resolve()) : resolve()));
    if (dir) await rm(dir, { recursive: true, force: true });
    console.log(`F7: ${results.join('; ')}`);
  });

  for (const id of ['local', 'remote']) {
    it(`${id}: 12 concurrent 1-byte Range GETs and 12 HEADs stay under 100 MiB of RSS growth`, async () => {
      const server = await serve();
      const key = `${server.url}/datasets/${id}/kerchunk/v/0`;
      const report = await underAttack(
        server.url,
        () =>
          Promise.all([
            ...Array.from({ length: 12 }, async (_, i) => {
              const at = MARK_AT[i % MARK_AT.length] as number;
              const response = await fetch(key, { headers: { range: `bytes=${at}-${at}` }, signal: AbortSignal.timeout(30_000) });
              return {
                status: response.status,
                length: response.headers.get('content-length'),
                range: response.headers.get('content-range'),
                body: [...new Uint8Array(await response.arrayBuffer())],
                at,
              };
            }),
            ...Array.from({ length: 12 }, async () => {
              const response = await fetch(key, { method: 'HEAD', signal: AbortSignal.timeout(30_000) });
              return { status: response.status, length: response.headers.get('content-length'), range: null, body: [], at: -1 };
            }),
          ]),
        { pid: server.process.pid! },
      );
      results.push(`${id} ranges+heads: RSS +${report.rssGrowthMiB.toFixed(1)} MiB in ${report.elapsedMs.toFixed(0)} ms`);
      for (const answer of report.result) {
        if (answer.at < 0) {
          expect(answer).toMatchObject({ status: 200, length: String(BIG) });
        } else {
          expect(answer).toMatchObject({ status: 206, length: '1', range: `bytes ${answer.at}-${answer.at}/${BIG}` });
          expect(answer.body).toEqual([(answer.at % 251) + 1]);
        }
      }
      expect(report.rssGrowthMiB).toBeLessThan(100);
      // the source was read for the twelve bytes asked, nothing more
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const read = [...metrics.matchAll(/^strato_source_read_bytes_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      results.push(`${id} source bytes read: ${read}`);
      expect(read).toBeLessThanOrEqual(12);
    });
  }

  it('answers 416 beyond the end and keeps the ETag stable (304 on If-None-Match)', async () => {
    const server = await serve();
    const key = `${server.url}/datasets/local/kerchunk/v/0`;
    const beyond = await fetch(key, { headers: { range: `bytes=${BIG}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${BIG}`);
    await beyond.arrayBuffer();
    const head = await fetch(key, { method: 'HEAD' });
    const etag = head.headers.get('etag');
    expect(etag).toMatch(/^"/);
    const again = await fetch(key, { headers: { 'if-none-match': etag!, range: 'bytes=0-0' } });
    expect(again.status).toBe(304);
  });

  for (const id of ['local', 'remote']) {
    it(`${id}: 12 concurrent full GETs do not each buffer the 100 MiB object`, async () => {
      const server = await serve();
      const key = `${server.url}/datasets/${id}/kerchunk/v/0`;
      const report = await underAttack(
        server.url,
        () =>
          Promise.all(
            Array.from({ length: 12 }, async () => {
              const response = await fetch(key, { signal: AbortSignal.timeout(120_000) });
              return { status: response.status, ...(await drain(response, MARK_AT)) };
            }),
          ),
        { pid: server.process.pid! },
      );
      results.push(`${id} 12 full GETs: RSS +${report.rssGrowthMiB.toFixed(1)} MiB in ${report.elapsedMs.toFixed(0)} ms`);
      for (const answer of report.result) {
        expect(answer.status).toBe(200);
        expect(answer.length).toBe(BIG);
        expect(answer.at).toEqual(MARK_AT.map((at) => (at % 251) + 1));
      }
      expect(report.rssGrowthMiB).toBeLessThan(300);
    }, 180_000);
  }
});
