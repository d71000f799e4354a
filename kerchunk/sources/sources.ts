import type { ChunkReference } from '../reference.js';
import { type ResolvedUrl, SourceAllowList, SourcesConfigError } from './allow-list.js';
import { BufferPool } from './buffer-pool.js';
import type { ByteSource } from './byte-source.js';
import { FileSource, type FileSourceOptions, type PinnedFile } from './file-source.js';
import { HttpSource } from './http-source.js';
import { type ReadBudget, sharedReadBudget } from './read-budget.js';
import { S3Source } from './s3-source.js';
import { formatS3Url } from './s3-url.js';
import { SourceError } from './source-error.js';
import type { SourceKind, SourceReadEvent, SourceReadObserver } from './source-observer.js';

export { type ResolvedUrl, SourcesConfigError } from './allow-list.js';

/**
 * Reads of local files go into pooled buffers when the caller can hand them back
 * (OpenedReference.read): for 2.3 MB chunks that halved the server's CPU per request (fresh
 * buffers cost page faults and external-memory garbage collections). Reads below this size take
 * the synchronous path (`readFileNow`) when they can, into a pooled buffer too: 50 KB chunks went
 * from ~17 to ~9.5 µs of CPU each in-process (open, ETag, read).
 */
const POOLED_READ_MIN_BYTES = 1024 * 1024;

export interface SourcesConfig {
  /** `sources.allow` of the catalog: local dirs (relative to `baseDir`), file://, http(s)://, s3:// prefixes. */
  readonly allow: readonly string[];
  /** The catalog file's directory. */
  readonly baseDir: string;
  /** Endpoint `s3://bucket/key` is read from (path-style, unsigned); required when `allow` has s3:// entries. */
  readonly s3Endpoint?: string;
  readonly http?: { readonly timeoutMs?: number; readonly retries?: number; readonly connections?: number };
  readonly file?: FileSourceOptions;
  /** How long a local file's symlink resolution is reused by the allow list (default 1000 ms). */
  readonly realpathCacheMs?: number;
  /** Told about every read (kind, latency, bytes, failure); for metrics. */
  readonly observer?: SourceReadObserver;
  /** Bound on source bytes in flight; default the process-wide one (`STRATO_MAX_READ_MB`, 512 MiB). */
  readonly readBudget?: ReadBudget;
}

/** Bytes [start, end) of a chunk (relative to the chunk, end exclusive). */
export interface ChunkRange {
  readonly start: number;
  readonly end: number;
}

/**
 * A reference resolved for serving: routed and checked against the allow list once, its
 * object's version known (see `Sources.open`).
 */
export interface OpenedReference {
  /** A version tag of the object (size and mtime of a file, an http ETag), undefined when unknown. */
  readonly version: string | undefined;
  /**
   * Bytes `range` of the reference. With `lend`, the bytes of a local file may be read into a
   * pooled buffer instead of a new one: `lend(release)` is asked first, and when it returns true
   * it promises to call `release` once the bytes are no longer used (a response written out);
   * the caller must not touch them afterwards. Otherwise (false, no `lend`, remote sources)
   * concurrent reads of the same bytes are shared as in `readShared`.
   */
  read(range: ChunkRange, signal?: AbortSignal, lend?: (release: () => void) => boolean): Promise<Uint8Array>;
  /**
   * For a reference into a local file: where bytes `range` lie in it, on a checked descriptor
   * pinned open until `done` is called, for a caller that sends them itself (sendfile); undefined
   * for other sources. `done(bytes, failure)` unpins it and tells the read observer what was sent.
   */
  file?(range: ChunkRange, signal?: AbortSignal): Promise<PinnedFileRange>;
}

/** Bytes of a local file on a pinned descriptor (see `OpenedReference.file`). */
export interface PinnedFileRange {
  readonly fd: number;
  /** Where the range starts in the file. */
  readonly offset: number;
  readonly length: number;
  /** Unpins the descriptor (once); `failure` when fewer bytes than `length` were sent. */
  done(bytes: number, failure?: SourceReadEvent['failure']): void;
}

interface Route {
  readonly source: ByteSource;
  readonly url: string;
  readonly kind: SourceKind;
}

/**
 * Every byte a dataset serves from its sources goes through here: references are resolved and
 * checked against the allow list on every read (not only at registration), then read from the
 * file, http(s) or s3 source, one read per chunk. (Reads are not coalesced: measured on local
 * files, merging adjacent 2.3 MB chunks into one read and slicing it back cost 2.8× the CPU per
 * chunk of reading each on its own, and remote chunks are read concurrently anyway.)
 *
 * Local files are also checked after they are opened: the file source verifies each descriptor's
 * real path against the allow list (see file-source.ts), so a directory swapped for a symlink
 * between the check and the open is refused too.
 *
 * Every source read first reserves its length in the read budget (`readBudget`, process-wide by
 * default), so large reads cannot pile up in memory: beyond the budget they wait, and after the
 * budget's wait fail with `unavailable` (503 + Retry-After). Whole-object reads reserve the
 * object's size (`size()`: fstat, HEAD or a Range probe).
 */
export class Sources {
  private readonly shared = new Map<string, SharedRead>();
  /** Buffers lent to `OpenedReference.read` callers (local files only). */
  private readonly pool = new BufferPool();

  private constructor(
    readonly allowList: SourceAllowList,
    private readonly files: FileSource,
    private readonly http: HttpSource,
    private readonly s3: S3Source | undefined,
    private readonly observer: SourceReadObserver | undefined,
    private readonly budget: ReadBudget,
  ) {}

  static async create(config: SourcesConfig): Promise<Sources> {
    const allowList = await SourceAllowList.create(config.allow, config.baseDir, {
      ...(config.realpathCacheMs !== undefined ? { realpathCacheMs: config.realpathCacheMs } : {}),
    });
    const hasS3Roots = config.allow.some((entry) => entry.toLowerCase().startsWith('s3://'));
    if (hasS3Roots && !config.s3Endpoint) {
      throw new SourcesConfigError('sources.allow has s3:// entries but no S3 endpoint is configured (sources.s3.endpoint)');
    }
    const files = new FileSource({ ...config.file, allowsRealPath: (path) => allowList.allowsRealPath(path) });
    const http = new HttpSource({
      ...config.http,
      followRedirect: (target) => allowList.allowsHttpUrl(target),
    });
    let s3: S3Source | undefined;
    if (config.s3Endpoint) {
      try {
        s3 = new S3Source({ endpoint: config.s3Endpoint, http });
      } catch (error) {
        await Promise.all([files.close(), http.close()]);
        throw new SourcesConfigError(`sources.s3.endpoint: ${(error as Error).message}`);
      }
    }
    return new Sources(allowList, files, http, s3, config.observer, config.readBudget ?? sharedReadBudget());
  }

  /** Where `url` (as written in a reference) points; SourceForbiddenError when outside the allow list. */
  check(url: string, relativeTo: string): Promise<ResolvedUrl> {
    return this.allowList.resolve(url, relativeTo);
  }

  /** The bytes of a chunk reference, or of `range` of it. */
  async read(ref: ChunkReference, relativeTo: string, range?: ChunkRange, signal?: AbortSignal): Promise<Uint8Array> {
    if (ref.kind === 'inline') return sliceInline(ref.data, range);
    const route = await this.route(ref.url, relativeTo);
    const { source, url } = route;
    if (ref.kind === 'whole') {
      if (!range) return this.readWholeObject(route, signal);
      checkChunkRange(range, undefined);
      return this.budgeted(range.end - range.start, signal, () => this.observed(route, () => source.read(url, range.start, range.end - range.start, signal)));
    }
    checkChunkRange(range, ref.length);
    const start = range?.start ?? 0;
    const end = range?.end ?? ref.length;
    return this.budgeted(end - start, signal, () => this.observed(route, () => source.read(url, ref.offset + start, end - start, signal)));
  }

  /**
   * Like `read`, but concurrent calls for the same bytes of the same object share one source read
   * and get the same array: callers must neither change nor transfer it (the raw view only
   * copies it into responses). The shared read is aborted when every caller has aborted.
   */
  async readShared(ref: ChunkReference, relativeTo: string, range?: ChunkRange, signal?: AbortSignal): Promise<Uint8Array> {
    if (ref.kind === 'inline') return sliceInline(ref.data, range);
    signal?.throwIfAborted();
    const route = await this.route(ref.url, relativeTo);
    if (ref.kind === 'whole') checkChunkRange(range, undefined);
    else checkChunkRange(range, ref.length);
    const base = ref.kind === 'range' ? ref.offset : 0;
    const start = base + (range?.start ?? 0);
    const end = range ? base + range.end : ref.kind === 'range' ? ref.offset + ref.length : undefined;
    return this.sharedRead(route, start, end, signal);
  }

  /**
   * A reference resolved once for serving several reads of it (a response's pieces): its route
   * and allow-list check, and its object's version (see OpenedReference).
   */
  async open(ref: ChunkReference, relativeTo: string, signal?: AbortSignal): Promise<OpenedReference> {
    if (ref.kind === 'inline') return { version: undefined, read: async (range) => sliceInline(ref.data, range) };
    signal?.throwIfAborted();
    // the hot path (a chunk of a local file read a moment ago) waits for nothing: the allow list's
    // recent decision and the pooled descriptor's checked version, taken synchronously
    const route = this.routeKnown(ref.url, relativeTo) ?? (await this.route(ref.url, relativeTo));
    const isFile = route.source === this.files;
    const version = (isFile ? this.files.versionNow(route.url) : undefined) ?? (await route.source.version(route.url, signal));
    const base = ref.kind === 'range' ? ref.offset : 0;
    const length = ref.kind === 'range' ? ref.length : undefined;
    const opened: OpenedReference = {
      version,
      read: async (range, readSignal, lend) => {
        checkChunkRange(range, length);
        readSignal?.throwIfAborted();
        const bytes = range.end - range.start;
        if (isFile && bytes < POOLED_READ_MIN_BYTES) {
          const now = this.readFileNow(route, base + range.start, bytes, lend);
          if (now !== undefined) return now;
        }
        const lent = isFile && lend && bytes >= POOLED_READ_MIN_BYTES ? this.lentBuffer(bytes, lend) : undefined;
        if (lent) {
          try {
            return await this.budgeted(bytes, readSignal, () => this.observed(route, () => this.files.read(route.url, base + range.start, bytes, readSignal, lent.buffer)));
          } catch (error) {
            lent.release();
            throw error;
          }
        }
        return this.sharedRead(route, base + range.start, base + range.end, readSignal);
      },
    };
    if (isFile) opened.file = (range: ChunkRange, pinSignal?: AbortSignal) => this.pinFile(route, base, length, range, pinSignal);
    return opened;
  }

  /**
   * A small read of a local file made at once on this thread when nothing has to wait (the read
   * budget has room, the descriptor is pooled and fresh: `FileSource.readNow`), reported to the
   * observer like any read; undefined otherwise (nothing read nor reserved). Not shared with
   * concurrent equal reads: a synchronous read has none in flight beside it.
   */
  private readFileNow(route: Route, start: number, bytes: number, lend: ((release: () => void) => boolean) | undefined): Uint8Array | undefined {
    const release = this.budget.tryAcquire(bytes);
    if (release === undefined) return undefined;
    const started = this.observer ? performance.now() : 0;
    const buffer = lend ? this.lentBuffer(bytes, lend)?.buffer : undefined;
    let read: Uint8Array | undefined;
    try {
      read = this.files.readNow(route.url, start, bytes, buffer);
    } catch (error) {
      if (this.observer) this.report(route, started, { bytes: 0, failure: readFailure(error) });
      throw error;
    } finally {
      release();
    }
    if (read !== undefined && this.observer) this.report(route, started, { bytes: read.byteLength });
    return read;
  }

  /**
   * A pooled buffer of `bytes` lent to the caller (`lend` promised to hand it back once its
   * bytes are no longer used), with its `release` (once; a failed read may hand it back early),
   * or undefined (a fresh buffer then). Unused, it simply goes back when the caller says so.
   */
  private lentBuffer(bytes: number, lend: (release: () => void) => boolean): { readonly buffer: Uint8Array; readonly release: () => void } | undefined {
    const buffer = this.pool.acquire(bytes);
    if (buffer === undefined) return undefined;
    let lent = true;
    const release = () => {
      if (!lent) return;
      lent = false;
      this.pool.release(buffer);
    };
    if (lend(release)) return { buffer, release };
    release();
    return undefined;
  }

  /** `route` at once from the allow list's recent decision, or undefined (then `route`). */
  private routeKnown(url: string, relativeTo: string): Route | undefined {
    const target = this.allowList.resolveKnown(url, relativeTo);
    return target === undefined ? undefined : this.routeOf(url, target);
  }

  /** `OpenedReference.file` of a local file: the pinned descriptor, the read reported when done. */
  private async pinFile(route: Route, base: number, length: number | undefined, range: ChunkRange, signal: AbortSignal | undefined): Promise<PinnedFileRange> {
    checkChunkRange(range, length);
    const bytes = range.end - range.start;
    const started = performance.now();
    let pinned: PinnedFile;
    try {
      pinned = await this.files.pin(route.url, base + range.start, bytes, signal);
    } catch (error) {
      this.report(route, started, { bytes: 0, failure: readFailure(error) });
      throw error;
    }
    return {
      fd: pinned.fd,
      offset: base + range.start,
      length: bytes,
      done: (sent, failure) => {
        pinned.release();
        this.report(route, started, failure ? { bytes: sent, failure } : { bytes: sent });
      },
    };
  }

  private report(route: Route, started: number, event: Omit<SourceReadEvent, 'kind' | 'seconds'>): void {
    try {
      this.observer?.read({ kind: route.kind, seconds: (performance.now() - started) / 1000, ...event });
    } catch {
      // an observer must never fail a read
    }
  }

  /** Bytes [start, end) of a routed object (to its end when `end` is undefined), concurrent equal reads shared. */
  private sharedRead(route: Route, start: number, end: number | undefined, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const key = `${route.kind}\0${route.url}\0${start}\0${end ?? 'end'}`;
    signal?.throwIfAborted();
    let entry = this.shared.get(key);
    if (!entry) {
      const controller = new AbortController();
      const read =
        end === undefined
          ? this.readWholeObject(route, controller.signal)
          : this.budgeted(end - start, controller.signal, () => this.observed(route, () => route.source.read(route.url, start, end - start, controller.signal)));
      const created: SharedRead = { promise: read, controller, waiters: 0 };
      entry = created;
      this.shared.set(key, created);
      void read.then(
        () => this.shared.get(key) === created && this.shared.delete(key),
        () => this.shared.get(key) === created && this.shared.delete(key),
      );
    }
    return joinShared(entry, signal, () => {
      if (this.shared.get(key) === entry) this.shared.delete(key);
    });
  }

  /**
   * The size of what a reference points at: a range's length, inline data's length, or the whole
   * object's size (fstat for files, HEAD or a Range probe for http/S3, cached briefly); undefined
   * when an http server does not say.
   */
  async size(ref: ChunkReference, relativeTo: string, signal?: AbortSignal): Promise<number | undefined> {
    if (ref.kind === 'inline') return ref.data.byteLength;
    if (ref.kind === 'range') return ref.length;
    const { source, url } = await this.route(ref.url, relativeTo);
    return source.size(url, signal);
  }

  /** A version tag of the object a reference points into (undefined for inline data or when unknown). */
  async version(ref: ChunkReference, relativeTo: string, signal?: AbortSignal): Promise<string | undefined> {
    if (ref.kind === 'inline') return undefined;
    const { source, url } = await this.route(ref.url, relativeTo);
    return source.version(url, signal);
  }

  async close(): Promise<void> {
    await Promise.all([this.files.close(), this.http.close(), this.s3?.close()]);
  }

  private async route(url: string, relativeTo: string): Promise<Route> {
    return this.routeOf(url, await this.allowList.resolve(url, relativeTo));
  }

  private routeOf(url: string, target: ResolvedUrl): Route {
    switch (target.kind) {
      case 'file':
        return { source: this.files, url: target.path, kind: 'file' };
      case 'http':
        return { source: this.http, url: target.url, kind: 'http' };
      case 's3':
        if (!this.s3) throw new SourceError('unavailable', `${url}: no S3 endpoint is configured`);
        return { source: this.s3, url: formatS3Url(target), kind: 's3' };
    }
  }

  /** A whole object, its size reserved in the read budget first (all of the budget when the size is unknown). */
  private async readWholeObject(route: Route, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const size = await route.source.size(route.url, signal);
    return this.budgeted(size ?? this.budget.maxBytes, signal, () => this.observed(route, () => route.source.readWhole(route.url, signal)));
  }

  private budgeted<T>(bytes: number, signal: AbortSignal | undefined, read: () => Promise<T>): Promise<T> {
    return this.budget.run(bytes, read, signal);
  }

  /** Runs one read of a source and tells the observer how long it took, what it returned or why it failed. */
  private async observed<T extends Uint8Array | Uint8Array[]>(route: Route, read: () => Promise<T>): Promise<T> {
    const observer = this.observer;
    if (!observer) return read();
    const started = performance.now();
    const report = (event: Omit<SourceReadEvent, 'kind' | 'seconds'>) => {
      try {
        observer.read({ kind: route.kind, seconds: (performance.now() - started) / 1000, ...event });
      } catch {
        // an observer must never fail a read
      }
    };
    try {
      const result = await read();
      report({ bytes: Array.isArray(result) ? result.reduce((sum, part) => sum + part.byteLength, 0) : result.byteLength });
      return result;
    } catch (error) {
      report({ bytes: 0, failure: readFailure(error) });
      throw error;
    }
  }
}

interface SharedRead {
  readonly promise: Promise<Uint8Array>;
  readonly controller: AbortController;
  /** Callers still waiting for it. */
  waiters: number;
}

/** Waits for a shared read as one of its callers; the last caller to abort aborts the read. */
function joinShared(entry: SharedRead, signal: AbortSignal | undefined, forget: () => void): Promise<Uint8Array> {
  entry.waiters++;
  if (!signal) {
    return entry.promise.finally(() => {
      entry.waiters--;
    });
  }
  return new Promise<Uint8Array>((resolve, reject) => {
    let done = false;
    const finish = () => {
      done = true;
      entry.waiters--;
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      if (done) return;
      finish();
      reject(signal.reason);
      if (entry.waiters === 0) {
        forget();
        entry.controller.abort(signal.reason);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    entry.promise.then(
      (bytes) => {
        if (done) return;
        finish();
        resolve(bytes);
      },
      (error: unknown) => {
        if (done) return;
        finish();
        reject(error);
      },
    );
  });
}

function readFailure(error: unknown): NonNullable<SourceReadEvent['failure']> {
  if (error instanceof SourceError) return error.failure;
  if (error instanceof Error && error.name === 'AbortError') return 'aborted';
  return 'other';
}

function sliceInline(data: Uint8Array, range: ChunkRange | undefined): Uint8Array {
  if (!range) return data;
  checkChunkRange(range, data.byteLength);
  return data.subarray(range.start, range.end);
}

/** A range must satisfy 0 <= start <= end (<= length when the chunk's length is known). */
function checkChunkRange(range: ChunkRange | undefined, length: number | undefined): void {
  if (!range) return;
  const { start, end } = range;
  const valid = Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && (length === undefined || end <= length);
  if (!valid) throw new RangeError(`invalid range ${start}-${end} of a chunk of ${length ?? 'unknown'} bytes`);
}
