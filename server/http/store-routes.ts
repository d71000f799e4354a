import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { requestSignal } from '../../kerchunk/request-budget.js';
import type { DatasetEnv } from '../plugin.js';
import { notFound } from './problem.js';
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
}

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
  const answer = await respond(c, {
    size: body.size,
    etag: body.etag,
    contentType: body.contentType,
    cacheControl: body.cacheControl,
    read: async (start, end) => {
      if (end - start <= STREAM_PIECE_BYTES) return body.read(start, end);
      large = { start, end, first: await body.read(start, start + STREAM_PIECE_BYTES) };
      return new Uint8Array(0);
    },
  });
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
