import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

// `strato serve --workers 2` shares one encoded-chunk tier on disk: a processed chunk encoded by
// one worker is written there when the other asks for it (not before), and served by the other
// from that tier, not encoded again.
let server: SpawnedServer | undefined;
let cacheDir: string | undefined;
afterAll(async () => {
  await server?.stop();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

/** A GET on a connection of its own (so the primary hands it to either worker). */
function get(url: string): Promise<{ status: number; body: Buffer; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), etag: res.headers.etag }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** Each worker's disk-tier hits and misses, told apart by their pid in /metrics. */
async function diskCounts(url: string): Promise<Map<string, { hits: number; misses: number }>> {
  const workers = new Map<string, { hits: number; misses: number }>();
  for (let i = 0; i < 30; i++) {
    const text = (await get(`${url}/metrics`)).body.toString();
    const started = /^strato_process_info\{pid="(\d+)"\} 1$/m.exec(text)?.[1] ?? 'unknown';
    const hits = Number(/^strato_cache_hits_total\{cache="encoded-disk"\} (\S+)$/m.exec(text)?.[1] ?? 0);
    const misses = Number(/^strato_cache_misses_total\{cache="encoded-disk"\} (\S+)$/m.exec(text)?.[1] ?? 0);
    workers.set(started, { hits, misses });
  }
  return workers;
}

describe('strato serve --workers 2: the disk tier', () => {
  it('a chunk encoded by one worker is a hit in the other, with the same bytes and ETag', async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'strato-cluster-cache-'));
    server = await spawnServer(join(repoRoot, 'demo', 'catalog.yaml'), ['--workers', '2', '--log-level', 'warn'], {
      STRATO_CACHE_DIR: join(cacheDir, 'tier'),
      STRATO_DISK_CACHE_MB: '64',
    });
    const chunk = `${server.url}/datasets/tas-daily/zarr/tas/1.0.0`;
    const tierFiles = async () => (await readdir(join(cacheDir as string, 'tier'), { recursive: true })).filter((name) => /[0-9a-f]{64}$/.test(name)).length;
    const first = await get(chunk);
    expect(first.status).toBe(200);
    // a cold chunk costs no disk write (an earlier version wrote every chunk through at once)
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await tierFiles()).toBe(0);
    const answers = await Promise.all(Array.from({ length: 12 }, () => get(chunk)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.etag).toBe(first.etag);
      expect(answer.body.equals(first.body)).toBe(true);
    }
    const workers = await diskCounts(server.url);
    expect(workers.size).toBe(2);
    const counts = [...workers.values()];
    // one encode in all (the first request's), the other worker's first request a disk hit
    expect(counts.reduce((sum, c) => sum + c.misses, 0)).toBe(1);
    expect(counts.reduce((sum, c) => sum + c.hits, 0)).toBeGreaterThanOrEqual(1);
    // …because the worker holding it wrote it when the other asked
    expect(await tierFiles()).toBe(1);
    // conditional requests still work on either worker
    const revalidated = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<number>((resolve, reject) => {
            request(chunk, { agent: false, headers: { 'if-none-match': first.etag } }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
              .on('error', reject)
              .end();
          }),
      ),
    );
    expect(revalidated).toEqual([304, 304, 304, 304]);
  });

  it('clients that leave mid-chunk are cancelled requests, not unexpected errors; /health stays fast', async () => {
    if (!server) throw new Error('no server (the test above starts it)');
    const { port } = new URL(server.url);
    const keys = Array.from({ length: 27 }, (_, t) => [`/datasets/tas-daily/zarr/tas/${t}.0.0`, `/datasets/pr-daily/zarr/pr/${t}.0.0`]).flat();
    const before = server.stderr().length;
    const leaving = Promise.all(
      Array.from(
        { length: 400 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              socket.write(`GET ${keys[i % keys.length]} HTTP/1.1\r\nHost: strato\r\n\r\n`);
              setTimeout(() => socket.destroy(), i % 4);
            });
            socket.on('close', () => resolve());
            socket.on('error', () => resolve());
          }),
      ),
    );
    const health: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      expect((await get(`${server.url}/health`)).status).toBe(200);
      health.push(performance.now() - started);
    }
    await leaving;
    // the server still answers, and logged no 500 or stack for a client that left
    expect((await get(`${server.url}/datasets/tas-daily/zarr/tas/5.0.0`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = server.stderr().slice(before);
    expect(log).not.toMatch(/unexpected error/);
    expect(log).not.toMatch(/"status":500/);
    expect(Math.min(...health)).toBeLessThan(1000);
  });
});
