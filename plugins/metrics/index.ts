import { Hono } from 'hono';
import { bearerCredential } from '../../server/http/bearer-auth.js';
import { HttpProblem } from '../../server/http/problem.js';
import { clientAddress } from '../../server/http/rate-limit.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

/**
 * Who may read `/metrics` (STRATO_METRICS):
 * - `loopback` (default): clients on this host (TCP peer 127.0.0.0/8 or ::1), e.g. a local
 *   Prometheus or node exporter; everyone else gets 404, as if there were no such route;
 * - `on`: everyone (a replica port only Prometheus can reach);
 * - `token`: `Authorization: Bearer $STRATO_METRICS_TOKEN` (401 otherwise);
 * - `off`: nobody (no route).
 */
export type MetricsAccess = 'off' | 'on' | 'loopback' | 'token';

export interface MetricsPluginOptions {
  readonly access?: MetricsAccess;
  /** For `token` (default: STRATO_METRICS_TOKEN). */
  readonly token?: string;
}

const MODES: readonly MetricsAccess[] = ['off', 'on', 'loopback', 'token'];

/** STRATO_METRICS and STRATO_METRICS_TOKEN; throws on an unknown mode or `token` without a token. */
export function metricsAccessFromEnv(env: NodeJS.ProcessEnv = process.env): { access: MetricsAccess; token?: string } {
  const text = env.STRATO_METRICS === undefined || env.STRATO_METRICS === '' ? 'loopback' : env.STRATO_METRICS;
  if (!MODES.includes(text as MetricsAccess)) throw new RangeError(`STRATO_METRICS must be one of ${MODES.join(', ')}, got "${text}"`);
  const token = env.STRATO_METRICS_TOKEN || undefined;
  return { access: text as MetricsAccess, ...(token ? { token } : {}) };
}

/** Whether a TCP peer address is this host (IPv4 loopback, also IPv4-mapped, or ::1). */
export function isLoopback(address: string): boolean {
  return /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(address) || address === '::1';
}

/**
 * `GET /metrics`: this process's Prometheus metrics in the text exposition format
 * (`text/plain; version=0.0.4`), to the clients STRATO_METRICS allows. With `--workers N` each
 * worker answers for itself; scrape the replicas directly (see README, Operating strato).
 */
export function createMetricsPlugin(options: MetricsPluginOptions = {}): StratoPlugin {
  return {
    name: 'metrics',
    version: '1.1.0',
    appRoutes(context: PluginContext) {
      const app = new Hono();
      const fromEnv = options.access === undefined ? metricsAccessFromEnv() : undefined;
      const access = options.access ?? fromEnv?.access ?? 'loopback';
      const token = options.token ?? fromEnv?.token;
      if (access === 'off') return app;
      if (access === 'token' && !token) throw new RangeError('STRATO_METRICS=token needs STRATO_METRICS_TOKEN');
      app.get('/metrics', async (c) => {
        if (access === 'loopback' && !isLoopback(clientAddress(c))) throw new HttpProblem(404, 'Not Found', `no route for ${c.req.path}`);
        if (access === 'token' && bearerCredential(c.req.header('authorization'), token as string) !== 'valid') {
          throw new HttpProblem(401, 'Unauthorized', 'a valid Bearer token is required', { 'www-authenticate': 'Bearer realm="strato-metrics"' });
        }
        const { text, contentType } = await context.metrics.render();
        return c.body(text, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
      });
      return app;
    },
  };
}

/** The metrics plugin of the default set (access from STRATO_METRICS when the app is built). */
export const metricsPlugin: StratoPlugin = createMetricsPlugin();
