import { constants, readSync } from 'node:fs';
import { type FileHandle, lstat, open, readlink, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import type { ByteSource } from './byte-source.js';
import { SourceError, SourceForbiddenError } from './source-error.js';

/**
 * Local files, read by position from a pool of open descriptors.
 *
 * - Pool: an LRU of at most `maxOpenFiles` handles keyed by path. An evicted handle is closed at
 *   once when idle, else when its last read finishes (so the count may exceed the bound briefly
 *   while evicted handles finish their reads). Concurrent first reads of a file open it once.
 * - Replaced or deleted files: a pooled handle is re-checked with one `lstat(path)` when it was
 *   last checked `revalidateMs` ago or more (default 1 s). A missing path drops the handle and
 *   gives `not-found`; another inode (rename over, delete + recreate, a symlink put in its place)
 *   drops the handle and opens the path again; the same inode with a new size or mtime updates the
 *   version. So a replaced or deleted file is noticed within `revalidateMs`; until then reads see
 *   the bytes of the file that was checked (never a mix). Bytes missing because a file was
 *   truncated in place are noticed at once (`short-read`).
 * - Paths are opened with O_NOFOLLOW: the allow list resolves symlinks before a read, and a
 *   symlink that appears at the last component afterwards is not followed. And with O_NONBLOCK,
 *   so a FIFO in a source's place is refused at once instead of blocking the open forever.
 * - O_NOFOLLOW guards only the last component: a directory on the way swapped for a symlink
 *   after the allow list resolved the path would still be followed. With `allowsRealPath` (the
 *   Sources facade passes the allow list's), every descriptor is checked after each open and
 *   reopen, and again whenever a pooled handle is re-checked: the name the kernel gives it
 *   (`/proc/self/fd/N`, symlinks resolved) must be inside an allowed root, else
 *   SourceForbiddenError and nothing is read; and a `stat` of that name must give the
 *   descriptor's own device and inode (else the file was moved or replaced meanwhile:
 *   `not-found`, and a pooled handle is opened afresh).
 *   The pool is keyed by the resolved path; every key's descriptor has passed this check, so
 *   another spelling of the same reference (an alias) that resolves to the same key reuses a
 *   descriptor that is itself verified to be inside a root. Without /proc the check fails
 *   closed (`unavailable`).
 * - Errors: ENOENT/ENOTDIR → `not-found`; EACCES/EPERM/EISDIR/ELOOP and non-regular files →
 *   `bad-response` (the path exists but is not a readable file: a configuration problem, not a
 *   stale reference); fewer bytes than asked → `short-read`; anything else (EMFILE, EIO) →
 *   `unavailable`.
 * - `version()` is `${size}-${mtimeMs}` of the (re-checked) pooled handle.
 *
 * URLs are absolute paths or `file://` URLs, already checked against the allow list.
 */
export interface FileSourceOptions {
  /** Open descriptors kept in the pool. Default 256. */
  readonly maxOpenFiles?: number;
  /** How old a pooled handle's last check may be before a read re-checks the path. Default 1000 ms; 0 = every read. */
  readonly revalidateMs?: number;
  /**
   * Reads up to this many bytes are made on the calling thread (`readSync`) while they are quick:
   * a read through libuv's thread pool costs ~20 µs of CPU in hand-offs, as much as a whole
   * cached answer; a synchronous read of 50 KB from the page cache ~4 µs. One that takes longer
   * than 2 ms (the bytes came from the disk) sends every read to the thread pool for the next
   * 10 s, so a cold or network file system costs the event loop at most a few slow reads per
   * 10 s. It takes 5 slow reads among the last 8: on a busy machine a read is often slow only
   * because the thread was preempted at its return (measured: 1–2 % of reads with load 6 on 2
   * cores), and pausing on one or two such reads kept every read on the thread pool.
   * Default 128 KiB; 0 = always the thread pool.
   */
  readonly syncReadMaxBytes?: number;
  /** Largest single read (whole files included); larger requests fail with `bad-response`. Default 1 GiB. */
  readonly maxReadBytes?: number;
  /**
   * Whether the real path of an opened descriptor may be read (the allow list's roots). Checked
   * on every open and re-check; undefined = no check (any path the caller passes is read).
   */
  readonly allowsRealPath?: (path: string) => boolean;
}

const DEFAULT_MAX_OPEN_FILES = 256;
const DEFAULT_REVALIDATE_MS = 1000;
const DEFAULT_MAX_READ_BYTES = 1024 * 1024 * 1024;
const DEFAULT_SYNC_READ_MAX_BYTES = 128 * 1024;
/** A synchronous read slower than this came from the disk, not the page cache. */
const SLOW_SYNC_READ_MS = 2;
/** How long reads go to the thread pool after slow synchronous ones. */
const SYNC_PAUSE_MS = 10_000;
/** Synchronous reads pause when this many of the last 8 were slow. */
const SLOW_OF_LAST_8 = 5;
// O_NONBLOCK: opening a FIFO put in a source's place would otherwise block a libuv thread until
// some writer appears (forever, and the dataset with it); with it the open returns and the
// regular-file check refuses it. It changes nothing for regular files.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

interface PooledFile {
  readonly path: string;
  readonly handle: FileHandle;
  readonly dev: number;
  readonly ino: number;
  size: number;
  mtimeMs: number;
  checkedAt: number;
  /** Reads in flight on this handle. */
  users: number;
  /** Out of the pool: close when idle. */
  retired: boolean;
  closed: boolean;
  revalidation?: Promise<PooledFile>;
}

/** An open descriptor of a source file, kept open until `release` (see `FileSource.pin`). */
export interface PinnedFile {
  readonly fd: number;
  /** Unpins the descriptor (once; later calls do nothing). */
  release(): void;
}

export class FileSource implements ByteSource {
  private readonly pool: LRUCache<string, PooledFile>;
  private readonly opening = new Map<string, Promise<PooledFile>>();
  /** Handles out of the pool that still have reads in flight (closed by the last one). */
  private readonly retiredInUse = new Set<PooledFile>();
  private readonly revalidateMs: number;
  private readonly maxReadBytes: number;
  private readonly syncReadMaxBytes: number;
  /** Until when (Date.now()) reads go to the thread pool (after a slow synchronous read). */
  private syncPausedUntil = 0;
  /** The last 8 synchronous reads, one bit each (1: slow), the latest lowest. */
  private recentReads = 0;
  private closed = false;

  constructor(private readonly options: FileSourceOptions = {}) {
    const max = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxOpenFiles must be a positive integer (got ${max})`);
    this.revalidateMs = options.revalidateMs ?? DEFAULT_REVALIDATE_MS;
    this.maxReadBytes = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
    this.syncReadMaxBytes = options.syncReadMaxBytes ?? DEFAULT_SYNC_READ_MAX_BYTES;
    this.pool = new LRUCache<string, PooledFile>({ max, dispose: (file) => this.retire(file) });
  }

  /** Descriptors currently open (pooled plus retired ones still in use). For tests and metrics. */
  get openCount(): number {
    return this.pool.size + this.retiredInUse.size;
  }

  /** `into`: where the bytes go (exactly `length` bytes long), instead of a new buffer. */
  async read(url: string, offset: number, length: number, signal?: AbortSignal, into?: Uint8Array): Promise<Uint8Array> {
    checkRange(url, offset, length, this.maxReadBytes);
    if (into && into.byteLength !== length) throw new RangeError(`a read of ${length} bytes into ${into.byteLength}`);
    signal?.throwIfAborted();
    const path = toPath(url);
    const file = await this.acquire(path);
    try {
      if (length <= this.syncReadMaxBytes && Date.now() >= this.syncPausedUntil) {
        const started = performance.now();
        const bytes = readExactlySync(file, offset, length, into);
        this.timedSyncRead(performance.now() - started);
        return bytes;
      }
      return await readExactly(file, offset, length, into);
    } finally {
      this.release(file);
    }
  }

  /**
   * `read` done at once on the calling thread, when that needs no wait: the file's descriptor is
   * pooled and was checked less than `revalidateMs` ago, the read is small enough to be made
   * synchronously and such reads are not paused (see `syncReadMaxBytes`). Otherwise undefined,
   * having done nothing: the caller then reads with `read`. Errors as `read`'s.
   */
  readNow(url: string, offset: number, length: number, into?: Uint8Array): Uint8Array | undefined {
    if (length > this.syncReadMaxBytes) return undefined;
    if (into && into.byteLength !== length) throw new RangeError(`a read of ${length} bytes into ${into.byteLength}`);
    const file = this.freshPooled(url);
    if (file === undefined || Date.now() < this.syncPausedUntil) return undefined;
    checkRange(url, offset, length, this.maxReadBytes);
    file.users++;
    try {
      const started = performance.now();
      const bytes = readExactlySync(file, offset, length, into);
      this.timedSyncRead(performance.now() - started);
      return bytes;
    } finally {
      this.release(file);
    }
  }

  /** `version` at once when the file's descriptor is pooled and was checked less than `revalidateMs` ago, else undefined. */
  versionNow(url: string): string | undefined {
    const file = this.freshPooled(url);
    return file === undefined ? undefined : `${file.size}-${file.mtimeMs}`;
  }

  /** Counts a synchronous read that took `ms`; mostly slow ones send reads to the thread pool for a while. */
  private timedSyncRead(ms: number): void {
    const slow = ms > SLOW_SYNC_READ_MS;
    this.recentReads = ((this.recentReads << 1) | (slow ? 1 : 0)) & 0xff;
    if (slow && bitCount(this.recentReads) >= SLOW_OF_LAST_8) {
      this.recentReads = 0;
      this.syncPausedUntil = Date.now() + SYNC_PAUSE_MS;
    }
  }

  /** The pooled handle of `url` when it needs no re-check now (what `acquire` would return without waiting). */
  private freshPooled(url: string): PooledFile | undefined {
    if (this.closed || !url.startsWith('/')) return undefined;
    const file = this.pool.get(url);
    if (file === undefined || file.closed || Date.now() - file.checkedAt >= this.revalidateMs) return undefined;
    return file;
  }

  /**
   * The pooled, checked descriptor of `url`, pinned (never closed) until `release` is called, for
   * a caller that sends bytes [offset, offset + length) itself (sendfile). `short-read` at once
   * when the file, as last checked, ends before the range does; a file truncated later is the
   * caller's to notice (sendfile sees its end early).
   */
  async pin(url: string, offset: number, length: number, signal?: AbortSignal): Promise<PinnedFile> {
    checkRange(url, offset, length, this.maxReadBytes);
    signal?.throwIfAborted();
    const file = await this.acquire(toPath(url));
    if (file.size < offset + length) {
      this.release(file);
      throw new SourceError('short-read', `${file.path} ends at byte ${file.size}, before the end of the referenced range ${offset}+${length}`);
    }
    let pinned = true;
    return {
      fd: file.handle.fd,
      release: () => {
        if (!pinned) return;
        pinned = false;
        this.release(file);
      },
    };
  }

  async readWhole(url: string, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted();
    const path = toPath(url);
    const file = await this.acquire(path);
    try {
      const { size } = await file.handle.stat().catch((error: unknown) => {
        throw fileError(error, path);
      });
      checkRange(url, 0, size, this.maxReadBytes);
      return await readExactly(file, 0, size);
    } finally {
      this.release(file);
    }
  }

  async version(url: string, signal?: AbortSignal): Promise<string | undefined> {
    signal?.throwIfAborted();
    const file = await this.acquire(toPath(url));
    this.release(file);
    return `${file.size}-${file.mtimeMs}`;
  }

  /** The file's size, from the fstat of its (re-checked) pooled descriptor. */
  async size(url: string, signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    const file = await this.acquire(toPath(url));
    this.release(file);
    return file.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.opening.values()]);
    this.pool.clear();
  }

  /** A checked, pinned handle of `path`; pair with `release`. */
  private async acquire(path: string): Promise<PooledFile> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.closed) throw new SourceError('unavailable', `file source is closed (reading ${path})`);
      let file = this.pool.get(path);
      if (!file) file = await this.openShared(path);
      else if (Date.now() - file.checkedAt >= this.revalidateMs) file = await this.revalidate(file);
      if (file.closed) continue; // evicted and closed while we waited: take the pool's current one
      file.users++;
      return file;
    }
    throw new SourceError('unavailable', `cannot keep a descriptor of ${path} open (pool too small for the load?)`);
  }

  private release(file: PooledFile): void {
    file.users--;
    if (file.retired) this.closeIfIdle(file);
  }

  private openShared(path: string): Promise<PooledFile> {
    let pending = this.opening.get(path);
    if (!pending) {
      pending = this.openFile(path).finally(() => this.opening.delete(path));
      this.opening.set(path, pending);
    }
    return pending;
  }

  private async openFile(path: string): Promise<PooledFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, OPEN_FLAGS);
    } catch (error) {
      throw fileError(error, path);
    }
    let stats;
    try {
      stats = await handle.stat();
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw fileError(error, path);
    }
    if (!stats.isFile() || this.closed) {
      await handle.close().catch(() => undefined);
      if (this.closed) throw new SourceError('unavailable', `file source is closed (reading ${path})`);
      throw new SourceError('bad-response', `${path} is not a regular file`);
    }
    try {
      await this.verifyDescriptor(handle, path, stats);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    const file: PooledFile = {
      path,
      handle,
      dev: stats.dev,
      ino: stats.ino,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      checkedAt: Date.now(),
      users: 0,
      retired: false,
      closed: false,
    };
    this.pool.set(path, file);
    return file;
  }

  /** Re-checks a pooled handle against its path (shared by concurrent callers). */
  private revalidate(file: PooledFile): Promise<PooledFile> {
    file.revalidation ??= this.checkPath(file).finally(() => {
      delete file.revalidation;
    });
    return file.revalidation;
  }

  private async checkPath(file: PooledFile): Promise<PooledFile> {
    try {
      await this.verifyDescriptor(file.handle, file.path, file);
    } catch (error) {
      this.drop(file);
      // moved or replaced inside the roots: open the path afresh (which checks again)
      if (error instanceof SourceError && error.failure !== 'unavailable') return this.pool.peek(file.path) ?? this.openShared(file.path);
      throw error;
    }
    let stats;
    try {
      stats = await lstat(file.path);
    } catch (error) {
      this.drop(file);
      throw fileError(error, file.path);
    }
    if (stats.dev !== file.dev || stats.ino !== file.ino || !stats.isFile()) {
      this.drop(file);
      return this.pool.peek(file.path) ?? this.openShared(file.path);
    }
    file.size = stats.size;
    file.mtimeMs = stats.mtimeMs;
    file.checkedAt = Date.now();
    return file;
  }

  /**
   * Checks what a descriptor really is: its name (symlinks resolved by the kernel) must be inside
   * an allowed root, and still name this very file (same device and inode).
   */
  private async verifyDescriptor(handle: FileHandle, path: string, expected: { readonly dev: number; readonly ino: number }): Promise<void> {
    const allows = this.options.allowsRealPath;
    if (!allows) return;
    let real: string;
    try {
      real = await readlink(`/proc/self/fd/${handle.fd}`);
    } catch (error) {
      throw new SourceError('unavailable', `cannot verify the opened descriptor of ${path} (/proc/self/fd: ${(error as Error).message})`, { cause: error });
    }
    if (!allows(real)) {
      throw new SourceForbiddenError(path, `${path} was opened as ${real}, which is outside the allowed sources (a directory on its way was replaced?)`);
    }
    let named;
    try {
      named = await stat(real);
    } catch (error) {
      throw fileError(error, path);
    }
    if (named.dev !== expected.dev || named.ino !== expected.ino) {
      throw new SourceError('not-found', `${path} changed while it was opened (${real} is another file now)`);
    }
  }

  /** Takes a handle out of the pool (it closes once idle). */
  private drop(file: PooledFile): void {
    if (this.pool.peek(file.path) === file) this.pool.delete(file.path);
    else this.retire(file);
  }

  private retire(file: PooledFile): void {
    file.retired = true;
    this.closeIfIdle(file);
  }

  private closeIfIdle(file: PooledFile): void {
    if (file.closed) return;
    if (file.users > 0) {
      this.retiredInUse.add(file);
      return;
    }
    file.closed = true;
    this.retiredInUse.delete(file);
    void file.handle.close().catch(() => undefined);
  }
}

async function readExactly(file: PooledFile, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
  const buffer = into ?? Buffer.allocUnsafeSlow(length);
  let filled = 0;
  while (filled < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await file.handle.read(buffer, filled, length - filled, offset + filled));
    } catch (error) {
      throw fileError(error, file.path);
    }
    if (bytesRead === 0) {
      throw new SourceError('short-read', `${file.path} ends at byte ${offset + filled}, before the end of the referenced range ${offset}+${length}`);
    }
    filled += bytesRead;
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

/** `readExactly` on the calling thread (small reads, see `syncReadMaxBytes`). */
function readExactlySync(file: PooledFile, offset: number, length: number, into?: Uint8Array): Uint8Array {
  // never a slice of Node's shared pool: callers may transfer the buffer to a codec thread
  const buffer = into ?? Buffer.allocUnsafeSlow(length);
  let filled = 0;
  while (filled < length) {
    let bytesRead: number;
    try {
      bytesRead = readSync(file.handle.fd, buffer, filled, length - filled, offset + filled);
    } catch (error) {
      throw fileError(error, file.path);
    }
    if (bytesRead === 0) {
      throw new SourceError('short-read', `${file.path} ends at byte ${offset + filled}, before the end of the referenced range ${offset}+${length}`);
    }
    filled += bytesRead;
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

function bitCount(bits: number): number {
  let count = 0;
  for (let rest = bits; rest !== 0; rest &= rest - 1) count++;
  return count;
}

function toPath(url: string): string {
  if (url.startsWith('file:')) return fileURLToPath(url);
  if (!url.startsWith('/')) throw new SourceError('bad-response', `file source needs an absolute path or file:// URL, got ${JSON.stringify(url)}`);
  return url;
}

function checkRange(url: string, offset: number, length: number, max: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`invalid byte range of ${url}: offset ${offset}, length ${length}`);
  }
  if (length > max) throw new SourceError('bad-response', `${url}: a read of ${length} bytes is larger than the limit of ${max}`);
}

function fileError(error: unknown, path: string): Error {
  if (error instanceof SourceError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new SourceError('not-found', `${path} does not exist`, { cause: error });
    case 'EACCES':
    case 'EPERM':
    case 'EISDIR':
    case 'ELOOP':
      return new SourceError('bad-response', `${path} cannot be read as a file (${code})`, { cause: error });
    default:
      return new SourceError('unavailable', `${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}
