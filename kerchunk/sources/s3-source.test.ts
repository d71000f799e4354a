import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSource } from './http-source.js';
import { S3Source } from './s3-source.js';
import { SourceError } from './source-error.js';

const object = Uint8Array.from({ length: 4096 }, (_, i) => (i * 5) % 256);
let server: Server;
let endpoint: string;
const seen: Array<Pick<IncomingMessage, 'method' | 'url'> & { range: string | undefined; authorization: string | undefined }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ method: request.method, url: request.url, range: request.headers.range, authorization: request.headers.authorization });
    if (request.url !== '/bucket-1/dir/file%20one.nc') {
      response.writeHead(404);
      response.end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    if (request.method === 'HEAD') {
      response.writeHead(200, { etag: '"s3-etag"', 'content-length': object.length });
      response.end();
      return;
    }
    const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
    if (!match) {
      response.writeHead(200, { 'content-length': object.length });
      response.end(object);
      return;
    }
    const [start, end] = [Number(match[1]), Number(match[2])];
    response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${object.length}`, 'content-length': end - start + 1 });
    response.end(object.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('S3Source', () => {
  it('reads s3://bucket/key path-style from the endpoint, unsigned, with Range', async () => {
    seen.length = 0;
    const s3 = new S3Source({ endpoint, httpOptions: { retryDelayMs: 1 } });
    try {
      expect(s3.objectUrl('s3://bucket-1/dir/file one.nc')).toBe(`${endpoint}bucket-1/dir/file%20one.nc`);
      expect(await s3.read('s3://bucket-1/dir/file one.nc', 100, 50)).toEqual(object.slice(100, 150));
      expect(await s3.readWhole('s3://bucket-1/dir/file one.nc')).toEqual(object);
      expect(seen).toEqual([
        { method: 'GET', url: '/bucket-1/dir/file%20one.nc', range: 'bytes=100-149', authorization: undefined },
        { method: 'GET', url: '/bucket-1/dir/file%20one.nc', range: undefined, authorization: undefined },
      ]);
    } finally {
      await s3.close();
    }
  });

  it('gives versions and not-found through the http source', async () => {
    const http = new HttpSource({ versionTtlMs: 0 });
    const s3 = new S3Source({ endpoint, http });
    try {
      expect(await s3.version('s3://bucket-1/dir/file one.nc')).toBe('"s3-etag"');
      const error = await s3.read('s3://bucket-1/missing.nc', 0, 10).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceError);
      expect((error as SourceError).failure).toBe('not-found');
      await s3.close();
      // the shared http source is not closed by the s3 source
      expect(await http.read(`${endpoint}bucket-1/dir/file%20one.nc`, 0, 4)).toEqual(object.slice(0, 4));
    } finally {
      await http.close();
    }
  });

  it('refuses URLs that are not s3://bucket/key', async () => {
    const s3 = new S3Source({ endpoint });
    try {
      for (const url of ['s3://bucket-1', 'https://x/y', 's3://Bad_Bucket/k']) {
        await expect(s3.read(url, 0, 1)).rejects.toBeInstanceOf(SourceError);
      }
    } finally {
      await s3.close();
    }
    expect(() => new S3Source({ endpoint: 'ftp://nope' })).toThrow(TypeError);
  });
});
