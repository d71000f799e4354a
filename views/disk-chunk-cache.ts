import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, rename, stat, statfs, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a disk cache reports what it could not do (it never fails a request). */
export interface DiskCacheLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface DiskChunkCacheOptions {
  /** The directory (made 0700 when missing; refused when it is a symlink, not a directory, or someone else's). */
  readonly dir: string;
  /** Bytes the files may take together; default a quarter of the free space of `dir`'s file system, at most 8 GiB. */
  readonly maxBytes?: number | undefined;
  readonly logger?: DiskCacheLogger | undefined;
}

const MAGIC = Buffer.from('STRATOC1');
const HEADER_BYTES = MAGIC.byteLength + 32;
const DEFAULT_MAX_BYTES = 8 * 1024 ** 3;
/** A hit refreshes its file's mtime (the eviction order) at most this often. */
const TOUCH_EVERY_MS = 60_000;
/** Temporary files older than this are leftovers of a process that died mid-write. */
const STALE_TEMP_MS = 10 * 60_000;

/**
 * Encoded chunks on disk, shared by every server process of the machine (`--workers N`) and
 * kept across restarts; the kernel's page cache keeps the hot ones in memory once for all.
 *
 * - A key becomes a file name only through SHA-256 (`ab/abcdef…`): nothing of a request or a
 *   reference reaches the file system as a path. A file starts with a magic and the key's hash,
 *   both checked on every read, so a file is never served for another key.
 * - Files are written to a temporary name and renamed into place: readers see a whole file or none.
 * - Bounded: after every 1/16 of `maxBytes` written by this process (and at start), a sweep sums
 *   the files and deletes the least recently used (by mtime; a hit refreshes it) until they take
 *   at most 7/8 of `maxBytes`. Between sweeps the files may exceed the bound by what the server
 *   processes write meanwhile.
 * - Every failure (disk full, a file deleted by another process's sweep, permissions) is a miss
 *   or a skipped write, never an error for the request; the first few are logged.
 */
export class DiskChunkCache {
  private maxBytes = 0;
  private writtenSinceSweep = 0;
  private sweeping: Promise<void> | undefined;
  private readonly touched = new Map<string, number>();
  /** Subdirectories (`ab`) this process made or found: no mkdir per write. */
  private readonly subdirs = new Set<string>();
  private warnings = 0;

  private constructor(
    private readonly dir: string,
    private readonly logger: DiskCacheLogger | undefined,
  ) {}

  /** The cache in `dir`, or undefined (logged) when the directory cannot be used safely. */
  static async open(options: DiskChunkCacheOptions): Promise<DiskChunkCache | undefined> {
    const cache = new DiskChunkCache(options.dir, options.logger);
    try {
      await mkdir(options.dir, { recursive: true, mode: 0o700 });
      const info = await lstat(options.dir);
      const uid = process.getuid?.();
      if (!info.isDirectory()) throw new Error('it is not a directory (or a symlink)');
      if (uid !== undefined && info.uid !== uid) throw new Error(`it belongs to uid ${info.uid}, not ${uid}`);
      if ((info.mode & 0o077) !== 0) throw new Error(`its mode is ${(info.mode & 0o777).toString(8)}, not 700`);
      cache.maxBytes = options.maxBytes ?? Math.min(DEFAULT_MAX_BYTES, Math.floor(await freeBytes(options.dir)) / 4);
    } catch (error) {
      options.logger?.warn('disk chunk cache off', { reason: `the cache directory cannot be used: ${(error as Error).message}` });
      return undefined;
    }
    if (cache.maxBytes <= 0) return undefined;
    cache.sweep();
    return cache;
  }

  /** Bytes the files may take together. */
  get bound(): number {
    return this.maxBytes;
  }

  /** The bytes stored under `key`, or undefined. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const entry = await this.open(key);
    if (!entry) return undefined;
    try {
      return await entry.read(0, entry.size);
    } catch (error) {
      this.warn('read failed', error);
      return undefined;
    } finally {
      entry.close();
    }
  }

  /**
   * The file stored under `key`, open and checked (magic and key hash), or undefined: for a
   * caller that sends its bytes itself (sendfile) or reads parts of it. The caller closes it
   * (the descriptor keeps the bytes even when a sweep deletes the file meanwhile).
   */
  async open(key: string): Promise<DiskEntry | undefined> {
    const { name, path } = this.pathOf(key);
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      const { size, mtimeMs } = await handle.stat();
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      const { bytesRead } = size < HEADER_BYTES ? { bytesRead: 0 } : await handle.read(header, 0, HEADER_BYTES, 0);
      if (bytesRead !== HEADER_BYTES || !header.subarray(0, MAGIC.byteLength).equals(MAGIC) || !header.subarray(MAGIC.byteLength).equals(Buffer.from(name, 'hex'))) {
        void handle.close().catch(() => undefined);
        return undefined;
      }
      this.touch(path, name, mtimeMs);
      return new DiskEntry(handle, size - HEADER_BYTES);
    } catch (error) {
      if (handle) void handle.close().catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.warn('read failed', error);
      return undefined;
    }
  }

  /**
   * Stores `bytes` under `key` (a whole file appears at once, or nothing). Resolves when done:
   * true when written, false when skipped or failed; never rejects.
   */
  async set(key: string, bytes: Uint8Array): Promise<boolean> {
    if (bytes.byteLength + HEADER_BYTES > this.maxBytes / 8) return false;
    const { name, path } = this.pathOf(key);
    const temp = join(this.dir, `tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const subdir = name.slice(0, 2);
    try {
      // one mkdir per subdirectory and process (it cost ~0.4 ms of the main thread per write)
      if (!this.subdirs.has(subdir)) {
        await mkdir(join(this.dir, subdir), { recursive: true, mode: 0o700 });
        this.subdirs.add(subdir);
      }
      const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        await handle.writev([MAGIC, Buffer.from(name, 'hex'), bytes]);
      } finally {
        await handle.close();
      }
      await rename(temp, path).catch(async (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        // the subdirectory went away (removed by hand): make it again, once
        this.subdirs.delete(subdir);
        await mkdir(join(this.dir, subdir), { recursive: true, mode: 0o700 });
        this.subdirs.add(subdir);
        await rename(temp, path);
      });
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      this.warn('write failed', error);
      return false;
    }
    this.writtenSinceSweep += bytes.byteLength + HEADER_BYTES;
    if (this.writtenSinceSweep >= this.maxBytes / 16) this.sweep();
    return true;
  }

  /** Waits for a sweep in progress (tests). */
  async settled(): Promise<void> {
    await this.sweeping;
  }

  /** Starts a sweep unless one runs (see the class comment). */
  sweep(): Promise<void> {
    this.sweeping ??= this.evict().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async evict(): Promise<void> {
    this.writtenSinceSweep = 0;
    const files: Array<{ path: string; size: number; mtimeMs: number }> = [];
    let total = 0;
    try {
      for (const entry of await readdir(this.dir, { withFileTypes: true })) {
        const path = join(this.dir, entry.name);
        if (entry.isFile() && entry.name.startsWith('tmp-')) {
          const info = await stat(path).catch(() => undefined);
          if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
          continue;
        }
        if (!entry.isDirectory() || !/^[0-9a-f]{2}$/.test(entry.name)) continue;
        for (const name of await readdir(path).catch(() => [] as string[])) {
          const file = join(path, name);
          const info = await stat(file).catch(() => undefined);
          if (!info?.isFile()) continue;
          files.push({ path: file, size: info.size, mtimeMs: info.mtimeMs });
          total += info.size;
        }
      }
    } catch (error) {
      this.warn('sweep failed', error);
      return;
    }
    if (total <= this.maxBytes) return;
    files.sort((a, b) => a.mtimeMs - b.mtimeMs);
    const target = (this.maxBytes * 7) / 8;
    for (const file of files) {
      if (total <= target) break;
      await unlink(file.path).catch(() => undefined);
      total -= file.size;
    }
  }

  private pathOf(key: string): { name: string; path: string } {
    const name = createHash('sha256').update(key).digest('hex');
    return { name, path: join(this.dir, name.slice(0, 2), name) };
  }

  /** Marks a file as used now, at most once a minute per file (the sweep evicts the oldest mtimes). */
  private touch(path: string, name: string, mtimeMs: number): void {
    const now = Date.now();
    if (now - mtimeMs < TOUCH_EVERY_MS || now - (this.touched.get(name) ?? 0) < TOUCH_EVERY_MS) return;
    if (this.touched.size > 100_000) this.touched.clear();
    this.touched.set(name, now);
    const seconds = now / 1000;
    void utimes(path, seconds, seconds).catch(() => undefined);
  }

  private warn(what: string, error: unknown): void {
    if (this.warnings >= 5) return;
    this.warnings++;
    this.logger?.warn(`disk chunk cache: ${what}`, { reason: (error as Error).message, ...(this.warnings === 5 ? { more: 'further failures are not logged' } : {}) });
  }
}

async function freeBytes(dir: string): Promise<number> {
  const info = await statfs(dir);
  return info.bavail * info.bsize;
}

/** A checked file of the cache, open: bytes [0, size) of the stored value lie at `offset` in `fd`. */
export class DiskEntry {
  private closed = false;

  constructor(
    private readonly handle: FileHandle,
    /** Bytes of the stored value. */
    readonly size: number,
  ) {}

  get fd(): number {
    return this.handle.fd;
  }

  /** Where the value starts in the file. */
  get offset(): number {
    return HEADER_BYTES;
  }

  /** Bytes [start, end) of the value; rejects when the file holds fewer. */
  async read(start: number, end: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > this.size)
      throw new RangeError(`invalid range ${start}-${end} of ${this.size} bytes`);
    const bytes = Buffer.allocUnsafeSlow(end - start);
    let filled = 0;
    while (filled < bytes.byteLength) {
      const { bytesRead } = await this.handle.read(bytes, filled, bytes.byteLength - filled, HEADER_BYTES + start + filled);
      if (bytesRead === 0) throw new Error(`a cache file ends ${bytes.byteLength - filled} bytes early`);
      filled += bytesRead;
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Closes the file (once; later calls do nothing). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.handle.close().catch(() => undefined);
  }
}
