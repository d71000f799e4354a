import type { Context } from 'hono';
import { requestHeader } from './node-bindings.js';

export const EXPOSED_HEADERS = 'Content-Length, Content-Range, Content-Type, ETag, Accept-Ranges, Retry-After, X-Request-Id';

/**
 * The headers every response carries, errors included: CORS `*` (strato serves public data
 * read-only to browsers — STAC Browser, zarr viewers — so no credentials are involved), and
 * `X-Content-Type-Options: nosniff` (browsers never guess a type we did not declare).
 */
export const EVERY_RESPONSE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['access-control-allow-origin', '*'],
  ['access-control-expose-headers', EXPOSED_HEADERS],
  ['x-content-type-options', 'nosniff'],
];

/** The answer to a CORS preflight (`OPTIONS`). */
export function preflight(c: Context): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
      'access-control-allow-headers': requestHeader(c, 'access-control-request-headers') ?? 'Range, If-None-Match, Content-Type, Authorization',
      'access-control-max-age': '86400',
      'x-content-type-options': 'nosniff',
    },
  });
}
