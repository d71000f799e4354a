import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkReference } from '../reference.js';
import { SourceError, SourceForbiddenError } from './source-error.js';
import { Sources, SourcesConfigError } from './sources.js';

const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 11) % 256);
let dir: string;
let refs: string;
let server: Server;
let origin: string;
const requests: Array<{ url: string; range: string | undefined }> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-sources-'));
  refs = join(dir, 'refs');
  for (const sub of ['data', 'outside', 'refs']) await mkdir(join(dir, sub));
  await writeFile(join(dir, 'data', 'a.bin'), bytes);
  await writeFile(join(dir, 'data', 'b.bin'), bytes.slice(0, 100));
  await writeFile(join(dir, 'outside', 'secret.bin'), 'secret');
  server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', range: request.headers.range });
    if (request.url === '/archive/moved.nc') {
      response.writeHead(302, { location: '/archive/x.nc' });
      response.end();
      return;
    }
    if (request.url === '/archive/escape.nc') {
      response.writeHead(302, { location: '/private/x.nc' });
      response.end();
      return;
    }
    if (!['/archive/x.nc', '/private/x.nc', '/bucket-1/prefix/x.nc'].includes(request.url ?? '')) {
      response.writeHead(404);
      response.end();
      return;
    }
    const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
    if (!match) {
      response.writeHead(200, { 'content-length': bytes.length, etag: '"e1"' });
      response.end(request.method === 'HEAD' ? undefined : bytes);
      return;
    }
    const [start, end] = [Number(match[1]), Number(match[2])];
    response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1, etag: '"e1"' });
    response.end(bytes.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

function sources(extra: Partial<Parameters<typeof Sources.create>[0]> = {}): Promise<Sources> {
  return Sources.create({ allow: ['data/', `${origin}/archive/`, 's3://bucket-1/prefix/'], baseDir: dir, s3Endpoint: origin, http: { retries: 0 }, ...extra });
}

const range = (url: string, offset: number, length: number): ChunkReference => ({ kind: 'range', url, offset, length });

describe('Sources.read', () => {
  it('reads inline, range and whole references, whole or in part', async () => {
    const s = await sources();
    try {
      const inline: ChunkReference = { kind: 'inline', data: Uint8Array.from([1, 2, 3, 4]) };
      expect(await s.read(inline, refs)).toEqual(Uint8Array.from([1, 2, 3, 4]));
      expect(await s.read(inline, refs, { start: 1, end: 3 })).toEqual(Uint8Array.from([2, 3]));
      expect(await s.read(range('../data/a.bin', 100, 50), refs)).toEqual(bytes.slice(100, 150));
      expect(await s.read(range('../data/a.bin', 100, 50), refs, { start: 10, end: 20 })).toEqual(bytes.slice(110, 120));
      expect(await s.read({ kind: 'whole', url: '../data/b.bin' }, refs)).toEqual(bytes.slice(0, 100));
      expect(await s.read({ kind: 'whole', url: '../data/b.bin' }, refs, { start: 90, end: 100 })).toEqual(bytes.slice(90, 100));
      expect(await s.read(range(`${origin}/archive/x.nc`, 8, 8), refs)).toEqual(bytes.slice(8, 16));
      expect(await s.read(range('s3://bucket-1/prefix/x.nc', 16, 8), refs)).toEqual(bytes.slice(16, 24));
    } finally {
      await s.close();
    }
  });

  it('rejects ranges outside the chunk', async () => {
    const s = await sources();
    try {
      await expect(s.read(range('../data/a.bin', 0, 10), refs, { start: 5, end: 11 })).rejects.toThrow(RangeError);
      await expect(s.read(range('../data/a.bin', 0, 10), refs, { start: 5, end: 4 })).rejects.toThrow(RangeError);
      await expect(s.read({ kind: 'inline', data: new Uint8Array(2) }, refs, { start: 0, end: 3 })).rejects.toThrow(RangeError);
    } finally {
      await s.close();
    }
  });

  it('maps source failures to SourceError', async () => {
    const s = await sources();
    try {
      const missing = await s.read(range('../data/missing.bin', 0, 10), refs).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(SourceError);
      expect((missing as SourceError).failure).toBe('not-found');
      const short = await s.read(range('../data/b.bin', 90, 20), refs).catch((e: unknown) => e);
      expect((short as SourceError).failure).toBe('short-read');
    } finally {
      await s.close();
    }
  });

  it('refuses references outside the allow list on every read, naming the reference', async () => {
    const s = await sources();
    try {
      for (const url of ['../outside/secret.bin', join(dir, 'outside', 'secret.bin'), 'file:///etc/passwd', 'http://other-host/x.nc', `${origin}/private/x.nc`]) {
        const error = await s.read(range(url, 0, 4), refs).catch((e: unknown) => e);
        expect(error, url).toBeInstanceOf(SourceForbiddenError);
        expect((error as Error).message).toContain(JSON.stringify(url));
        await expect(s.version(range(url, 0, 4), refs)).rejects.toBeInstanceOf(SourceForbiddenError);
        await expect(s.check(url, refs)).rejects.toBeInstanceOf(SourceForbiddenError);
      }
      expect(requests.some((r) => r.url.startsWith('/private/'))).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('never serves a file that became a symlink out of the root after it was checked', async () => {
    await writeFile(join(dir, 'data', 'swap.bin'), 'good');
    // resolution cached (default 1 s) and pooled handles re-checked on every read
    const s = await sources({ file: { revalidateMs: 0 } });
    try {
      expect(new TextDecoder().decode(await s.read({ kind: 'whole', url: '../data/swap.bin' }, refs))).toBe('good');
      await rm(join(dir, 'data', 'swap.bin'));
      await symlink(join(dir, 'outside', 'secret.bin'), join(dir, 'data', 'swap.bin'));
      const error = await s.read({ kind: 'whole', url: '../data/swap.bin' }, refs).catch((e: unknown) => e);
      // the cached resolution still says data/swap.bin, but the file source will not follow the new symlink (O_NOFOLLOW)
      expect(error).toBeInstanceOf(SourceError);
      expect((error as SourceError).failure).toBe('bad-response');
      expect((error as Error).message).toMatch(/ELOOP/);
    } finally {
      await s.close();
    }
    const uncached = await sources({ realpathCacheMs: 0 });
    try {
      await expect(uncached.read({ kind: 'whole', url: '../data/swap.bin' }, refs)).rejects.toBeInstanceOf(SourceForbiddenError);
    } finally {
      await uncached.close();
    }
  });

  it('follows http redirects only into the allow list', async () => {
    const s = await sources();
    try {
      expect(await s.read(range(`${origin}/archive/moved.nc`, 0, 4), refs)).toEqual(bytes.slice(0, 4));
      const error = await s.read(range(`${origin}/archive/escape.nc`, 0, 4), refs).catch((e: unknown) => e);
      expect((error as SourceError).failure).toBe('bad-response');
      expect((error as Error).message).toContain('/private/x.nc');
    } finally {
      await s.close();
    }
  });
});

describe('Sources.version and configuration', () => {
  it('gives versions of file and http objects, none for inline data', async () => {
    const s = await sources();
    try {
      expect(await s.version(range('../data/a.bin', 0, 1), refs)).toMatch(/^4096-\d+(\.\d+)?$/);
      expect(await s.version(range(`${origin}/archive/x.nc`, 0, 1), refs)).toBe('"e1"');
      expect(await s.version({ kind: 'inline', data: new Uint8Array(1) }, refs)).toBeUndefined();
      expect(await s.check('../data/a.bin', refs)).toEqual({ kind: 'file', path: join(dir, 'data', 'a.bin') });
    } finally {
      await s.close();
    }
  });

  it('refuses s3 roots without an endpoint and malformed endpoints', async () => {
    await expect(Sources.create({ allow: ['s3://bucket-1/'], baseDir: dir })).rejects.toBeInstanceOf(SourcesConfigError);
    await expect(Sources.create({ allow: ['s3://bucket-1/'], baseDir: dir, s3Endpoint: 'ftp://x' })).rejects.toBeInstanceOf(SourcesConfigError);
    await expect(Sources.create({ allow: ['gopher://x/'], baseDir: dir })).rejects.toBeInstanceOf(SourcesConfigError);
  });
});
