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

/** One answered request, as the metrics and the access line see it. */
export interface AccessSample {
  readonly requestId: string;
  readonly method: string;
  /** The path, never the query string (it may carry secrets). */
  readonly path: string;
  /** The matched route pattern (`/datasets/:id/kerchunk/*`), `unmatched` when none. */
  readonly route: string;
  readonly status: number;
  /** `performance.now()` when the request began; the sample is taken when its answer starts. */
  readonly started: number;
  /** Content-Length, when declared. */
  readonly bytes?: number | undefined;
  /** The access decision about a protected dataset (never the token). */
  readonly decision?: Readonly<Record<string, string>> | undefined;
}

/**
 * What to do once a request is answered: count it in the metrics under its matched route
 * pattern, and write one access line: method, path (never the query string, which may carry
 * secrets), route, status, ms, bytes (when declared) and the request id. At PB scale most
 * requests are cache-friendly chunk reads, so the line is `debug` unless the request failed on
 * our side (5xx) or was slow; a debug line is not even assembled when debug is off. Request
 * headers are never logged (no Authorization, no tokens). A request for a protected dataset adds
 * its access decision (`accessDecision`: dataset, access, subject and issuer or why the token was
 * refused) and is logged at info. Used by the request frame (hono) and the fast lane alike.
 */
export function accessLog({ logger, metrics, slowMs = 1000, logAll = false }: AccessOptions): (sample: AccessSample) => void {
  const debugOn = logger.isLevelEnabled?.('debug') ?? true;
  return ({ requestId, method, path, route, status, started, bytes, decision }) => {
    const ms = performance.now() - started;
    metrics.requestDone(bytes !== undefined ? { route, method, status, seconds: ms / 1000, bytes } : { route, method, status, seconds: ms / 1000 });
    // a decision about a protected dataset (subject, dataset, allowed or refused; never the token) is always logged
    const info = logAll || status >= 500 || ms >= slowMs || decision !== undefined;
    if (!info && !debugOn) return;
    const fields = { requestId, method, path, route, status, ms: Math.round(ms * 10) / 10, ...(bytes !== undefined ? { bytes } : {}), ...decision };
    if (info) logger.info('request', fields);
    else logger.debug('request', fields);
  };
}

/** `accessLog` for a hono request: route, status, bytes and decision read from its context. */
export function accessRecorder(options: AccessOptions): (c: Context, started: number, requestId: string) => void {
  const record = accessLog(options);
  return (c, started, requestId) => {
    const response = c.res;
    record({
      requestId,
      method: c.req.method,
      path: c.req.path,
      route: routePattern(c),
      status: response.status,
      started,
      bytes: declaredLength(response),
      decision: c.get('accessDecision'),
    });
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
