import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../log.js';
import type { AppMetrics } from '../metrics.js';

export interface AccessOptions {
  readonly logger: Logger;
  readonly metrics: AppMetrics;
  /** Requests slower than this (to response headers) are logged at info. Default 1000 ms. */
  readonly slowMs?: number;
  /** Log every request at info (default: only 5xx and slow ones; the rest at debug). */
  readonly logAll?: boolean;
}

/**
 * Times every request, counts it in the metrics under its matched route pattern, and writes one
 * access line: method, path (never the query string, which may carry secrets), route, status,
 * ms, bytes (when declared) and the request id. At PB scale most requests are cache-friendly
 * chunk reads, so the line is `debug` unless the request failed on our side (5xx) or was slow.
 * Request headers are never logged (no Authorization, no tokens).
 */
export function accessObserver({ logger, metrics, slowMs = 1000, logAll = false }: AccessOptions): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const done = metrics.requestStarted();
    try {
      await next();
    } finally {
      done();
    }
    const ms = performance.now() - started;
    const status = c.res.status;
    const route = routePattern(c);
    const length = c.res.headers.get('content-length');
    const bytes = length === null ? undefined : Number(length);
    metrics.requestDone({ route, method: c.req.method, status, seconds: ms / 1000, ...(bytes !== undefined && Number.isFinite(bytes) ? { bytes } : {}) });
    const fields = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      route,
      status,
      ms: Math.round(ms * 10) / 10,
      ...(bytes !== undefined ? { bytes } : {}),
    };
    if (logAll || status >= 500 || ms >= slowMs) logger.info('request', fields);
    else logger.debug('request', fields);
  };
}

/**
 * The pattern of the route that answered (`/datasets/:id/kerchunk/*`): the handler that ran last,
 * or when that was middleware (an error before the handler, say), the first route after it that
 * would have answered; `unmatched` when no route matches at all.
 */
export function routePattern(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = c.req.routeIndex; i < routes.length; i++) {
    const route = routes[i];
    if (route && route.method !== 'ALL') return route.path;
  }
  return 'unmatched';
}
