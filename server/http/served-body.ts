import type { Context } from 'hono';
import { ifNoneMatchHits } from './etag.js';
import { requestHeader } from './node-bindings.js';
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

/** Content-Length of the answers made by `respond` (read back by the access log without parsing headers again). */
const lengths = new WeakMap<Response, number>();

/**
 * The Content-Length a response declares: as `respond` made it, else from its headers;
 * undefined when it declares none.
 */
export function declaredLength(response: Response): number | undefined {
  const known = lengths.get(response);
  if (known !== undefined) return known;
  const header = response.headers.get('content-length');
  const bytes = header === null ? Number.NaN : Number(header);
  return Number.isFinite(bytes) ? bytes : undefined;
}

/**
 * Answers GET/HEAD with ETag/If-None-Match (304), single Range (206/416) and Cache-Control.
 * Headers are a plain object (@hono/node-server writes it as is; a Headers object costs a
 * conversion per response).
 */
export async function respond(c: Context, body: ServedBody): Promise<Response> {
  if (ifNoneMatchHits(requestHeader(c, 'if-none-match'), body.etag)) {
    return new Response(null, { status: 304, headers: { 'cache-control': body.cacheControl, etag: body.etag, 'accept-ranges': 'bytes' } });
  }
  const range = parseRange(requestHeader(c, 'range'), body.size);
  if (range === 'unsatisfiable') {
    const problem = JSON.stringify({ type: 'about:blank', title: 'Range Not Satisfiable', status: 416, detail: `the body has ${body.size} bytes` });
    return new Response(problem, {
      status: 416,
      headers: {
        'content-type': 'application/problem+json',
        'cache-control': body.cacheControl,
        etag: body.etag,
        'accept-ranges': 'bytes',
        'content-range': `bytes */${body.size}`,
      },
    });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? body.size;
  const status = range ? 206 : 200;
  const headers: Record<string, string> = {
    'content-type': body.contentType,
    'cache-control': body.cacheControl,
    etag: body.etag,
    'accept-ranges': 'bytes',
    'content-length': String(end - start),
  };
  if (range) headers['content-range'] = `bytes ${start}-${end - 1}/${body.size}`;
  const response = c.req.method === 'HEAD' ? new Response(null, { status, headers }) : new Response((await body.read(start, end)) as Uint8Array<ArrayBuffer>, { status, headers });
  lengths.set(response, end - start);
  return response;
}
