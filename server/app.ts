import { Hono, type MiddlewareHandler } from 'hono';
import { datasetIdProblem } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import type { DatasetRegistry } from '../catalog/registry.js';
import { DecodedChunkCache, datasetValues } from '../kerchunk/array-reader.js';
import type { DatasetValues } from '../kerchunk/array-values.js';
import { CodecError } from '../kerchunk/codecs/codec.js';
import { type ChunkCodecs, CodecPool, inlineCodecs } from '../kerchunk/codecs/codec-pool.js';
import type { ParquetReferenceStore } from '../kerchunk/parquet-references.js';
import type { ReferenceStore } from '../kerchunk/reference.js';
import { BudgetExceededError, type BudgetLimits } from '../kerchunk/request-budget.js';
import { SourceError, SourceForbiddenError } from '../kerchunk/sources/source-error.js';
import type { ChunkPeers } from '../views/chunk-peers.js';
import { DatasetViews } from '../views/dataset-views.js';
import type { DiskChunkCache } from '../views/disk-chunk-cache.js';
import { AccessControl, makePrivate } from './access-control.js';
import { readConfig, type StratoConfig } from './config.js';
import { type FastStoreFace, fastStoreLane, type NodeListener } from './http/fast-store.js';
import { HttpProblem, problemResponse } from './http/problem.js';
import { requestFrame } from './http/request-frame.js';
import type { StoreView } from './http/store-routes.js';
import type { Logger } from './log.js';
import { type AppMetrics, type CatalogState, createMetrics } from './metrics.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from './plugin.js';

export interface AppOptions {
  readonly registry: DatasetRegistry;
  readonly plugins: readonly StratoPlugin[];
  readonly logger: Logger;
  readonly version: string;
  /**
   * The settings (server/config.ts), also given to plugins as `context.config`; default: read
   * from `process.env` when the app is built. The options below win over it.
   */
  readonly config?: StratoConfig;
  /** Bytes of decoded source chunks kept in memory (default `config.decodedCacheBytes`: $STRATO_DECODED_CACHE_MB or 1/8 of the memory, shared by the server processes). */
  readonly decodedCacheBytes?: number;
  /** Bytes of encoded processed-view chunks kept in memory (default `config.encodedCacheBytes`: $STRATO_ENCODED_CACHE_MB or 1/16 of the memory, shared by the server processes). */
  readonly encodedCacheBytes?: number;
  /** The encoded-chunk tier on disk shared by the server processes (default none: memory only). */
  readonly diskCache?: DiskChunkCache | undefined;
  /** The other server processes sharing `diskCache` (views/chunk-peers.ts). */
  readonly chunkPeers?: ChunkPeers | undefined;
  /** Where chunks are decoded and encoded (default: on the calling thread). */
  readonly codecs?: ChunkCodecs;
  /** Where requests, caches and source reads are counted (default: a fresh registry of this app). */
  readonly metrics?: AppMetrics;
  /** Requests slower than this are logged at info (default `config.slowRequestMs`: 1000 ms). */
  readonly slowRequestMs?: number;
  /** Log an access line for every request at info (default `config.logAllRequests`: only 5xx and slow ones; the rest at debug). */
  readonly logAllRequests?: boolean;
  /**
   * Who may read protected datasets (default: an AccessControl of the registry's catalog whose
   * issuers' keys are fetched on first use; `startServer` loads them before listening).
   */
  readonly access?: AccessControl;
  /** Work one request may cause (default `config.budget`: STRATO_MAX_CHUNKS, STRATO_MAX_DECODED_MB, STRATO_MAX_REQUEST_SECONDS). */
  readonly budgetLimits?: BudgetLimits;
}

/** A plugin's routes collide with another's. Raised at start-up, never at request time. */
export class RouteConflictError extends Error {
  override readonly name = 'RouteConflictError';
}

/**
 * Assembles the hono app: CORS and error handling for every response, dataset resolution for
 * `/datasets/:id/...`, then each plugin's routes. The core knows datasets, not endpoints.
 */
export function createApp(options: AppOptions): Hono {
  return createServerApp(options).app;
}

/** The app and what a Node server puts in front of it. */
export interface ServerApp {
  readonly app: Hono;
  /**
   * The request listener of a Node server: the fast lane for hot store keys (fast-store.ts),
   * handing everything else to `fallback` (the app's own listener).
   */
  listener(fallback: NodeListener): NodeListener;
}

/** `createApp`, with the fast lane a listening server puts in front of it. */
export function createServerApp(options: AppOptions): ServerApp {
  const { registry, plugins, logger, version, codecs = inlineCodecs, metrics = createMetrics() } = options;
  const config = options.config ?? readConfig(process.env);
  // strict: false — `/datasets/{id}/` (xpublish's HTML view) and `/datasets/{id}` are one route.
  const app = new Hono({ strict: false });
  const frameOptions = {
    logger,
    metrics,
    slowMs: options.slowRequestMs ?? config.slowRequestMs,
    logAll: options.logAllRequests ?? config.logAllRequests,
    budget: options.budgetLimits ?? config.budget,
  };
  const frame = requestFrame(frameOptions);
  app.use('*', frame);
  metrics.watchCatalog(() => catalogState(registry));
  if (codecs instanceof CodecPool) metrics.watchCodecs(() => ({ threads: codecs.size, pending: codecs.pendingJobs }));
  const renderers = plugins.flatMap((plugin) => (plugin.renderProblem ? [plugin.renderProblem.bind(plugin)] : []));
  const errorAnswer = (error: Error, request: ErrorRequest) => errorResponse(error, request, logger, renderers);
  app.onError((error, c) => errorAnswer(error, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path }));
  app.notFound((c) => problemResponse(new HttpProblem(404, 'Not Found', `no route for ${c.req.path}`), c.req.path));

  const values = valuesReader(registry, codecs, new DecodedChunkCache(options.decodedCacheBytes ?? config.decodedCacheBytes, metrics.cache('decoded')));
  const stages = () => plugins.flatMap((plugin) => (plugin.stage ? [plugin.stage] : []));
  const views = new DatasetViews({
    sources: () => registry.sources,
    values,
    stages,
    codecs,
    encodedCacheBytes: options.encodedCacheBytes ?? config.encodedCacheBytes,
    encodedCacheObserver: metrics.cache('encoded'),
    diskCache: options.diskCache,
    chunkPeers: options.chunkPeers,
    version,
    diskCacheObserver: metrics.cache('encoded-disk'),
    logger,
  });
  const madeOnce = new WeakMap<(context: PluginContext) => unknown, unknown>();
  const access = options.access ?? AccessControl.create(registry, metrics);
  const context: PluginContext = {
    registry,
    access,
    logger,
    version,
    config,
    codecs,
    metrics,
    values,
    views,
    stages,
    plugins: () => plugins,
    shared: <T>(make: (context: PluginContext) => T): T => {
      if (!madeOnce.has(make)) madeOnce.set(make, make(context));
      return madeOnce.get(make) as T;
    },
  };
  const resolveDataset = datasetResolver(registry, access);
  app.use('/datasets/:id', resolveDataset);
  app.use('/datasets/:id/*', resolveDataset);

  const appRoutes = new Map<string, string>();
  const datasetPrefixes = new Map<string, string>();
  const stores: Array<{ readonly prefix: string; readonly routes: Hono<DatasetEnv>; readonly store: (dataset: Dataset) => StoreView }> = [];
  for (const plugin of plugins) {
    if (plugin.appRoutes) {
      const routes = plugin.appRoutes(context);
      for (const route of routes.routes) {
        if (route.method === 'ALL') continue;
        const signature = `${route.method} ${route.path}`;
        const owner = appRoutes.get(signature);
        if (owner) throw new RouteConflictError(`plugins "${owner}" and "${plugin.name}" both define ${signature}`);
        appRoutes.set(signature, plugin.name);
      }
      app.route('/', routes);
    }
    if (plugin.datasetRoutes) {
      const { prefix, app: routes, store } = plugin.datasetRoutes(context);
      const owner = datasetPrefixes.get(prefix);
      if (owner !== undefined) {
        throw new RouteConflictError(`plugins "${owner}" and "${plugin.name}" both serve /datasets/{id}/${prefix}`);
      }
      datasetPrefixes.set(prefix, plugin.name);
      app.route(prefix ? `/datasets/:id/${prefix}` : '/datasets/:id', routes);
      if (store && prefix) stores.push({ prefix, routes, store });
    }
  }
  const faces = fastFaces(app, stores, new Set([frame, resolveDataset]));
  const listener = (fallback: NodeListener): NodeListener =>
    faces.length === 0
      ? fallback
      : fastStoreLane(
          {
            ...frameOptions,
            faces,
            dataset: (id) => registry.get(id),
            isPublic: (dataset) => access.rulesOf(dataset).every((rule) => rule === undefined),
            errorAnswer,
          },
          fallback,
        );
  return { app, listener };
}

/**
 * The store faces the fast lane may answer: those no other route could answer a key of. A route
 * of another plugin or middleware that could match `/datasets/{id}/<prefix>/{key}` (other than the
 * request frame and the dataset resolver, which the lane stands in for) leaves the face to the app.
 */
function fastFaces(
  app: Hono,
  stores: ReadonlyArray<{ readonly prefix: string; readonly routes: Hono<DatasetEnv>; readonly store: (dataset: Dataset) => StoreView }>,
  standIns: ReadonlySet<unknown>,
): FastStoreFace[] {
  const faces: FastStoreFace[] = [];
  for (const { prefix, routes, store } of stores) {
    const own = new Set<unknown>(routes.routes.map((route) => route.handler));
    const pattern = `/datasets/:id/${prefix}/*`;
    const others = app.routes.filter(
      (route) => ['GET', 'HEAD', 'ALL'].includes(route.method) && !standIns.has(route.handler) && !own.has(route.handler) && mayMatchKeyUnder(route.path, prefix),
    );
    const answering = app.routes.some((route) => route.method === 'GET' && own.has(route.handler) && route.path === pattern);
    if (others.length === 0 && answering) faces.push({ prefix, route: pattern, view: store });
  }
  return faces;
}

/**
 * Whether a hono route pattern could match some `/datasets/{id}/<prefix>/{key...}`: compared
 * segment by segment, a parameter matches any segment; a wildcard, a parameter with a pattern of
 * its own (which may span segments) or an optional one could match anything from there on.
 */
export function mayMatchKeyUnder(pattern: string, prefix: string): boolean {
  const segments = pattern.split('/').filter((segment) => segment !== '');
  const wanted: ReadonlyArray<string | undefined> = ['datasets', undefined, prefix];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment.includes('*') || segment.includes('{') || segment.endsWith('?')) return true;
    if (segment.startsWith(':')) continue;
    const expected = wanted[i];
    if (i < wanted.length && expected !== undefined && segment !== expected) return false;
  }
  // literal or parameter segments all along: it matches keys only when it reaches past the prefix
  return segments.length > wanted.length;
}

/** One DatasetValues per opened dataset (a reloaded dataset is a new object), sharing one cache. */
function valuesReader(registry: DatasetRegistry, codecs: ChunkCodecs, cache: DecodedChunkCache): (dataset: Dataset) => DatasetValues {
  const readers = new WeakMap<Dataset, DatasetValues>();
  return (dataset) => {
    let reader = readers.get(dataset);
    if (!reader) {
      reader = datasetValues(dataset, registry.sources, cache, codecs);
      readers.set(dataset, reader);
    }
    return reader;
  };
}

function catalogState(registry: DatasetRegistry): CatalogState {
  const parquet = { bytes: 0, records: 0, loads: 0 };
  for (const dataset of registry.all()) {
    if (!isParquetStore(dataset.references)) continue;
    const stats = dataset.references.cacheStats();
    parquet.bytes += stats.bytes;
    parquet.records += stats.records;
    parquet.loads += stats.loads;
  }
  return { datasets: registry.ids().length, problems: registry.problems().length, parquet };
}

function isParquetStore(references: ReferenceStore): references is ParquetReferenceStore {
  return typeof (references as Partial<ParquetReferenceStore>).cacheStats === 'function';
}

/**
 * Resolves `/datasets/:id/...` and guards it: a protected dataset (or one derived from one) is
 * refused without the right token (401/403, access.ts), and every answer about it — chunks,
 * 304s, metadata, pages, errors — is made private after the route has answered, so no route's
 * own `public, immutable` reaches a shared cache.
 */
function datasetResolver(registry: DatasetRegistry, access: AccessControl): MiddlewareHandler<DatasetEnv> {
  return async (c, next) => {
    const id = c.req.param('id') ?? '';
    const problem = datasetIdProblem(id);
    if (problem) throw new HttpProblem(400, 'Bad Request', problem);
    const dataset = registry.get(id);
    if (!dataset) throw new HttpProblem(404, 'Not Found', `no dataset "${id}"`);
    const guarded = await access.guard(c, dataset);
    c.set('dataset', dataset);
    await next();
    if (!guarded) return;
    try {
      makePrivate(c.res.headers);
    } catch {
      // a response with immutable headers (Response.redirect, a fetched one): the same answer, made private
      const copy = new Response(c.res.body, c.res);
      makePrivate(copy.headers);
      c.res = undefined;
      c.res = copy;
    }
  };
}

const RETRY_AFTER_SECONDS = '5';

type ProblemRenderer = (status: number, message: string, path: string) => Response | undefined;

/** The request an error answers. */
interface ErrorRequest {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
}

/** The answer to an error, logged (5xx) once: the app's error handler and the fast lane's. */
function errorResponse(error: Error, { requestId, method, path }: ErrorRequest, logger: Logger, renderers: readonly ProblemRenderer[]): Response {
  const problem = toProblem(error);
  if (problem.status >= 500) {
    logger.warn('request failed', { requestId, method, path, status: problem.status, error: error.message });
  }
  if (problem.status === 500) logger.error('unexpected error', { requestId, path, stack: error.stack });
  const message = problem.detail ?? problem.title;
  const response = renderers.reduce<Response | undefined>((found, render) => found ?? render(problem.status, message, path), undefined) ?? problemResponse(problem, path);
  // a renderer of its own format (OPeNDAP) keeps the problem's headers (WWW-Authenticate, Retry-After)
  for (const [name, value] of Object.entries(problem.headers)) response.headers.set(name, value);
  response.headers.set('access-control-allow-origin', '*');
  return response;
}

function toProblem(error: Error): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof SourceForbiddenError) {
    return new HttpProblem(403, 'Forbidden', 'the reference points outside the allowed sources');
  }
  if (error instanceof BudgetExceededError) {
    return error.limit === 'wallMs'
      ? new HttpProblem(503, 'Service Unavailable', error.message, { 'retry-after': RETRY_AFTER_SECONDS })
      : new HttpProblem(413, 'Content Too Large', error.message);
  }
  if (error.name === 'AbortError') {
    // the client went away: nobody reads this answer
    return new HttpProblem(503, 'Service Unavailable', 'the request was cancelled');
  }
  if (error instanceof CodecError) {
    return new HttpProblem(502, 'Bad Gateway', `a source chunk could not be decoded: ${error.message}`);
  }
  if (error instanceof SourceError) {
    switch (error.failure) {
      case 'timeout':
        return new HttpProblem(504, 'Gateway Timeout', 'the source did not answer in time', { 'retry-after': RETRY_AFTER_SECONDS });
      case 'unavailable':
        return new HttpProblem(503, 'Service Unavailable', 'the source is unavailable', { 'retry-after': RETRY_AFTER_SECONDS });
      default:
        return new HttpProblem(502, 'Bad Gateway', `the source could not be read (${error.failure})`);
    }
  }
  return new HttpProblem(500, 'Internal Server Error', 'unexpected error; see the server log');
}
