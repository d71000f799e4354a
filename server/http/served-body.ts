import type { Context } from 'hono';
import { ifNoneMatchHits } from './etag.js';
import { parseRange } from './range.js';

/**
 * Something a route serves: known size and ETag up front, bytes read only for the part asked
 * (HEAD reads nothing, a Range reads its slice).
 */
export interface ServedBody {
  readonly size: number;
  readonly etag: string;
  readonly contentType: string;
  readonly cacheControl: string;
  /** Bytes [start, end) of the body. */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A ServedBody over bytes already in memory. */
export function bytesBody(bytes: Uint8Array, etag: string, contentType: string, cacheControl: string): ServedBody {
  return { size: bytes.byteLength, etag, contentType, cacheControl, read: async (start, end) => bytes.subarray(start, end) };
}

/** Answers GET/HEAD with ETag/If-None-Match (304), single Range (206/416) and Cache-Control. */
export async function respond(c: Context, body: ServedBody): Promise<Response> {
  const headers = new Headers({
    'content-type': body.contentType,
    'cache-control': body.cacheControl,
    etag: body.etag,
    'accept-ranges': 'bytes',
  });
  if (ifNoneMatchHits(c.req.header('if-none-match'), body.etag)) {
    headers.delete('content-type');
    return new Response(null, { status: 304, headers });
  }
  const range = parseRange(c.req.header('range'), body.size);
  if (range === 'unsatisfiable') {
    headers.set('content-range', `bytes */${body.size}`);
    headers.set('content-type', 'application/problem+json');
    return new Response(JSON.stringify({ type: 'about:blank', title: 'Range Not Satisfiable', status: 416, detail: `the body has ${body.size} bytes` }), { status: 416, headers });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? body.size;
  const status = range ? 206 : 200;
  if (range) headers.set('content-range', `bytes ${start}-${end - 1}/${body.size}`);
  headers.set('content-length', String(end - start));
  if (c.req.method === 'HEAD') return new Response(null, { status, headers });
  const bytes = await body.read(start, end);
  return new Response(bytes as Uint8Array<ArrayBuffer>, { status, headers });
}
