import { Hono, type MiddlewareHandler } from 'hono';
import { bearerCredential } from '../../server/http/bearer-auth.js';
import { HttpProblem } from '../../server/http/problem.js';
import { clientAddress, type RateLimitOptions, rateLimit } from '../../server/http/rate-limit.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';

export interface VersionsPluginOptions {
  /** The admin token that unlocks the details of `/health` (default: `context.config.adminToken`, STRATO_ADMIN_TOKEN). */
  readonly adminToken?: string;
  /** Rate limit of `/health` requests that send a token (default: the admin API's, `context.config.adminRateLimit`). */
  readonly rateLimit?: RateLimitOptions;
}

const REALM = 'strato-admin';

/**
 * `/versions` (software versions), `/plugins` (what is loaded), `/health` (catalog state).
 *
 * `/health` is public: `{status, datasets, problems: [{id, reason}]}` where `reason` is a class
 * (`entry-invalid`, `references-unreadable`, `references-invalid`, `source-forbidden`,
 * `open-failed`; see catalog/registry.ts) and never a path, file contents or the allow list.
 * With `Authorization: Bearer $STRATO_ADMIN_TOKEN` each problem also has its full `message` (as
 * logged). A request with a token is rate limited like the admin API and a wrong token is a 401,
 * so `/health` is no way around the admin API's limit on guessing.
 */
export function createVersionsPlugin(options: VersionsPluginOptions = {}): StratoPlugin {
  return {
    name: 'versions',
    version: '1.1.0',
    appRoutes(context: PluginContext) {
      const app = new Hono();
      const token = options.adminToken ?? context.config.adminToken;
      app.get('/versions', (c) => c.json({ strato: context.version, node: process.versions.node, v8: process.versions.v8, platform: `${process.platform}-${process.arch}` }));
      app.get('/plugins', (c) => c.json(Object.fromEntries(context.plugins().map((plugin) => [plugin.name, { version: plugin.version }]))));
      if (token) {
        const limiter: MiddlewareHandler = rateLimit(options.rateLimit ?? context.config.adminRateLimit);
        app.use('/health', async (c, next) => (c.req.header('authorization') === undefined ? next() : limiter(c, next)));
      }
      app.get('/health', (c) => {
        const credential = token ? bearerCredential(c.req.header('authorization'), token) : 'none';
        if (credential === 'invalid') {
          context.logger.warn('admin authentication failed', { requestId: c.get('requestId'), address: clientAddress(c), method: c.req.method, path: c.req.path });
          throw new HttpProblem(401, 'Unauthorized', 'the Bearer token is not valid', { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_token"` });
        }
        const details = credential === 'valid';
        const problems = context.registry.problems();
        // a protected entry's id is named only to the admin (its existence is for its readers to know)
        const protectedIds = new Set(context.registry.current.datasets.filter((entry) => entry.access !== undefined).map((entry) => entry.id));
        return c.json(
          {
            status: problems.length === 0 ? 'ok' : 'degraded',
            datasets: details ? context.registry.ids().length : context.registry.all().filter((dataset) => dataset.entry.access === undefined).length,
            problems: problems.map(({ id, reason, message }) => (details ? { id, reason, message } : protectedIds.has(id) ? { reason } : { id, reason })),
          },
          200,
          { 'cache-control': 'no-store', ...(token ? { vary: 'Authorization' } : {}) },
        );
      });
      return app;
    },
  };
}

/** The versions plugin of the default set (admin token from `context.config.adminToken`: STRATO_ADMIN_TOKEN). */
export const versionsPlugin: StratoPlugin = createVersionsPlugin();
