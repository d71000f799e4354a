import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';

// Raw chunks of local files are read into pooled buffers that go back to the pool once their
// response is written out: many concurrent responses over a real server must each carry their
// own chunk's bytes, also when clients leave midway.
const CHUNK = 1_200_000;
const CHUNKS = 12;
let dir: string;
let server: RunningServer;
let data: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-pooled-'));
  data = randomBytes(CHUNK * CHUNKS + 100);
  await writeFile(join(dir, 'data.bin'), data);
  const refs: Record<string, unknown> = {
    '.zgroup': JSON.stringify({ zarr_format: 2 }),
    'v/.zarray': JSON.stringify({ zarr_format: 2, shape: [CHUNK * CHUNKS], chunks: [CHUNK], dtype: '|u1', compressor: null, filters: null, fill_value: 0, order: 'C' }),
    'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
  };
  for (let i = 0; i < CHUNKS; i++) refs[`v/${i}`] = ['data.bin', 100 + i * CHUNK, CHUNK];
  await writeFile(join(dir, 'refs.json'), JSON.stringify({ version: 1, refs }));
  await writeFile(join(dir, 'catalog.yaml'), `datasets:\n  d: {refs: refs.json}\nsources:\n  allow: [./]\n`);
  server = await startServer({ catalog: join(dir, 'catalog.yaml'), port: 0, host: '127.0.0.1', logger: createLogger('silent'), codecThreads: 1 });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const expected = (i: number) => data.subarray(100 + i * CHUNK, 100 + (i + 1) * CHUNK);

/** A GET that reads `keep` bytes of the body and then, when `abort`, destroys the connection. */
function get(path: string, abort = false): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => {
        parts.push(part);
        if (abort) {
          req.destroy();
          resolve(undefined);
        }
      });
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', (error) => (abort ? resolve(undefined) : reject(error)));
    req.end();
  });
}

describe('raw chunks from pooled buffers', () => {
  it('every response carries its own chunk, under many concurrent requests and clients that leave', async () => {
    for (let round = 0; round < 4; round++) {
      const keys = Array.from({ length: 48 }, (_, n) => (n * 7 + round) % CHUNKS);
      const answers = await Promise.all(keys.map((i, n) => get(`/datasets/d/kerchunk/v/${i}`, n % 5 === 0)));
      answers.forEach((body, n) => {
        if (n % 5 === 0) return;
        expect(body?.equals(expected(keys[n] as number)), `chunk ${keys[n]}`).toBe(true);
      });
    }
  });

  it('ranges and HEAD answer the same bytes and lengths', async () => {
    const response = await fetch(`${server.url}/datasets/d/kerchunk/v/3`, { headers: { range: 'bytes=10-1009' } });
    expect(response.status).toBe(206);
    expect(Buffer.from(await response.arrayBuffer()).equals(expected(3).subarray(10, 1010))).toBe(true);
    const head = await fetch(`${server.url}/datasets/d/kerchunk/v/3`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(CHUNK));
    expect(head.headers.get('access-control-allow-origin')).toBe('*');
    expect(head.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
