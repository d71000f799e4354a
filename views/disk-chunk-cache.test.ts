import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskChunkCache } from './disk-chunk-cache.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'strato-disk-cache-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<Array<{ path: string; size: number }>> {
  const found: Array<{ path: string; size: number }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.push({ path, size: (await stat(path)).size });
  }
  return found;
}

const warnings: string[] = [];
const logger = { warn: (message: string, fields?: Record<string, unknown>) => warnings.push(`${message} ${JSON.stringify(fields)}`) };

describe('DiskChunkCache', () => {
  it('gives back what was stored under a key, nothing for other keys', async () => {
    const cache = (await DiskChunkCache.open({ dir: join(root, 'c'), maxBytes: 1 << 20 })) as DiskChunkCache;
    await cache.set('"tag-a"', Uint8Array.from([1, 2, 3]));
    expect(Array.from((await cache.get('"tag-a"')) ?? [])).toEqual([1, 2, 3]);
    expect(await cache.get('"tag-b"')).toBeUndefined();
    // a second process (another instance on the same directory) sees it too
    const other = (await DiskChunkCache.open({ dir: join(root, 'c'), maxBytes: 1 << 20 })) as DiskChunkCache;
    expect(Array.from((await other.get('"tag-a"')) ?? [])).toEqual([1, 2, 3]);
  });

  it('never lets a key become a path: hostile keys stay hashed names inside the directory', async () => {
    const dir = join(root, 'c');
    const cache = (await DiskChunkCache.open({ dir, maxBytes: 1 << 20 })) as DiskChunkCache;
    const hostile = ['../../escape', '/etc/passwd', '__proto__', 'a\0b', '..', '', 'x'.repeat(100_000), 'c/../../../../tmp/pwn'];
    for (const key of hostile) await cache.set(key, Buffer.from(key.slice(0, 10)));
    for (const key of hostile) expect(Buffer.from((await cache.get(key)) ?? []).toString()).toBe(key.slice(0, 10));
    const files = await filesUnder(root);
    expect(files).toHaveLength(hostile.length);
    for (const file of files) expect(file.path).toMatch(new RegExp(`^${dir}/[0-9a-f]{2}/[0-9a-f]{64}$`));
  });

  it('never serves a file under another key (a file copied into another name is refused)', async () => {
    const dir = join(root, 'c');
    const cache = (await DiskChunkCache.open({ dir, maxBytes: 1 << 20 })) as DiskChunkCache;
    await cache.set('a', Buffer.from('bytes of a'));
    await cache.set('b', Buffer.from('bytes of b'));
    const [a, b] = (await filesUnder(dir)).map((file) => file.path) as [string, string];
    await copyFile(a, b);
    const answers = [await cache.get('a'), await cache.get('b')].map((bytes) => (bytes ? Buffer.from(bytes).toString() : undefined));
    expect(answers.filter((answer) => answer !== undefined)).toHaveLength(1);
  });

  it('stays within its bound: the least recently used files go', async () => {
    const dir = join(root, 'c');
    const maxBytes = 256 * 1024;
    const cache = (await DiskChunkCache.open({ dir, maxBytes })) as DiskChunkCache;
    for (let i = 0; i < 40; i++) {
      await cache.set(`chunk-${i}`, new Uint8Array(16 * 1024).fill(i));
      await cache.settled();
    }
    await cache.sweep();
    const total = (await filesUnder(dir)).reduce((sum, file) => sum + file.size, 0);
    expect(total).toBeLessThanOrEqual(maxBytes);
    expect(await cache.get('chunk-39')).toBeDefined();
    expect(await cache.get('chunk-0')).toBeUndefined();
    // an entry larger than 1/8 of the bound is not stored at all
    await cache.set('huge', new Uint8Array(maxBytes / 4));
    expect(await cache.get('huge')).toBeUndefined();
  });

  it('refuses a directory that is a symlink or open to others, and is off with a 0 bound', async () => {
    await mkdir(join(root, 'real'), { mode: 0o700 });
    await symlink(join(root, 'real'), join(root, 'link'));
    warnings.length = 0;
    expect(await DiskChunkCache.open({ dir: join(root, 'link'), maxBytes: 1 << 20, logger })).toBeUndefined();
    await mkdir(join(root, 'open'));
    await chmod(join(root, 'open'), 0o777);
    expect(await DiskChunkCache.open({ dir: join(root, 'open'), maxBytes: 1 << 20, logger })).toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(await DiskChunkCache.open({ dir: join(root, 'zero'), maxBytes: 0 })).toBeUndefined();
  });
});

describe('DiskChunkCache.open (entries sent from their file)', () => {
  it('opens a checked entry whose bytes lie at its offset, readable by range; nothing for a file under another key', async () => {
    const dir = join(root, 'c');
    const cache = (await DiskChunkCache.open({ dir, maxBytes: 1 << 20 })) as DiskChunkCache;
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) % 251);
    await cache.set('k', bytes);
    const entry = await cache.open('k');
    if (!entry) throw new Error('no entry');
    try {
      expect(entry.size).toBe(5000);
      const raw = Buffer.alloc(100);
      const { readSync } = await import('node:fs');
      expect(readSync(entry.fd, raw, 0, 100, entry.offset + 200)).toBe(100);
      expect(Uint8Array.from(raw)).toEqual(bytes.slice(200, 300));
      expect(await entry.read(4990, 5000)).toEqual(bytes.slice(4990));
      await expect(entry.read(0, 5001)).rejects.toThrow(RangeError);
      await expect(entry.read(-1, 2)).rejects.toThrow(RangeError);
    } finally {
      entry.close();
      entry.close();
    }
    expect(await cache.open('other')).toBeUndefined();
    // a file copied under another key's name is refused here too
    const files = await filesUnder(dir);
    const [only] = files;
    if (!only) throw new Error('no file');
    const { createHash } = await import('node:crypto');
    const otherName = createHash('sha256').update('other').digest('hex');
    await mkdir(join(dir, otherName.slice(0, 2)), { recursive: true });
    await copyFile(only.path, join(dir, otherName.slice(0, 2), otherName));
    expect(await cache.open('other')).toBeUndefined();
  });

  it('makes each subdirectory once, and again when it was removed', async () => {
    const dir = join(root, 'c');
    const cache = (await DiskChunkCache.open({ dir, maxBytes: 1 << 20, logger })) as DiskChunkCache;
    await cache.set('a', new Uint8Array(10).fill(1));
    const [file] = await filesUnder(dir);
    if (!file) throw new Error('no file');
    await rm(join(file.path, '..'), { recursive: true });
    await cache.set('a', new Uint8Array(10).fill(2));
    expect(await cache.get('a')).toEqual(new Uint8Array(10).fill(2));
  });
});
