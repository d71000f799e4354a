import type { Server } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener, type ServerType } from '@hono/node-server';
import { type DatasetEntry, loadCatalog } from '../catalog/catalog-file.js';
import { reloadCatalog } from '../catalog/catalog-reload.js';
import { watchCatalog } from '../catalog/catalog-watch.js';
import { DatasetRegistry } from '../catalog/registry.js';
import { derivedOpener } from '../derive/open-derived.js';
import { watchDirSettings, watchReferenceDir } from '../ingest/watch-dir.js';
import { CodecPool } from '../kerchunk/codecs/codec-pool.js';
import type { BudgetLimits } from '../kerchunk/request-budget.js';
import { ReadBudget } from '../kerchunk/sources/read-budget.js';
import type { ChunkPeers } from '../views/chunk-peers.js';
import { DiskChunkCache } from '../views/disk-chunk-cache.js';
import { AccessControl } from './access-control.js';
import { createServerApp } from './app.js';
import { CONNECTION_DEFAULTS, type ConnectionLimits, readConfig, type StratoConfig } from './config.js';
import { defaultPlugins } from './default-plugins.js';
import { answerClientErrors, malformedRequestResponse } from './http/client-errors.js';
import type { NodeListener } from './http/fast-store.js';
import type { Logger } from './log.js';
import { createMetrics } from './metrics.js';
import type { StratoPlugin } from './plugin.js';
import { loadListedPlugins } from './plugin-loader.js';
import { processingProblem } from './stage.js';
import { stratoVersion } from './version.js';
import { warmCodecs } from './warm-codecs.js';
import { warmRoutes, warmServingPath } from './warm-start.js';

export interface ServeOptions {
  readonly catalog: string;
  readonly port: number;
  readonly host: string;
  readonly logger: Logger;
  /**
   * The settings (server/config.ts), passed to the app and its plugins; default: read from
   * `process.env` when the server starts. The options below win over it.
   */
  readonly config?: StratoConfig;
  readonly plugins?: readonly StratoPlugin[];
  /** Codec worker threads (default: one per core; with several server processes, their share). */
  readonly codecThreads?: number;
  /** How long `close` lets in-flight requests finish before cutting their connections (default `config.drainMs`: 10 s). */
  readonly drainMs?: number;
  /** Requests slower than this are logged at info (default `config.slowRequestMs`: 1000 ms). */
  readonly slowRequestMs?: number;
  /** Log every request at info (default `config.logAllRequests`). */
  readonly logAllRequests?: boolean;
  /** Work one request may cause (default `config.budget`: the STRATO_MAX_* variables). */
  readonly budgetLimits?: BudgetLimits;
  /** Connection limits and timeouts of the listening socket (default `config.connections`; what is left out: CONNECTION_DEFAULTS). */
  readonly connections?: Partial<ConnectionLimits>;
  /** The other server processes of `--workers N` sharing the disk tier (server/chunk-peers.ts). */
  readonly chunkPeers?: ChunkPeers | undefined;
}

export interface RunningServer {
  readonly url: string;
  readonly registry: DatasetRegistry;
  /**
   * Graceful stop: no new connections, idle keep-alive connections closed, in-flight requests
   * answered (connections still busy after the drain deadline are cut), then the catalog watcher,
   * sources and codec threads closed. Resolves to whether every request finished in time.
   */
  close(): Promise<boolean>;
}

/** Loads the catalog, opens its datasets and listens. Resolves once the port is bound. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const config = options.config ?? readConfig(process.env);
  const catalog = await loadCatalog(options.catalog);
  const watchDir = watchDirSettings(catalog); // `catalog: {watch_dir}`: a malformed block stops the start
  const metrics = createMetrics({ processMetrics: true });
  const plugins = [...(options.plugins ?? defaultPlugins), ...(await loadListedPlugins(catalog.fields.plugins, catalog.dir))];
  const stages = plugins.flatMap((plugin) => (plugin.stage ? [plugin.stage] : []));
  // an entry whose `processing` block the stages refuse is left out (and named in /health), not served with a broken /zarr
  const checkEntry = (entry: DatasetEntry) => processingProblem(stages, entry.processing);
  // source bytes in flight, across every request of this server (STRATO_MAX_READ_MB, STRATO_READ_WAIT_SECONDS)
  const readBudget = new ReadBudget(config.readBudget.maxBytes, config.readBudget.maxWaitMs);
  // derived datasets decode their source chunks in the codec pool once it is there
  let poolForDerived: CodecPool | undefined;
  const openDerived = derivedOpener({ codecs: () => poolForDerived });
  // protected datasets are served: every face and listing checks access (server/access-control.ts)
  const registry = await DatasetRegistry.open(catalog, { logger: options.logger, sourceObserver: metrics.sources, checkEntry, readBudget, openDerived, servesProtected: true });
  // the issuers' discovery and keys, fetched before listening (an unreachable one is retried on use)
  const access = await AccessControl.open(registry, metrics);
  const codecs = new CodecPool(options.codecThreads);
  poolForDerived = codecs;
  // the first chunks of a fresh process as fast as later ones
  await warmCodecs(codecs, codecs.size);
  // …and the request path: a made-up dataset served once by a throwaway app (server/warm-start.ts)
  await warmServingPath({ codecs, plugins: defaultPlugins, config, version: stratoVersion(), diskCache: config.diskCache.maxBytes !== 0, logger: options.logger });
  // the encoded-chunk tier all server processes share (STRATO_CACHE_DIR, STRATO_DISK_CACHE_MB; 0: off)
  const diskCache = config.diskCache.maxBytes === 0 ? undefined : await DiskChunkCache.open({ ...config.diskCache, logger: options.logger });
  const limits = connectionLimits(options.connections ?? config.connections);
  let server: ServerType;
  try {
    const { app, listener } = createServerApp({
      registry,
      plugins,
      logger: options.logger,
      version: stratoVersion(),
      config,
      codecs,
      metrics,
      access,
      slowRequestMs: options.slowRequestMs ?? config.slowRequestMs,
      logAllRequests: options.logAllRequests ?? config.logAllRequests,
      budgetLimits: options.budgetLimits ?? config.budget,
      diskCache,
      chunkPeers: options.chunkPeers,
    });
    warmRoutes(app);
    server = await listen(listener(getRequestListener(app.fetch, { hostname: options.host, errorHandler: malformedRequestResponse })), options.port, options.host, limits);
  } catch (error) {
    // nothing is served: let go of what was opened, so the process can exit with the error
    await registry.close();
    await codecs.close();
    throw error;
  }
  // Replicas share nothing but the catalog file: every change to it is applied here.
  const watcher = watchCatalog(registry, { logger: options.logger });
  // a directory of reference sets kept registered in the catalog file (ingest/watch-dir.ts)
  const dirWatcher = watchDir ? watchReferenceDir(catalog.file, watchDir, { logger: options.logger, reload: () => reloadCatalog(registry) }) : undefined;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  options.logger.info('listening', {
    url,
    catalog: catalog.file,
    datasets: registry.ids().length,
    problems: registry.problems().length,
    maxConnections: limits.maxConnections,
    headersTimeoutMs: limits.headersTimeoutMs,
    requestTimeoutMs: limits.requestTimeoutMs,
    keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
  });
  let refusedConnections = 0;
  let refusalLogged = 0;
  (server as Server).on('connection-refused', () => {
    refusedConnections++;
    // at most one line a minute however hard the cap is hit
    if (Date.now() - refusalLogged < 60_000) return;
    refusalLogged = Date.now();
    options.logger.warn('connection limit reached: new connections are closed at once', { maxConnections: limits.maxConnections, refusedSoFar: refusedConnections });
  });
  return {
    url,
    registry,
    close: async () => {
      const drained = await drain(server as Server, options.drainMs ?? config.drainMs);
      await dirWatcher?.close();
      await watcher.close();
      await registry.close();
      await codecs.close();
      return drained;
    },
  };
}

/** How often idle keep-alive connections are closed while draining (a busy one turns idle once answered). */
const IDLE_SWEEP_MS = 100;

/**
 * Stops listening, closes idle keep-alive connections at once and every connection as soon as
 * it turns idle, and waits for the busy ones up to `deadlineMs`; then cuts what is left.
 */
function drain(server: Server, deadlineMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let inTime = true;
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => {
      inTime = false;
      server.closeAllConnections();
    }, deadlineMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve(inTime);
    });
    server.closeIdleConnections();
  });
}

/** The limits with defaults filled in and checked; the request timeout is raised to the headers timeout. */
export function connectionLimits(given: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const limits = { ...CONNECTION_DEFAULTS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  if (!Number.isInteger(limits.maxConnections) || limits.maxConnections < 1) throw new RangeError(`maxConnections must be a positive integer, got ${limits.maxConnections}`);
  if (limits.headersTimeoutMs <= 0) throw new RangeError('headersTimeoutMs must be positive');
  const requestTimeoutMs = limits.requestTimeoutMs === 0 ? 0 : Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs);
  // check often enough that a timed-out client is dropped close to its deadline
  const checkIntervalMs = Math.max(100, Math.min(limits.checkIntervalMs, Math.floor(limits.headersTimeoutMs / 2)));
  return { ...limits, requestTimeoutMs, checkIntervalMs };
}

/**
 * At most `max` open connections: one over it is closed as soon as it is accepted (and
 * 'connection-refused' emitted). Counted here rather than with `server.maxConnections`, which in a
 * cluster worker makes the primary hand a refused connection to the next worker and back again,
 * round and round at full CPU, and every new client hangs while the cap is held.
 */
function capConnections(server: Server, max: number): void {
  let open = 0;
  server.on('connection', (socket: Socket) => {
    if (open >= max) {
      socket.destroy();
      server.emit('connection-refused');
      return;
    }
    open++;
    socket.once('close', () => open--);
  });
}

function listen(listener: NodeListener, port: number, hostname: string, limits: ConnectionLimits): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    // Requests Node or node-server refuse before the app sees them still get a JSON problem with CORS.
    const server = createHttpServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: limits.checkIntervalMs,
      },
      listener,
    );
    capConnections(server, limits.maxConnections);
    answerClientErrors(server);
    server.once('error', reject);
    server.listen(port, hostname, () => resolve(server));
  });
}
