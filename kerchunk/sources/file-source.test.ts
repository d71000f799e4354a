import { mkdir, mkdtemp, rename, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSource } from './file-source.js';
import { SourceError } from './source-error.js';

let dir: string;
const pattern = (length: number, seed = 0) => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) % 256);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-file-source-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<SourceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
}

describe('FileSource reads', () => {
  it('reads ranges, whole files and file:// URLs', async () => {
    const bytes = pattern(10_000);
    const path = await file('a.bin', bytes);
    const source = new FileSource();
    try {
      expect(await source.read(path, 100, 50)).toEqual(bytes.slice(100, 150));
      expect(await source.read(pathToFileURL(path).href, 0, 10)).toEqual(bytes.slice(0, 10));
      expect(await source.read(path, 10_000, 0)).toEqual(new Uint8Array(0));
      expect(await source.readWhole(path)).toEqual(bytes);
    } finally {
      await source.close();
    }
  });

  it('reads the same bytes on the calling thread (small reads) and through the thread pool, into given buffers too', async () => {
    const bytes = pattern(300_000);
    const path = await file('modes.bin', bytes);
    const inline = new FileSource();
    const pooled = new FileSource({ syncReadMaxBytes: 0 });
    try {
      for (const [offset, length] of [
        [0, 10],
        [1000, 50_000],
        [5, 131_072],
        [0, 300_000],
        [299_999, 1],
      ] as const) {
        const want = bytes.slice(offset, offset + length);
        expect(await inline.read(path, offset, length)).toEqual(want);
        expect(await pooled.read(path, offset, length)).toEqual(want);
        const into = new Uint8Array(length);
        expect((await inline.read(path, offset, length, undefined, into)).buffer).toBe(into.buffer);
        expect(into).toEqual(want);
      }
      // a small read is never a slice of a shared buffer (it may be transferred to a codec thread)
      const small = await inline.read(path, 0, 16);
      expect(small.buffer.byteLength).toBe(16);
      expect((await failure(inline.read(path, 299_990, 20))).failure).toBe('short-read');
      expect((await failure(pooled.read(path, 299_990, 20))).failure).toBe('short-read');
      await expect(inline.read(path, 0, 10, undefined, new Uint8Array(9))).rejects.toThrow(RangeError);
    } finally {
      await inline.close();
      await pooled.close();
    }
  });

  it('reports a range past the end as short-read, and a missing file as not-found', async () => {
    const path = await file('short.bin', pattern(100));
    const source = new FileSource();
    try {
      const short = await failure(source.read(path, 90, 20));
      expect(short.failure).toBe('short-read');
      expect(short.message).toContain(path);
      expect((await failure(source.read(join(dir, 'nope.bin'), 0, 1))).failure).toBe('not-found');
      expect((await failure(source.read(join(dir, 'short.bin', 'below'), 0, 1))).failure).toBe('not-found');
      expect((await failure(source.version(join(dir, 'nope.bin')))).failure).toBe('not-found');
    } finally {
      await source.close();
    }
  });

  it('refuses directories and symlinks (O_NOFOLLOW) as bad-response', async () => {
    await mkdir(join(dir, 'subdir'));
    const target = await file('target.bin', pattern(10));
    await symlink(target, join(dir, 'link.bin'));
    const source = new FileSource();
    try {
      expect((await failure(source.read(join(dir, 'subdir'), 0, 1))).failure).toBe('bad-response');
      expect((await failure(source.read(join(dir, 'link.bin'), 0, 1))).failure).toBe('bad-response');
      expect((await failure(source.read('relative/path.bin', 0, 1))).failure).toBe('bad-response');
    } finally {
      await source.close();
    }
  });

  it('rejects invalid ranges and reads larger than the limit', async () => {
    const path = await file('limit.bin', pattern(100));
    const source = new FileSource({ maxReadBytes: 50 });
    try {
      await expect(source.read(path, -1, 5)).rejects.toThrow(RangeError);
      expect((await failure(source.read(path, 0, 60))).failure).toBe('bad-response');
      expect((await failure(source.readWhole(path))).failure).toBe('bad-response');
    } finally {
      await source.close();
    }
  });

  it('gives the version as size-mtimeMs and notices changes', async () => {
    const path = await file('version.bin', pattern(64));
    await utimes(path, 1_700_000_000, 1_700_000_000);
    const source = new FileSource({ revalidateMs: 0 });
    try {
      expect(await source.version(path)).toBe(`64-${1_700_000_000_000}`);
      await writeFile(path, pattern(65));
      await utimes(path, 1_700_000_001, 1_700_000_001);
      expect(await source.version(path)).toBe(`65-${1_700_000_001_000}`);
    } finally {
      await source.close();
    }
  });

  it('honours an aborted signal', async () => {
    const path = await file('abort.bin', pattern(10));
    const source = new FileSource();
    try {
      await expect(source.read(path, 0, 5, AbortSignal.abort())).rejects.toThrow(/abort/i);
    } finally {
      await source.close();
    }
  });
});

describe('FileSource pool', () => {
  it('opens a file once for many concurrent reads', async () => {
    const bytes = pattern(1 << 20);
    const path = await file('shared.bin', bytes);
    const source = new FileSource();
    try {
      const offsets = Array.from({ length: 200 }, (_, i) => (i * 4999) % (bytes.length - 1000));
      const results = await Promise.all(offsets.map((offset) => source.read(path, offset, 1000)));
      results.forEach((result, i) => expect(Buffer.compare(result, bytes.subarray(offsets[i], offsets[i]! + 1000))).toBe(0));
      expect(source.openCount).toBe(1);
    } finally {
      await source.close();
    }
    expect(source.openCount).toBe(0);
  });

  it('stays within maxOpenFiles under many concurrent reads of many files', async () => {
    const files = await Promise.all(Array.from({ length: 20 }, (_, i) => file(`many-${i}.bin`, pattern(4096, i))));
    const source = new FileSource({ maxOpenFiles: 4 });
    try {
      const jobs = Array.from({ length: 1000 }, (_, i) => ({ index: (i * 13) % files.length, offset: (i * 31) % 4000 }));
      const results = await Promise.all(jobs.map((job) => source.read(files[job.index]!, job.offset, 96)));
      results.forEach((result, i) => {
        const job = jobs[i]!;
        expect(result).toEqual(pattern(4096, job.index).slice(job.offset, job.offset + 96));
      });
      expect(source.openCount).toBeLessThanOrEqual(4);
    } finally {
      await source.close();
    }
  });

  it('finishes a read on a handle evicted while the read is in flight', async () => {
    const big = new Uint8Array(16 << 20).fill(7);
    const bigPath = await file('big.bin', big);
    const small = await Promise.all([1, 2, 3].map((i) => file(`evictor-${i}.bin`, pattern(10, i))));
    const source = new FileSource({ maxOpenFiles: 1 });
    try {
      const [whole, ...others] = await Promise.all([source.readWhole(bigPath), ...small.map((path) => source.read(path, 0, 10))]);
      expect(whole.byteLength).toBe(big.byteLength);
      expect(Buffer.compare(whole, big)).toBe(0);
      others.forEach((bytes, i) => expect(bytes).toEqual(pattern(10, i + 1)));
      expect(source.openCount).toBeLessThanOrEqual(1);
    } finally {
      await source.close();
    }
  });

  it('gives not-found for a deleted pooled file once the handle is re-checked', async () => {
    const path = await file('deleted.bin', pattern(100));
    const source = new FileSource({ revalidateMs: 50 });
    try {
      expect(await source.read(path, 0, 10)).toEqual(pattern(100).slice(0, 10));
      await rm(path);
      await new Promise((resolve) => setTimeout(resolve, 60));
      const error = await failure(source.read(path, 0, 10));
      expect(error.failure).toBe('not-found');
      expect(source.openCount).toBe(0);
    } finally {
      await source.close();
    }
  });

  it('reads the new file after a rename over the pooled one', async () => {
    const path = await file('replaced.bin', pattern(100, 1));
    const source = new FileSource({ revalidateMs: 0 });
    try {
      expect(await source.read(path, 0, 10)).toEqual(pattern(100, 1).slice(0, 10));
      const before = await source.version(path);
      await writeFile(`${path}.tmp`, pattern(200, 2));
      await rename(`${path}.tmp`, path);
      expect(await source.read(path, 0, 10)).toEqual(pattern(200, 2).slice(0, 10));
      expect(await source.read(path, 150, 10)).toEqual(pattern(200, 2).slice(150, 160));
      expect(await source.version(path)).not.toBe(before);
      expect(source.openCount).toBe(1);
    } finally {
      await source.close();
    }
  });

  it('reports bytes cut off by truncation in place as short-read at once', async () => {
    const path = await file('truncated.bin', pattern(1000));
    const source = new FileSource({ revalidateMs: 60_000 });
    try {
      expect(await source.read(path, 900, 100)).toEqual(pattern(1000).slice(900));
      await truncate(path, 500);
      expect((await failure(source.read(path, 900, 100))).failure).toBe('short-read');
      expect(await source.read(path, 0, 10)).toEqual(pattern(1000).slice(0, 10));
    } finally {
      await source.close();
    }
  });

  it('refuses reads after close', async () => {
    const path = await file('closed.bin', pattern(10));
    const source = new FileSource();
    await source.read(path, 0, 1);
    await source.close();
    expect((await failure(source.read(path, 0, 1))).failure).toBe('unavailable');
  });
});

describe('FileSource.pin (descriptors for sendfile)', () => {
  it('pins a checked descriptor that stays open while pinned, even when evicted, until released once', async () => {
    const bytes = pattern(4096, 3);
    const path = await file('pin-a.bin', bytes);
    const other = await file('pin-b.bin', pattern(100));
    const source = new FileSource({ maxOpenFiles: 1 });
    try {
      const pinned = await source.pin(path, 1000, 3096);
      const into = Buffer.alloc(16);
      const { readSync } = await import('node:fs');
      expect(readSync(pinned.fd, into, 0, 16, 1000)).toBe(16);
      expect(Uint8Array.from(into)).toEqual(bytes.slice(1000, 1016));
      // another file takes the only pool slot: the pinned one is retired, not closed
      await source.read(other, 0, 10);
      expect(source.openCount).toBe(2);
      expect(readSync(pinned.fd, into, 0, 16, 0)).toBe(16);
      pinned.release();
      pinned.release();
      expect(source.openCount).toBe(1);
    } finally {
      await source.close();
    }
  });

  it('refuses ranges past the end of the file, negative and unsafe ones, and missing files', async () => {
    const path = await file('pin-c.bin', pattern(1000));
    const source = new FileSource();
    try {
      expect((await failure(source.pin(path, 900, 101))).failure).toBe('short-read');
      await expect(source.pin(path, -1, 10)).rejects.toThrow(RangeError);
      await expect(source.pin(path, 0, Number.MAX_SAFE_INTEGER + 2)).rejects.toThrow(RangeError);
      expect((await failure(source.pin(join(dir, 'missing.bin'), 0, 1))).failure).toBe('not-found');
      expect(source.openCount).toBe(1);
      const pinned = await source.pin(path, 0, 1000);
      pinned.release();
    } finally {
      await source.close();
    }
  });
});
