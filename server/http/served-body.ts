import type { Context } from 'hono';
import { ifNoneMatchHits } from './etag.js';
import { requestHeader } from './node-bindings.js';
import { parseRange } from './range.js';

/** What a route knows of a body before reading it: enough to decide the answer (`answerOf`). */
export interface BodyFacts {
  readonly size: number;
  readonly etag: string;
  readonly contentType: string;
  readonly cacheControl: string;
}

/**
 * Something a route serves: known size and ETag up front, bytes read only for the part asked
 * (HEAD reads nothing, a Range reads its slice).
 */
export interface ServedBody extends BodyFacts {
  /** Bytes [start, end) of the body. */
  read(start: number, end: number): Promise<Uint8Array>;
  /** The whole body, when it is in memory already (an answer can then be written at once, without waiting for `read`). */
  readonly bytes?: Uint8Array;
}

/** A ServedBody over bytes already in memory. */
export function bytesBody(bytes: Uint8Array, etag: string, contentType: string, cacheControl: string): ServedBody {
  return { size: bytes.byteLength, etag, contentType, cacheControl, bytes, read: async (start, end) => bytes.subarray(start, end) };
}

/**
 * How a GET/HEAD for a body is answered (RFC 9110): 304 when If-None-Match hits its ETag, 416
 * (a problem document) for a Range past its end, else 200 or 206 with bytes [start, end) — none
 * sent for HEAD (`send: false`), though Content-Length still declares them. `fields` are the
 * answer's headers as a flat list of names and values, as `ServerResponse.writeHead` takes them
 * (a fresh object per answer costs Node several µs to walk; `headersObject` makes one for a Response),
 * after the fields the caller led with (`answerOf`'s `head`).
 */
export type Answer =
  | { readonly status: 304; readonly fields: string[] }
  | { readonly status: 416; readonly fields: string[]; readonly problem: string }
  | { readonly status: 200 | 206; readonly fields: string[]; readonly start: number; readonly end: number; readonly send: boolean };

/**
 * The answer to `method` (GET or HEAD) with the request's If-None-Match and Range headers: the
 * one decision both the routes (`respond`) and the server's fast lane (fast-store.ts) write out.
 * `head`: fields the answer's own are appended to, becoming its `fields` (the lane leads with
 * the headers every answer carries: one array per answer, not three).
 */
export function answerOf(method: string, ifNoneMatch: string | undefined, rangeHeader: string | undefined, body: BodyFacts, head: string[] = []): Answer {
  if (ifNoneMatchHits(ifNoneMatch, body.etag)) {
    // the Content-Type it would have (a cache updates its stored headers from a 304: without one,
    // @hono/node-server would send text/plain)
    head.push('content-type', body.contentType, 'cache-control', body.cacheControl, 'etag', body.etag, 'accept-ranges', 'bytes');
    return { status: 304, fields: head };
  }
  const range = parseRange(rangeHeader, body.size);
  if (range === 'unsatisfiable') {
    head.push('content-type', 'application/problem+json', 'cache-control', body.cacheControl, 'etag', body.etag, 'accept-ranges', 'bytes', 'content-range', `bytes */${body.size}`);
    return {
      status: 416,
      problem: JSON.stringify({ type: 'about:blank', title: 'Range Not Satisfiable', status: 416, detail: `the body has ${body.size} bytes` }),
      fields: head,
    };
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? body.size;
  head.push('content-type', body.contentType, 'cache-control', body.cacheControl, 'etag', body.etag, 'accept-ranges', 'bytes', 'content-length', String(end - start));
  if (range) head.push('content-range', `bytes ${start}-${end - 1}/${body.size}`);
  return { status: range ? 206 : 200, fields: head, start, end, send: method !== 'HEAD' };
}

/** Flat header fields (`Answer.fields`) as an object (@hono/node-server writes it as is; a Headers object costs a conversion per response). */
export function headersObject(fields: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) headers[fields[i] as string] = fields[i + 1] as string;
  return headers;
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

/** Answers GET/HEAD with ETag/If-None-Match (304), single Range (206/416) and Cache-Control (`answerOf`). */
export async function respond(c: Context, body: ServedBody): Promise<Response> {
  const answer = answerOf(c.req.method, requestHeader(c, 'if-none-match'), requestHeader(c, 'range'), body);
  const { status } = answer;
  const headers = headersObject(answer.fields);
  switch (answer.status) {
    case 304:
      return new Response(null, { status, headers });
    case 416:
      return new Response(answer.problem, { status, headers });
    default: {
      const { start, end } = answer;
      const response = answer.send ? new Response((await body.read(start, end)) as Uint8Array<ArrayBuffer>, { status, headers }) : new Response(null, { status, headers });
      lengths.set(response, end - start);
      return response;
    }
  }
}
