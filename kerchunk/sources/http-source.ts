import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import { Agent, type Dispatcher } from 'undici';
import { concatBytes } from '../concat-bytes.js';
import type { ByteSource } from './byte-source.js';
import { parseContentRange } from './content-range.js';
import { SourceError } from './source-error.js';

/**
 * http(s) objects, read with `Range: bytes=a-b` GETs through undici.
 *
 * - Connections: one undici Agent; it keeps one keep-alive Pool per origin of at most
 *   `connections` sockets (default 16). Requests beyond that queue in the pool.
 * - Responses: 206 must carry a Content-Range starting at the asked offset; a range that the object
 *   ends inside gives `short-read`, as do 416 and bodies shorter than announced. A server that
 *   ignores Range (200 with the whole object) is tolerated when the referenced range ends within
 *   `maxUnrangedBytes` (default 16 MiB): the body is read up to the range's end and the connection
 *   dropped; beyond that → `bad-response`. A Content-Encoding other than identity → `bad-response`.
 *   404/410 → `not-found`; other 4xx → `bad-response`; 408/429/5xx → `unavailable`.
 * - Timeouts (default `timeoutMs` = 10 s each): connect, response headers, and body idle time
 *   (between two body chunks); plus `attemptTimeoutMs` (default 60 s) for a whole attempt, against
 *   servers that trickle. Any of them → `timeout`. undici runs the headers and body timers on its
 *   coarse clock (about 1 s resolution: a 200 ms headers timeout fires after 0.5–1 s); the connect
 *   and attempt timers are exact.
 * - Retries: every request is an idempotent GET or HEAD. Connection errors (refused, reset, closed
 *   early), timeouts, 408/429/5xx and bodies cut short are retried up to `retries` times (default 2)
 *   after `retryDelayMs` × 2^n (default 100 ms, capped at 2 s) with jitter. Other failures are
 *   final at once. A caller's abort is never retried and rethrows the signal's reason.
 * - Redirects: not followed unless `followRedirect(target)` approves the target (the Sources facade
 *   approves only targets inside the allow list, so a redirect cannot reach another host or path);
 *   at most `maxRedirects` (default 3). Refused redirects → `bad-response` naming the target.
 * - `version()`: ETag, else Last-Modified + Content-Length, from a HEAD request, cached for
 *   `versionTtlMs` (default 5 s) per URL; range GETs refresh the cache from their own headers.
 *   undefined when the server sends neither or does not support HEAD (405/501).
 * - `size()`: Content-Length of a HEAD; when HEAD is refused (405/501) or has no length, a
 *   `Range: bytes=0-0` probe whose Content-Range total (or, from a server that ignores Range,
 *   Content-Length; the body is not read) gives it. Cached like versions (`versionTtlMs`) and
 *   shared by concurrent callers; undefined when the server does not say.
 */
export interface HttpSourceOptions {
  /** Default for the connect, headers and body-idle timeouts. Default 10 000 ms. */
  readonly timeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
  /** Upper bound on one attempt (connect to last body byte). Default 60 000 ms. */
  readonly attemptTimeoutMs?: number;
  /** Retries after the first attempt. Default 2. */
  readonly retries?: number;
  /** First retry delay; doubles per retry, capped at 2 s. Default 100 ms. */
  readonly retryDelayMs?: number;
  /** Sockets per origin. Default 16. */
  readonly connections?: number;
  /** Largest prefix read from a server that ignores Range. Default 16 MiB. */
  readonly maxUnrangedBytes?: number;
  /** Largest single read (whole objects included). Default 1 GiB. */
  readonly maxReadBytes?: number;
  /** How long a version (ETag) is reused. Default 5000 ms; 0 = ask every time. */
  readonly versionTtlMs?: number;
  /** Whether a redirect to `target` (absolute URL) may be followed. Default: none are. */
  readonly followRedirect?: (target: string) => boolean;
  readonly maxRedirects?: number;
  readonly userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;
const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 2_000;
const DEFAULT_CONNECTIONS = 16;
const DEFAULT_MAX_UNRANGED_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_READ_BYTES = 1024 * 1024 * 1024;
const DEFAULT_VERSION_TTL_MS = 5_000;
const DEFAULT_MAX_REDIRECTS = 3;
const DISCARD_LIMIT = 64 * 1024;

/** A failure worth another attempt (the final error is still a SourceError). */
class RetriableError extends SourceError {}

/** The reason our own per-attempt deadline aborts a request with. */
class AttemptDeadline extends Error {}

type Response = Dispatcher.ResponseData;
type Body = Response['body'];

export class HttpSource implements ByteSource {
  private readonly agent: Agent;
  private readonly attemptTimeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxUnrangedBytes: number;
  private readonly maxReadBytes: number;
  private readonly maxRedirects: number;
  private readonly baseHeaders: Record<string, string>;
  private readonly versions: LRUCache<string, { value: string | undefined }>;
  private readonly versionTtlMs: number;
  private readonly versionRequests = new Map<string, Promise<string | undefined>>();
  private readonly sizes: LRUCache<string, { value: number | undefined }>;
  private readonly sizeRequests = new Map<string, Promise<number | undefined>>();

  constructor(private readonly options: HttpSourceOptions = {}) {
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.agent = new Agent({
      connections: options.connections ?? DEFAULT_CONNECTIONS,
      connect: { timeout: options.connectTimeoutMs ?? timeout },
      headersTimeout: options.headersTimeoutMs ?? timeout,
      bodyTimeout: options.bodyTimeoutMs ?? timeout,
      keepAliveTimeout: 10_000,
    });
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.maxUnrangedBytes = options.maxUnrangedBytes ?? DEFAULT_MAX_UNRANGED_BYTES;
    this.maxReadBytes = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
    this.maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.baseHeaders = { 'accept-encoding': 'identity', 'user-agent': options.userAgent ?? 'strato' };
    this.versionTtlMs = options.versionTtlMs ?? DEFAULT_VERSION_TTL_MS;
    this.versions = new LRUCache({ max: 10_000, ttl: Math.max(1, this.versionTtlMs) });
    this.sizes = new LRUCache({ max: 10_000, ttl: Math.max(1, this.versionTtlMs) });
  }

  async read(url: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(url, offset, length, this.maxReadBytes);
    if (length === 0) return new Uint8Array(0);
    return this.withRetries(url, signal, (attempt) => this.getRange(url, offset, length, attempt));
  }

  async readWhole(url: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.withRetries(url, signal, (attempt) => this.getWhole(url, attempt));
  }

  async version(url: string, signal?: AbortSignal): Promise<string | undefined> {
    signal?.throwIfAborted();
    const cached = this.versions.get(url);
    if (cached) return cached.value;
    let pending = this.versionRequests.get(url);
    if (!pending) {
      // Shared by concurrent callers, so no caller's signal aborts it; it is bounded by the timeouts.
      pending = this.withRetries(url, undefined, (attempt) => this.head(url, attempt)).finally(() => this.versionRequests.delete(url));
      this.versionRequests.set(url, pending);
    }
    return pending;
  }

  /** The object's length (HEAD, else a 1-byte Range probe), or undefined when the server does not say. */
  async size(url: string, signal?: AbortSignal): Promise<number | undefined> {
    signal?.throwIfAborted();
    const cached = this.sizes.get(url);
    if (cached) return cached.value;
    let pending = this.sizeRequests.get(url);
    if (!pending) {
      // Shared by concurrent callers, so no caller's signal aborts it; it is bounded by the timeouts.
      pending = this.findSize(url).finally(() => this.sizeRequests.delete(url));
      this.sizeRequests.set(url, pending);
    }
    return pending;
  }

  private async findSize(url: string): Promise<number | undefined> {
    let size = await this.withRetries(url, undefined, async (attempt) => {
      const response = await this.send(url, 'HEAD', {}, attempt);
      await discard(response.body);
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.noteVersion(url, response.headers);
        return contentLength(response.headers);
      }
      if (response.statusCode === 405 || response.statusCode === 501) return undefined;
      throw await statusError(url, response);
    });
    size ??= await this.withRetries(url, undefined, (attempt) => this.probeSize(url, attempt));
    if (this.versionTtlMs > 0) this.sizes.set(url, { value: size });
    return size;
  }

  /** `Range: bytes=0-0`: the total of the Content-Range (206 or 416), or the length of a 200 (its body left unread). */
  private async probeSize(url: string, signal: AbortSignal): Promise<number | undefined> {
    const response = await this.send(url, 'GET', { range: 'bytes=0-0' }, signal);
    const { statusCode, headers } = response;
    if (statusCode === 206 || statusCode === 416) {
      if (statusCode === 206) this.noteVersion(url, headers);
      const total = /\/(\d+)\s*$/.exec(header(headers, 'content-range') ?? '')?.[1];
      await discard(response.body);
      const size = total === undefined ? undefined : Number(total);
      return size !== undefined && Number.isSafeInteger(size) ? size : undefined;
    }
    if (statusCode === 200) {
      this.noteVersion(url, headers);
      response.body.destroy();
      return contentLength(headers);
    }
    throw await statusError(url, response);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async getRange(url: string, offset: number, length: number, signal: AbortSignal): Promise<Uint8Array> {
    const last = offset + length - 1;
    const response = await this.send(url, 'GET', { range: `bytes=${offset}-${last}` }, signal);
    const { statusCode, headers, body } = response;
    if (statusCode === 206) {
      this.noteVersion(url, headers);
      await checkEncoding(url, response);
      const range = parseContentRange(header(headers, 'content-range'));
      if (!range) {
        await discard(body);
        throw new SourceError('bad-response', `${url} answered 206 without a usable Content-Range (${header(headers, 'content-range') ?? 'none'})`);
      }
      if (range.start !== offset || range.end > last) {
        await discard(body);
        throw new SourceError('bad-response', `${url} answered bytes ${range.start}-${range.end} for the range ${offset}-${last}`);
      }
      if (range.end < last) {
        await discard(body);
        throw new SourceError('short-read', `${url} has ${range.size ?? range.end + 1} bytes; the referenced range ${offset}-${last} ends beyond`);
      }
      return collect(url, body, length);
    }
    if (statusCode === 200) {
      this.noteVersion(url, headers);
      await checkEncoding(url, response);
      return this.sliceUnranged(url, response, offset, length);
    }
    throw await statusError(url, response);
  }

  private async getWhole(url: string, signal: AbortSignal): Promise<Uint8Array> {
    const response = await this.send(url, 'GET', {}, signal);
    if (response.statusCode !== 200) {
      if (response.statusCode === 206) {
        await discard(response.body);
        throw new SourceError('bad-response', `${url} answered 206 to a request without Range`);
      }
      throw await statusError(url, response);
    }
    this.noteVersion(url, response.headers);
    await checkEncoding(url, response);
    const declared = contentLength(response.headers);
    if (declared !== undefined && declared > this.maxReadBytes) {
      response.body.destroy();
      throw new SourceError('bad-response', `${url} has ${declared} bytes, more than the read limit of ${this.maxReadBytes}`);
    }
    return declared !== undefined ? collect(url, response.body, declared) : collectUpTo(url, response.body, this.maxReadBytes);
  }

  /** A 200 answer to a Range request: the referenced bytes cut out of the whole body, if near enough. */
  private async sliceUnranged(url: string, response: Response, offset: number, length: number): Promise<Uint8Array> {
    const end = offset + length;
    const declared = contentLength(response.headers);
    if (declared !== undefined && declared < end) {
      await discard(response.body);
      throw new SourceError('short-read', `${url} has ${declared} bytes; the referenced range ${offset}-${end - 1} ends beyond`);
    }
    if (end > this.maxUnrangedBytes) {
      response.body.destroy();
      throw new SourceError(
        'bad-response',
        `${url} ignores Range requests (answered 200 with the whole object) and the referenced range ends beyond the ${this.maxUnrangedBytes} bytes read from such servers`,
      );
    }
    const out = new Uint8Array(length);
    let position = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        const from = Math.max(position, offset);
        const to = Math.min(position + chunk.byteLength, end);
        if (to > from) out.set(chunk.subarray(from - position, to - position), from - offset);
        position += chunk.byteLength;
        if (position >= end) break;
      }
    } catch (error) {
      throw bodyError(url, error, position, end);
    }
    if (position < end) throw new SourceError('short-read', `${url} ended after ${position} bytes; the referenced range ${offset}-${end - 1} ends beyond`);
    return out;
  }

  private async head(url: string, signal: AbortSignal): Promise<string | undefined> {
    const response = await this.send(url, 'HEAD', {}, signal);
    await discard(response.body);
    if (response.statusCode >= 200 && response.statusCode < 300) return this.noteVersion(url, response.headers);
    if (response.statusCode === 405 || response.statusCode === 501) {
      this.rememberVersion(url, undefined);
      return undefined;
    }
    throw await statusError(url, response);
  }

  private noteVersion(url: string, headers: IncomingHttpHeaders): string | undefined {
    const etag = header(headers, 'etag');
    const modified = header(headers, 'last-modified');
    const value = etag ?? (modified !== undefined ? `${modified}; ${header(headers, 'content-length') ?? ''}` : undefined);
    if (value !== undefined || !this.versions.has(url)) this.rememberVersion(url, value);
    return value;
  }

  private rememberVersion(url: string, value: string | undefined): void {
    if (this.versionTtlMs > 0) this.versions.set(url, { value });
  }

  /** One request, following approved redirects. */
  private async send(url: string, method: 'GET' | 'HEAD', headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    let current = parseHttpUrl(url);
    for (let hop = 0; ; hop++) {
      const response = await this.agent.request({
        origin: current.origin,
        path: `${current.pathname}${current.search}`,
        method,
        headers: { ...this.baseHeaders, ...headers },
        signal,
      });
      if (![301, 302, 303, 307, 308].includes(response.statusCode)) return response;
      await discard(response.body);
      const location = header(response.headers, 'location');
      if (location === undefined) throw new SourceError('bad-response', `${url} answered ${response.statusCode} without a Location`);
      let target: URL;
      try {
        target = new URL(location, current);
      } catch {
        throw new SourceError('bad-response', `${url} redirects to an invalid location ${JSON.stringify(location)}`);
      }
      if (hop >= this.maxRedirects) throw new SourceError('bad-response', `${url}: more than ${this.maxRedirects} redirects`);
      const allowed = (target.protocol === 'http:' || target.protocol === 'https:') && (this.options.followRedirect?.(target.href) ?? false);
      if (!allowed) {
        throw new SourceError('bad-response', `${url} redirects to ${target.href}, which is not followed (only redirects into the allowed sources are)`);
      }
      current = target;
    }
  }

  private async withRetries<T>(url: string, signal: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries++) {
      signal?.throwIfAborted();
      const controller = new AbortController();
      const deadline = setTimeout(() => controller.abort(new AttemptDeadline()), this.attemptTimeoutMs);
      const forward = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', forward, { once: true });
      try {
        return await attempt(controller.signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const timedOut = controller.signal.reason instanceof AttemptDeadline;
        const failure = timedOut ? new RetriableError('timeout', `${url} did not answer within ${this.attemptTimeoutMs} ms`, { cause: error }) : classify(url, error);
        if (!(failure instanceof RetriableError) || tries >= this.retries) throw failure;
      } finally {
        clearTimeout(deadline);
        signal?.removeEventListener('abort', forward);
      }
      await sleep(this.retryDelay(tries), signal);
    }
  }

  private retryDelay(tries: number): number {
    const delay = Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs * 2 ** tries);
    return delay * (0.5 + Math.random() / 2);
  }
}

/** Reads exactly `length` body bytes into one array. */
async function collect(url: string, body: Body, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (filled + chunk.byteLength > length) {
        throw new SourceError('bad-response', `${url} sent more than the ${length} bytes it announced`);
      }
      out.set(chunk, filled);
      filled += chunk.byteLength;
    }
  } catch (error) {
    throw bodyError(url, error, filled, length);
  }
  if (filled < length) throw new RetriableError('short-read', `${url}: the body ended after ${filled} of ${length} bytes`);
  return out;
}

/** Reads a body of unknown length, refusing more than `max` bytes. */
async function collectUpTo(url: string, body: Body, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > max) throw new SourceError('bad-response', `${url} is larger than the read limit of ${max} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    throw bodyError(url, error, total, undefined);
  }
  return concatBytes(chunks, total);
}

/** An error while a body streamed: timeouts stay timeouts; a dropped connection is a cut-short body. */
function bodyError(url: string, error: unknown, received: number, expected: number | undefined): Error {
  if (error instanceof SourceError) return error;
  const failure = classify(url, error);
  if (failure.failure === 'timeout' || !(failure instanceof RetriableError)) return failure;
  const of = expected === undefined ? '' : ` of ${expected}`;
  return new RetriableError('short-read', `${url}: the body ended after ${received}${of} bytes (${failure.message})`, { cause: error });
}

async function statusError(url: string, response: Response): Promise<SourceError> {
  await discard(response.body);
  const status = response.statusCode;
  if (status === 404 || status === 410) return new SourceError('not-found', `${url} answered ${status}`);
  if (status === 416) return new SourceError('short-read', `${url} answered 416: the referenced range starts beyond the end of the object`);
  if (status === 408 || status === 429 || status >= 500) return new RetriableError('unavailable', `${url} answered ${status}`);
  return new SourceError('bad-response', `${url} answered ${status}`);
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const TRANSIENT_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function classify(url: string, error: unknown): SourceError {
  if (error instanceof SourceError) return error;
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message || code : String(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new RetriableError('timeout', `${url}: ${detail} (${code})`, { cause: error });
  if (code !== undefined && TRANSIENT_CODES.has(code)) return new RetriableError('unavailable', `${url}: ${detail} (${code})`, { cause: error });
  if (code?.startsWith('HPE_') || (error instanceof Error && error.name === 'HTTPParserError')) {
    return new SourceError('bad-response', `${url}: malformed HTTP response (${detail})`, { cause: error });
  }
  return new SourceError('unavailable', `${url}: ${detail}`, { cause: error });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors, cause } = error as { code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return cause === undefined ? undefined : errorCode(cause);
}

async function checkEncoding(url: string, response: Response): Promise<void> {
  const encoding = header(response.headers, 'content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    await discard(response.body);
    throw new SourceError('bad-response', `${url} answered with Content-Encoding ${encoding}; byte ranges need the stored bytes`);
  }
}

async function discard(body: Body): Promise<void> {
  await body.dump({ limit: DISCARD_LIMIT }).catch(() => undefined);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = header(headers, 'content-length');
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const length = Number(value);
  return Number.isSafeInteger(length) ? length : undefined;
}

function parseHttpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SourceError('bad-response', `not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SourceError('bad-response', `not an http(s) URL: ${url}`);
  return parsed;
}

function checkRange(url: string, offset: number, length: number, max: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`invalid byte range of ${url}: offset ${offset}, length ${length}`);
  }
  if (length > max) throw new SourceError('bad-response', `${url}: a read of ${length} bytes is larger than the limit of ${max}`);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
