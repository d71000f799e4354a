import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SERVER_PROCESSES_VARIABLE } from '../server/config.js';
import { DiskChunkCache } from './disk-chunk-cache.js';
import { EncodedChunkCache } from './processed-view.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'strato-encoded-cache-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function diskFiles(dir: string): Promise<number> {
  return (await readdir(dir, { recursive: true })).filter((name) => /[0-9a-f]{64}$/.test(name)).length;
}

const never = async (): Promise<Uint8Array> => {
  throw new Error('encoded again');
};

async function bytesOf(cache: EncodedChunkCache, etag: string): Promise<{ etag: string; bytes: Buffer }> {
  const body = await cache.get(etag, never);
  return { etag: body.etag, bytes: Buffer.from(await body.read(0, body.size)) };
}

describe('EncodedChunkCache and its disk tier', () => {
  it('one server process: a chunk reaches the disk only when memory evicts it, then is served from there unchanged', async () => {
    const dir = join(root, 'tier');
    const disk = (await DiskChunkCache.open({ dir, maxBytes: 1 << 30 })) as DiskChunkCache;
    const chunks = new Map(['"a"', '"b"', '"c"'].map((etag) => [etag, randomBytes(1000)]));
    // room for two chunks of 1000 bytes
    const cache = new EncodedChunkCache(2500, undefined, disk, undefined, false);
    await cache.get('"a"', async () => chunks.get('"a"') as Buffer);
    await cache.get('"b"', async () => chunks.get('"b"') as Buffer);
    // a pass that fits in memory writes nothing
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await diskFiles(dir)).toBe(0);
    // the third chunk evicts the first: it is written to disk, the others are not
    await cache.get('"c"', async () => chunks.get('"c"') as Buffer);
    await vi.waitFor(async () => expect(await disk.get('"a"')).toBeDefined(), { timeout: 5000, interval: 20 });
    expect(Buffer.from((await disk.get('"a"')) as Uint8Array).equals(chunks.get('"a"') as Buffer)).toBe(true);
    expect(await disk.get('"b"')).toBeUndefined();
    expect(await disk.get('"c"')).toBeUndefined();
    // served again from disk (not encoded again), same bytes and ETag; by this process and by a fresh one
    for (const reader of [cache, new EncodedChunkCache(2500, undefined, disk, undefined, false)]) {
      const again = await bytesOf(reader, '"a"');
      expect(again.etag).toBe('"a"');
      expect(again.bytes.equals(chunks.get('"a"') as Buffer)).toBe(true);
    }
    // a chunk read from disk is not written again when evicted
    await cache.get('"d"', async () => randomBytes(1000));
    await cache.get('"e"', async () => randomBytes(1000));
    await vi.waitFor(async () => expect(await disk.get('"b"')).toBeDefined(), { timeout: 5000, interval: 20 });
  });

  it('one server process: a chunk too large for memory is written at once', async () => {
    const dir = join(root, 'tier');
    const disk = (await DiskChunkCache.open({ dir, maxBytes: 1 << 30 })) as DiskChunkCache;
    const large = randomBytes(5000);
    const cache = new EncodedChunkCache(2500, undefined, disk, undefined, false);
    expect((await cache.get('"large"', async () => large)).etag).toBe('"large"');
    await vi.waitFor(async () => expect(await disk.get('"large"')).toBeDefined(), { timeout: 5000, interval: 20 });
    expect((await bytesOf(cache, '"large"')).bytes.equals(large)).toBe(true);
  });

  it('several server processes: every chunk is written through as soon as it is encoded', async () => {
    const dir = join(root, 'tier');
    const disk = (await DiskChunkCache.open({ dir, maxBytes: 1 << 30 })) as DiskChunkCache;
    const bytes = randomBytes(1000);
    const cache = new EncodedChunkCache(1 << 20, undefined, disk, undefined, true);
    await cache.get('"a"', async () => bytes);
    await vi.waitFor(async () => expect(await disk.get('"a"')).toBeDefined(), { timeout: 5000, interval: 20 });
    // another process's memory tier finds it there
    const other = new EncodedChunkCache(1 << 20, undefined, disk, undefined, true);
    const found = await bytesOf(other, '"a"');
    expect(found.etag).toBe('"a"');
    expect(found.bytes.equals(bytes)).toBe(true);
  });

  it('writes through by default when the server runs several processes', async () => {
    const dir = join(root, 'tier');
    const disk = (await DiskChunkCache.open({ dir, maxBytes: 1 << 30 })) as DiskChunkCache;
    vi.stubEnv(SERVER_PROCESSES_VARIABLE, '2');
    try {
      const cache = new EncodedChunkCache(1 << 20, undefined, disk);
      await cache.get('"a"', async () => randomBytes(100));
      await vi.waitFor(async () => expect(await diskFiles(dir)).toBe(1), { timeout: 5000, interval: 20 });
    } finally {
      vi.unstubAllEnvs();
    }
    const single = new EncodedChunkCache(1 << 20, undefined, disk);
    await single.get('"b"', async () => randomBytes(100));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await diskFiles(dir)).toBe(1);
  });
});
