import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { nativeAddonPath } from '../../kerchunk/codecs/native.js';

/**
 * Responses whose body is a byte range of a local file, sent with sendfile(2) by the
 * `strato_sendfile` addon (native/sendfile.c): the bytes go from the page cache to the socket
 * without being read into JavaScript memory and copied out again.
 *
 * - Only plain TCP sockets (never TLS), only when this response owns its socket with nothing
 *   waiting to be written (a pipelined predecessor still being sent, a response already
 *   started, a busy socket → the caller's own read+write path).
 * - The head is the one Node makes (`writeHead`, with Content-Length): the addon sends its bytes
 *   itself, just before the body and in the same segments, and Node's response is marked as
 *   having sent its head, so Node never writes it again. A range in the page cache is sent at
 *   once, on this thread, as far as the socket takes it (nginx's way: the socket is
 *   non-blocking); the rest, or a range not in the page cache, goes on with dup()ed descriptors
 *   (see native/sendfile.c). Then the response is ended with no body, so Node goes on with
 *   keep-alive and pipelined requests as after any response.
 * - Bounds: at most `MAX_JOBS` sends alive per process (more → the caller's path); at most
 *   half of libuv's thread pool (UV_THREADPOOL_SIZE, default 4 → 2) sending at once (file reads
 *   use the pool too); a socket that takes no byte for `stallMs` (default 30 s) ends the send;
 *   the client going away (`signal`), `deadlineMs` or `abortAllSends()` (shutdown) end it at once.
 * - Any end other than "all sent" cuts the connection: the client sees fewer bytes than
 *   Content-Length, never other bytes.
 *
 * Without the addon (not built, not Linux, `STRATO_NATIVE=0`) `sendfileAvailable` is false and
 * callers serve as before.
 */

interface SendfileAddon {
  /** `true`: head and range all sent within the call (`done` is never called). */
  start(socketFd: number, fileFd: number, offset: number, length: number, stallMs: number, done: (result: number, sent: number) => void, head?: Uint8Array): object | true;
  abort(job: object): void;
  configure(maxWorkers: number, inlineBytes?: number): void;
  stats(): [alive: number, working: number, queued: number, waits: number, inline: number, poolWorks: number];
}

/** How a send ended. */
export type SendEnd = 'sent' | 'short' | 'aborted' | 'stalled' | 'failed';

export interface SendOutcome {
  readonly end: SendEnd;
  /** Body bytes that left (the head not counted). */
  readonly bytes: number;
  /** What failed (errno text), for `failed`. */
  readonly error?: string;
}

/** Where a response's body lies: `length` bytes of the open file `fd` from `offset`. */
export interface FileRange {
  /** An open descriptor of a regular file; it must stay open until `sendFileResponse` settles. */
  readonly fd: number;
  readonly offset: number;
  readonly length: number;
}

export interface SendFileOptions {
  /** The client went away, or the server stops: the send ends, the connection is cut. */
  readonly signal?: AbortSignal | undefined;
  /** Longest wait for the client to take more bytes (default 30 s). */
  readonly stallMs?: number;
  /** Longest whole send (default: none beyond the stall bound). */
  readonly deadlineMs?: number;
}

/** Sends alive at once in a process (each holds two descriptors); more are served the usual way. */
export const MAX_JOBS = 256;
const DEFAULT_STALL_MS = 30_000;
const DEFAULT_INLINE_BYTES = 0;
const MAX_INLINE_BYTES = 4 * 1024 * 1024;
function poolShare(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE);
  return Math.max(1, Math.floor((Number.isInteger(pool) && pool > 0 ? Math.min(pool, 1024) : 4) / 2));
}

function load(): SendfileAddon | undefined {
  if (process.env.STRATO_NATIVE === '0' || process.platform !== 'linux') return undefined;
  const path = nativeAddonPath('strato_sendfile.node');
  if (!path) return undefined;
  try {
    const addon = createRequire(import.meta.url)(path) as SendfileAddon;
    addon.configure(poolShare(), inlineBytes);
    return addon;
  } catch {
    return undefined;
  }
}

/**
 * Bytes of a range in the page cache sent on the event loop per turn (`STRATO_SENDFILE_INLINE`,
 * at most 4 MiB). 0 (the default, by measurement: README, design notes): the head is written by
 * Node and every send runs on the thread pool.
 */
function inlineOf(value: string | number | undefined): number {
  const bytes = Number(value ?? DEFAULT_INLINE_BYTES);
  return Number.isInteger(bytes) && bytes >= 0 ? Math.min(bytes, MAX_INLINE_BYTES) : DEFAULT_INLINE_BYTES;
}
let inlineBytes = inlineOf(process.env.STRATO_SENDFILE_INLINE);
let inlineSends = inlineBytes > 0;
const addon = load();
const active = new Set<() => void>();
let started = 0;

/**
 * Sets how many bytes of a range in the page cache are sent on the event loop per turn (0: none,
 * the head through Node and the send on the pool); as `STRATO_SENDFILE_INLINE` does at start.
 */
export function configureSendfile(options: { readonly inlineBytes: number }): void {
  inlineBytes = inlineOf(options.inlineBytes);
  inlineSends = inlineBytes > 0;
  addon?.configure(poolShare(), inlineBytes);
}

/** Whether sendfile can be used at all in this process (the addon loaded). */
export const sendfileAvailable: boolean = addon !== undefined;

export interface SendfileStats {
  /** Sends started since the process began. */
  readonly started: number;
  /** Sends alive now, on a pool thread now, waiting for one now. */
  readonly alive: number;
  readonly working: number;
  readonly queued: number;
  /** Times a send waited for its socket on the event loop. */
  readonly waits: number;
  /** Sends that ended within the call that started them (all in the page cache, the socket took it all). */
  readonly inline: number;
  /** Turns of a send on libuv's thread pool (ranges not in the page cache). */
  readonly poolWorks: number;
}

/** How sends went since the process began (tests, metrics). */
export function sendfileStats(): SendfileStats {
  if (!addon) return { started, alive: 0, working: 0, queued: 0, waits: 0, inline: 0, poolWorks: 0 };
  const [alive, working, queued, waits, inline, poolWorks] = addon.stats();
  return { started, alive, working, queued, waits, inline, poolWorks };
}

/** Ends every send in progress (their connections are cut): for a server that stops. */
export function abortAllSends(): void {
  for (const abort of [...active]) abort();
}

interface SocketInternals {
  readonly _handle?: { readonly fd?: number } | null;
  readonly _httpMessage?: unknown;
  readonly encrypted?: boolean;
}

/** Node's OutgoingMessage fields for its head: `_header` the head's text once made, `_headerSent` once written. */
interface OutgoingInternals {
  readonly _header?: unknown;
  _headerSent?: boolean;
}

/** The socket's descriptor when `outgoing` could be sent by sendfile now, else undefined. */
function sendableSocket(outgoing: ServerResponse): number | undefined {
  const socket = outgoing.socket;
  if (!addon || !socket || !(socket instanceof Socket) || active.size >= MAX_JOBS) return undefined;
  const internals = socket as unknown as SocketInternals;
  if (internals.encrypted || internals._httpMessage !== outgoing || socket.destroyed || !socket.writable) return undefined;
  if (socket.writableLength !== 0 || outgoing.headersSent || outgoing.writableEnded) return undefined;
  const fd = internals._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Whether `outgoing` can be answered by `sendFileResponse` now: the addon is there, the socket
 * is plain TCP, owned by this response, idle, and not too many sends are alive.
 */
export function canSendFile(outgoing: ServerResponse): boolean {
  return sendableSocket(outgoing) !== undefined;
}

const RESULTS: Record<number, SendEnd> = { 0: 'sent', 1: 'short', 2: 'aborted', 3: 'stalled' };
/** errno values of a peer that went away (EPIPE, ECONNRESET, ETIMEDOUT, EHOSTUNREACH): the client left, nothing failed here. */
const PEER_GONE = new Set([32, 104, 110, 113]);

function outcomeOf(result: number, bytes: number): SendOutcome {
  if (result >= 0) return { end: RESULTS[result] ?? 'failed', bytes };
  if (PEER_GONE.has(-result)) return { end: 'aborted', bytes };
  return { end: 'failed', bytes, error: `sendfile failed (errno ${-result})` };
}

/**
 * Answers `outgoing` with `status`, `headers` (their Content-Length is set to `file.length`)
 * and `file.length` bytes of `file.fd` from `file.offset`, by sendfile. Resolves with how it
 * ended (never rejects): `sent` → the response ended normally (keep-alive goes on); anything
 * else → the connection was cut. Undefined, with nothing written, when the response cannot be
 * sent this way (see `canSendFile`): the caller answers the usual way.
 */
export function sendFileResponse(
  outgoing: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  file: FileRange,
  options: SendFileOptions = {},
): Promise<SendOutcome> | undefined {
  const native = addon;
  if (!native || sendableSocket(outgoing) === undefined || options.signal?.aborted) return undefined;
  if (!Number.isSafeInteger(file.offset) || file.offset < 0 || !Number.isSafeInteger(file.length) || file.length < 0) {
    throw new RangeError(`invalid file range: offset ${file.offset}, length ${file.length}`);
  }
  const stallMs = Math.max(1, Math.min(options.stallMs ?? DEFAULT_STALL_MS, 600_000));
  const socket = outgoing.socket as Socket;
  const socketFd = sendableSocket(outgoing) as number;
  // Node makes the head (its text in `_header`, written with the first body bytes); the addon
  // sends those bytes itself, and Node is told they left, as `_send` tells itself
  try {
    outgoing.writeHead(status, { ...headers, 'content-length': String(file.length) });
  } catch (error) {
    // a header Node refuses: nothing written yet, the caller's way answers (and fails) as usual
    if (!outgoing.headersSent) return undefined;
    throw error;
  }
  const internals = outgoing as unknown as OutgoingInternals;
  const header = internals._header;
  if (typeof header !== 'string' || internals._headerSent) {
    socket.destroy();
    return Promise.resolve({ end: 'failed', bytes: 0, error: 'no response head to send' });
  }
  internals._headerSent = true;
  let settled = false;
  let job: object | true | undefined;
  let timer: NodeJS.Timeout | undefined;
  let resolveOutcome: (outcome: SendOutcome) => void = () => {};
  const abort = () => {
    if (job && job !== true) native.abort(job);
    else finish({ end: 'aborted', bytes: 0 });
  };
  const finish = (outcome: SendOutcome) => {
    if (settled) return;
    settled = true;
    active.delete(abort);
    options.signal?.removeEventListener('abort', abort);
    outgoing.off('close', abort);
    if (timer) clearTimeout(timer);
    if (outcome.end === 'sent') outgoing.end();
    else socket.destroy();
    resolveOutcome(outcome);
  };
  // ends the send when the client's signal aborts, the connection closes (also without a
  // signal) or the deadline passes; `finish` undoes it
  const watchForEnd = () => {
    active.add(abort);
    options.signal?.addEventListener('abort', abort, { once: true });
    outgoing.once('close', abort);
    if (options.deadlineMs !== undefined) timer = setTimeout(abort, options.deadlineMs).unref();
  };
  const startJob = (head: Uint8Array | undefined): boolean => {
    started++;
    try {
      job = native.start(socketFd, file.fd, file.offset, file.length, stallMs, (result, sent) => finish(outcomeOf(result, sent)), head);
      return true;
    } catch (startError) {
      // some bytes may have left: the connection is cut
      finish({ end: 'failed', bytes: 0, error: (startError as Error).message });
      return false;
    }
  };
  if (!inlineSends) {
    // the head through Node; the send once Node says it left
    internals._headerSent = false;
    job = undefined;
    const waiting = new Promise<SendOutcome>((resolve) => {
      resolveOutcome = resolve;
    });
    watchForEnd();
    outgoing.write('', (error) => {
      if (settled) return;
      if (error || socket.destroyed || (socket as unknown as SocketInternals)._httpMessage !== outgoing || socket.writableLength !== 0) {
        finish({ end: 'failed', bytes: 0, error: error ? error.message : 'the socket was busy or closed after the head' });
        return;
      }
      startJob(undefined);
    });
    return waiting;
  }
  let outcome: SendOutcome | undefined;
  resolveOutcome = (value) => {
    outcome = value;
  };
  if (!startJob(Buffer.from(header, 'latin1'))) return Promise.resolve(outcome as SendOutcome);
  if (job === true) {
    // all sent on this thread: nothing to wait for
    settled = true;
    outgoing.end();
    return Promise.resolve({ end: 'sent', bytes: file.length });
  }
  const sending = new Promise<SendOutcome>((resolve) => {
    resolveOutcome = resolve;
  });
  watchForEnd();
  return sending;
}
