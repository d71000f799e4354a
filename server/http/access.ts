import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../log.js';
import type { AppMetrics } from '../metrics.js';
import { declaredLength } from './served-body.js';

export interface AccessOptions {
  readonly logger: Logger;
  readonly metrics: AppMetrics;
  /** Requests slower than this (to response headers) are logged at info. Default 1000 ms. */
  readonly slowMs?: number;
  /** Log every request at info (default: only 5xx and slow ones; the rest at debug). */
  readonly logAll?: boolean;
}

/**
 * What to do once a request is answered: count it in the metrics under its matched route
 * pattern, and write one access line: method, path (never the query string, which may carry
 * secrets), route, status, ms, bytes (when declared) and the request id. At PB scale most
 * requests are cache-friendly chunk reads, so the line is `debug` unless the request failed on
 * our side (5xx) or was slow; a debug line is not even assembled when debug is off. Request
 * headers are never logged (no Authorization, no tokens). A request for a protected dataset adds
 * its access decision (`accessDecision`: dataset, access, subject and issuer or why the token was
 * refused) and is logged at info.
 */
export function accessRecorder({ logger, metrics, slowMs = 1000, logAll = false }: AccessOptions): (c: Context, started: number, requestId: string) => void {
  const debugOn = logger.isLevelEnabled?.('debug') ?? true;
  return (c, started, requestId) => {
    const ms = performance.now() - started;
    const response = c.res;
    const status = response.status;
    const route = routePattern(c);
    const bytes = declaredLength(response);
    const method = c.req.method;
    metrics.requestDone({ route, method, status, seconds: ms / 1000, ...(bytes !== undefined ? { bytes } : {}) });
    // a decision about a protected dataset (subject, dataset, allowed or refused; never the token) is always logged
    const decision = c.get('accessDecision');
    const info = logAll || status >= 500 || ms >= slowMs || decision !== undefined;
    if (!info && !debugOn) return;
    const fields = { requestId, method, path: c.req.path, route, status, ms: Math.round(ms * 10) / 10, ...(bytes !== undefined ? { bytes } : {}), ...decision };
    if (info) logger.info('request', fields);
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
