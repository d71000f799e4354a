import type { MiddlewareHandler } from 'hono';

const EXPOSED = 'Content-Length, Content-Range, Content-Type, ETag, Accept-Ranges, Retry-After, X-Request-Id';

/**
 * CORS `*` on every response, errors included, and preflight answers. strato serves public
 * data read-only to browsers (STAC Browser, zarr viewers), so no credentials are involved.
 */
export const cors = (): MiddlewareHandler => async (c, next) => {
  if (c.req.method === 'OPTIONS') {
    return new Response(null, {
      status: 204,
      headers: {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
        'access-control-allow-headers': c.req.header('access-control-request-headers') ?? 'Range, If-None-Match, Content-Type, Authorization',
        'access-control-max-age': '86400',
      },
    });
  }
  await next();
  c.res.headers.set('access-control-allow-origin', '*');
  c.res.headers.set('access-control-expose-headers', EXPOSED);
  if (c.req.method === 'HEAD') {
    // hono answers HEAD with `new Response(null, getResponse)`; @hono/node-server's Response then
    // copies the headers the response was *created* with, dropping the ones set on it since (so a
    // HEAD error lost its CORS header). Hand it a response whose headers are the final ones (and
    // read nothing else of c.res first: its other getters also fall back to the creation headers).
    c.res = new Response(null, { status: c.res.status, headers: new Headers(c.res.headers) });
  }
  return undefined;
};
