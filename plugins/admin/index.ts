import { type Context, Hono } from 'hono';
import { adminDecision } from '../../auth/authenticator.js';
import { CatalogError, datasetIdProblem } from '../../catalog/catalog-file.js';
import { reloadCatalog } from '../../catalog/catalog-reload.js';
import { addDataset, DatasetExistsError, type DatasetRecord, FileLockError, removeDataset } from '../../catalog/catalog-store.js';
import { headersOf } from '../../server/access-control.js';
import { HttpProblem } from '../../server/http/problem.js';
import { clientAddress, type RateLimitOptions, rateLimit } from '../../server/http/rate-limit.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';
import { datasetRecord } from './dataset-request.js';
import { readJsonBody } from './json-body.js';
import { validateRegistration } from './validate-registration.js';

/**
 * The admin API: register, replace and remove datasets of the catalog file.
 *
 * - `POST /admin/datasets` `{id, refs, title?, description?, license?, processing?, stac?}` →
 *   201 `{id, url}` (Location: the dataset's URL); 409 when the id exists.
 * - `PUT /admin/datasets/{id}` (same body, `id` optional) → 201 created or 200 replaced.
 * - `DELETE /admin/datasets/{id}` → 204; 404 when there is no such entry.
 *
 * `refs` is a path relative to the catalog file's directory. Before anything is written the
 * references are validated (parse, sane metadata, every chunk reference inside `sources.allow`):
 * 422 naming the offending reference, the catalog untouched; a `processing` block the processed
 * view cannot use is a 422 naming the setting. Writes go through catalog-store.ts
 * (lock, re-read, atomic replace) and the registry is reloaded at once, so this replica serves the
 * change when the response is sent; other replicas pick it up from the file (catalog-watch.ts).
 *
 * Auth: `Authorization: Bearer $STRATO_ADMIN_TOKEN`, or an OIDC access token holding one of its
 * issuer's `admin_roles` (catalog `auth:`; a valid token without it is 403). Without either the
 * admin API is off and its routes answer 404. Bodies must be `application/json` (415 otherwise) of at most
 * `maxBodyBytes` (64 KiB; 413 otherwise).
 *
 * Rate limit: a token bucket per client address (default 10 requests/s, burst 20; a request
 * failing authentication costs 5), checked before authentication; over it, 429 with Retry-After.
 */
export interface AdminPluginOptions {
  /** The Bearer token; default: `context.config.adminToken` (STRATO_ADMIN_TOKEN). */
  readonly token?: string;
  readonly maxBodyBytes?: number;
  /** Wait for the catalog lock before answering 503 (default 10 s). */
  readonly lockWaitMs?: number;
  /** Per-address rate limit (default: `context.config.adminRateLimit`: STRATO_ADMIN_RATE, STRATO_ADMIN_BURST, STRATO_ADMIN_FAILED_AUTH_COST). */
  readonly rateLimit?: RateLimitOptions;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const REALM = 'strato-admin';
const RETRY_AFTER_SECONDS = '2';

export function createAdminPlugin(options: AdminPluginOptions = {}): StratoPlugin {
  return {
    name: 'admin',
    version: '1.0.0',
    appRoutes(context: PluginContext) {
      const app = new Hono();
      const token = options.token ?? context.config.adminToken;
      // admin API off (no static token, no issuer with `admin_roles`): every admin path is a 404, as if it had no route
      app.use('/admin/*', async (c, next) => {
        if (!token && !context.access.authenticator.acceptsAdminTokens) throw new HttpProblem(404, 'Not Found', `no route for ${c.req.path}`);
        await next();
      });
      const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
      const store = { waitMs: options.lockWaitMs ?? 10_000 };
      const { registry, logger } = context;
      const catalogFile = () => registry.current.file;

      const register = async (c: Context, record: DatasetRecord, replace: boolean) => {
        await validateRegistration(record, registry, { stages: context.stages(), logger });
        const result = await storeCall(() => addDataset(catalogFile(), record, { ...store, replace }));
        await reloadCatalog(registry, { logger });
        logger.info(result.created ? 'dataset registered' : 'dataset replaced', { dataset: record.id, refs: record.refs });
        const url = new URL(`/datasets/${record.id}`, c.req.url).href;
        const served = registry.get(record.id) !== undefined;
        const problem = served ? undefined : registry.problems().find((p) => p.id === record.id)?.message;
        const body = { id: record.id, url, kerchunk: `${url}/kerchunk/`, served, ...(problem ? { problem } : {}) };
        return c.json(body, result.created ? 201 : 200, { location: url, 'cache-control': 'no-store' });
      };

      app.use('/admin/*', rateLimit(options.rateLimit ?? context.config.adminRateLimit));
      // failed authentication is worth an operator's attention (never the token that was sent)
      app.use('/admin/*', async (c, next) => {
        await next();
        if (c.res.status === 401) logger.warn('admin authentication failed', { requestId: c.get('requestId'), address: clientAddress(c), method: c.req.method, path: c.req.path });
      });
      // the static token, or an OIDC token with an admin role of its issuer (`admin_roles`)
      app.use('/admin/*', async (c, next) => {
        // Bearer only: the Basic form is for data clients that cannot send a header (netCDF-C)
        const header = c.req.header('authorization');
        const bearer = header !== undefined && /^Bearer /i.test(header);
        const decision = bearer
          ? await adminDecision(headersOf(c), token, context.access.authenticator)
          : token || context.access.authenticator.acceptsAdminTokens
            ? 'unauthenticated'
            : 'off';
        if (decision === 'allowed') return next();
        if (decision === 'off') throw new HttpProblem(404, 'Not Found', `no route for ${c.req.path}`);
        if (decision === 'unavailable') throw new HttpProblem(503, 'Service Unavailable', 'the token cannot be checked now; try again later', { 'retry-after': '30' });
        if (decision === 'forbidden') {
          throw new HttpProblem(403, 'Forbidden', 'the token does not grant the admin role', { 'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope"` });
        }
        const sent = c.req.header('authorization') !== undefined;
        throw new HttpProblem(401, 'Unauthorized', sent ? 'the Bearer token is not valid' : 'a Bearer token is required', {
          'www-authenticate': sent ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`,
        });
      });
      app.post('/admin/datasets', async (c) => register(c, datasetRecord(await readJsonBody(c.req.raw, limit)), false));
      app.put('/admin/datasets/:id', async (c) => {
        const id = checkedId(c.req.param('id'));
        return register(c, datasetRecord(await readJsonBody(c.req.raw, limit), id), true);
      });
      app.delete('/admin/datasets/:id', async (c) => {
        const id = checkedId(c.req.param('id'));
        const removed = await storeCall(() => removeDataset(catalogFile(), id, store));
        if (!removed) throw new HttpProblem(404, 'Not Found', `no dataset "${id}" in the catalog`);
        await reloadCatalog(registry, { logger });
        logger.info('dataset removed', { dataset: id });
        return c.body(null, 204, { 'cache-control': 'no-store' });
      });
      return app;
    },
  };
}

/** The admin plugin of the default set (token from `context.config.adminToken`: STRATO_ADMIN_TOKEN). */
export const adminPlugin: StratoPlugin = createAdminPlugin();

function checkedId(id: string | undefined): string {
  const problem = datasetIdProblem(id ?? '');
  if (problem) throw new HttpProblem(400, 'Bad Request', problem);
  return id as string;
}

/** Catalog store errors as problems: 409 exists or the catalog file refuses the change, 503 locked. */
async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DatasetExistsError) {
      throw new HttpProblem(409, 'Conflict', `${error.message}; use PUT /admin/datasets/${error.id} to replace it`);
    }
    if (error instanceof FileLockError) {
      throw new HttpProblem(503, 'Service Unavailable', `the catalog is busy: ${error.message}`, { 'retry-after': RETRY_AFTER_SECONDS });
    }
    // the catalog file as it is refuses the change (it cannot be read back, or the entry would not be valid in it)
    if (error instanceof CatalogError) throw new HttpProblem(409, 'Conflict', `the catalog file cannot be updated: ${error.message}`);
    throw error;
  }
}
