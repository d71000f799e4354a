import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { requestSignal } from '../../kerchunk/request-budget.js';
import type { DatasetEnv } from '../plugin.js';
import { nodeBindings } from './node-bindings.js';
import { notFound } from './problem.js';
import { canSendFile, type FileRange, type SendOutcome, sendFileResponse } from './sendfile.js';
import { respond, type ServedBody } from './served-body.js';
import { storeKey } from './store-key.js';
import { storeListing } from './store-listing.js';

/** A Zarr store face of a dataset: metadata documents and chunks by key. */
export interface StoreView {
  metadata(key: string): ServedBody | undefined;
  chunk(key: string, signal?: AbortSignal): Promise<ServedBody | undefined>;
}

/** A body that can also be sent as a stream read piece by piece (large chunks, whole-object references). */
export interface StreamableBody extends ServedBody {
  /** Bytes [start, end), read `STREAM_PIECE_BYTES` at a time as the client takes them. */
  stream(start: number, end: number, signal?: AbortSignal): ReadableStream<Uint8Array>;
  /**
   * Bytes [start, end) as a range of an open local file (sent by sendfile), or undefined when
   * they are not in one. Rejects as `read` would (a missing or too short file: the error answer).
   */
  file?(start: number, end: number, signal?: AbortSignal): Promise<BodyFile | undefined>;
}

/** A body's bytes in an open file; `done` (exactly once) when the send is over, however it ended. */
export interface BodyFile extends FileRange {
  done(outcome: SendOutcome): void;
}

/**
 * Answers of at least this many bytes whose body lies in a local file are sent by sendfile (see
 * sendfile.ts) when the socket allows. Measured on loopback, one process, 16 connections (README,
 * design notes): a sendfile answer costs ~100–130 µs more CPU per response than a read and a
 * write (thread hand-offs, the head in its own write, the end), and saves the copies: 50 KB
 * 264–269 vs 130–134 µs, 256 KB 314–353 vs 159–162 µs, 1 MiB 451–606 vs 587–717 µs, 2.3 MB
 * 953–1088 vs 1478–1805 µs. Below 1 MiB the usual path is cheaper.
 */
export const SENDFILE_MIN_BYTES = 1024 * 1024;

/** Longest wait for a client to take more bytes of a sendfile answer before its connection is cut. */
export const SENDFILE_STALL_MS = 30_000;

/** Answers larger than this are streamed (when the body can), in pieces of this size. */
export const STREAM_PIECE_BYTES = 4 * 1024 * 1024;

/**
 * The routes of a store view under `/datasets/{id}/<prefix>/{key}`. The root answers as a static
 * Zarr directory behind a web server would (GDAL's /vsicurl/ and tools that list a directory
 * first rely on it): `<prefix>` redirects to `<prefix>/`, which lists the root's documents and
 * its top-level groups and arrays (never chunks, so nothing listed can be missing).
 */
export function storeRoutes(viewOf: (dataset: Dataset) => StoreView, viewName: string): Hono<DatasetEnv> {
  const app = new Hono<DatasetEnv>();
  app.get('/', async (c) => {
    const path = new URL(c.req.url).pathname;
    // hono matches `<prefix>` and `<prefix>/` alike: a directory is named with its slash
    if (!path.endsWith('/')) return c.body(null, 301, { location: `${path.slice(path.lastIndexOf('/') + 1)}/`, 'cache-control': 'public, max-age=60' });
    const listing = await storeListing(viewOf(c.var.dataset), path);
    if (!listing) throw notFound(`the ${viewName} of "${c.var.dataset.id}" has no consolidated metadata to list`);
    return respond(c, listing);
  });
  app.get('/*', async (c) => {
    const key = storeKey(c);
    const view = viewOf(c.var.dataset);
    const body = view.metadata(key) ?? (await view.chunk(key, requestSignal() ?? c.req.raw.signal));
    if (!body) throw notFound(`no key "${key}" in the ${viewName} of "${c.var.dataset.id}"`);
    return isStreamable(body) ? respondStreaming(c, body) : respond(c, body);
  });
  return app;
}

/** Answers a store body as the store routes do (`respond`; streamed in pieces when large and streamable). */
export function respondStoreBody(c: Context, body: ServedBody): Promise<Response> {
  return isStreamable(body) ? respondStreaming(c, body) : respond(c, body);
}

function isStreamable(body: ServedBody): body is StreamableBody {
  return typeof (body as Partial<StreamableBody>).stream === 'function';
}

/**
 * `respond` (ETag, 304, Range, 416, HEAD — unchanged), except that a GET answer larger than one
 * piece is not read into memory at once: its first piece is read before the answer starts (so a
 * source that cannot be read still gets its proper error status), the rest streamed as the
 * client takes it. A source failing midway cuts the response short (the client sees fewer bytes
 * than Content-Length).
 */
async function respondStreaming(c: Context, body: StreamableBody): Promise<Response> {
  const signal = requestSignal() ?? c.req.raw.signal;
  let large: { start: number; end: number; first: Uint8Array } | undefined;
  let inFile: { file: BodyFile; start: number } | undefined;
  const outgoing = body.file && c.req.method === 'GET' ? nodeBindings(c)?.outgoing : undefined;
  const answer = await respond(c, {
    size: body.size,
    etag: body.etag,
    contentType: body.contentType,
    cacheControl: body.cacheControl,
    read: async (start, end) => {
      if (outgoing && end - start >= SENDFILE_MIN_BYTES && canSendFile(outgoing)) {
        const file = await body.file?.(start, end, signal);
        if (file) {
          inFile = { file, start };
          return EMPTY;
        }
      }
      if (end - start <= STREAM_PIECE_BYTES) return body.read(start, end);
      large = { start, end, first: await body.read(start, start + STREAM_PIECE_BYTES) };
      return new Uint8Array(0);
    },
  });
  if (inFile && outgoing) return sendAnswer(outgoing, answer, inFile.file, inFile.start, signal, body);
  if (!large) return answer;
  const { start, end, first } = large;
  const rest = body.stream(start + first.byteLength, end, signal);
  let sentFirst = false;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!sentFirst) {
          sentFirst = true;
          controller.enqueue(first);
          return;
        }
        reader ??= rest.getReader();
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel(reason) {
        await (reader ?? rest).cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, { status: answer.status, headers: answer.headers });
}

const EMPTY = new Uint8Array(0);

/**
 * For an answer written on the Node response itself (no hono Response): sends bytes
 * [start, end) of `body` with `status` and `headers` by sendfile when they lie in a local file
 * (`StreamableBody.file`), are at least SENDFILE_MIN_BYTES and `outgoing`'s socket allows (see
 * sendfile.ts). Resolves true once the head is written (the rest goes on; the response ends
 * by itself, or its connection is cut when the send fails), false with nothing written: then
 * answer the usual way. Rejects as `body.read` would when the file cannot be opened or is too
 * short (nothing written either).
 */
export async function sendBodyFile(
  outgoing: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: ServedBody,
  start: number,
  end: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (end - start < SENDFILE_MIN_BYTES || !isStreamable(body) || !body.file || !canSendFile(outgoing)) return false;
  const file = await body.file(start, end, signal);
  if (!file) return false;
  const sending = sendFileResponse(outgoing, status, headers, file, { signal, stallMs: SENDFILE_STALL_MS });
  if (!sending) {
    file.done({ end: 'aborted', bytes: 0 });
    return false;
  }
  void sending.then((outcome) => file.done(outcome));
  return true;
}

/**
 * Sends `answer`'s status and headers with the bytes of `file` by sendfile, and tells
 * @hono/node-server the response is sent (hono's own answer carries the status and the
 * Content-Length for the access log and the metrics). When the socket is no longer fit for it
 * (it changed while the file was opened), the bytes are read and sent the usual way.
 */
async function sendAnswer(outgoing: ServerResponse, answer: Response, file: BodyFile, start: number, signal: AbortSignal, body: StreamableBody): Promise<Response> {
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const sending = sendFileResponse(outgoing, answer.status, headers, file, { signal, stallMs: SENDFILE_STALL_MS });
  if (!sending) {
    file.done({ end: 'aborted', bytes: 0 });
    const bytes = await body.read(start, start + file.length);
    return new Response(bytes as Uint8Array<ArrayBuffer>, { status: answer.status, headers });
  }
  void sending.then((outcome) => file.done(outcome));
  return new Response(null, { status: answer.status, headers: { [ALREADY_SENT]: 'true', 'content-length': String(file.length) } });
}

/** The header of RESPONSE_ALREADY_SENT ('@hono/node-server/utils/response'): the listener writes nothing. */
const ALREADY_SENT = RESPONSE_ALREADY_SENT.headers.keys().next().value ?? 'x-hono-already-sent';
