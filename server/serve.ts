import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { getRequestListener, type ServerType } from '@hono/node-server';
import { loadCatalog } from '../catalog/catalog-file.js';
import { watchCatalog } from '../catalog/catalog-watch.js';
import { DatasetRegistry } from '../catalog/registry.js';
import { CodecPool } from '../kerchunk/codecs/codec-pool.js';
import { createApp } from './app.js';
import { answerClientErrors, malformedRequestResponse } from './http/client-errors.js';
import { defaultPlugins } from './default-plugins.js';
import type { Logger } from './log.js';
import { createMetrics } from './metrics.js';
import type { StratoPlugin } from './plugin.js';
import { loadListedPlugins } from './plugin-loader.js';
import { stratoVersion } from './version.js';

export interface ServeOptions {
  readonly catalog: string;
  readonly port: number;
  readonly host: string;
  readonly logger: Logger;
  readonly plugins?: readonly StratoPlugin[];
  /** Codec worker threads (default: one per core; with several server processes, their share). */
  readonly codecThreads?: number;
  /** How long `close` lets in-flight requests finish before cutting their connections (default 10 s). */
  readonly drainMs?: number;
  /** Requests slower than this are logged at info (default 1000 ms). */
  readonly slowRequestMs?: number;
  /** Log every request at info. */
  readonly logAllRequests?: boolean;
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

export const DEFAULT_DRAIN_MS = 10_000;

/** Loads the catalog, opens its datasets and listens. Resolves once the port is bound. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const catalog = await loadCatalog(options.catalog);
  const metrics = createMetrics({ processMetrics: true });
  const registry = await DatasetRegistry.open(catalog, { logger: options.logger, sourceObserver: metrics.sources });
  const plugins = [...(options.plugins ?? defaultPlugins), ...(await loadListedPlugins(catalog.fields.plugins, catalog.dir))];
  const codecs = new CodecPool(options.codecThreads);
  const app = createApp({
    registry,
    plugins,
    logger: options.logger,
    version: stratoVersion(),
    codecs,
    metrics,
    ...(options.slowRequestMs !== undefined ? { slowRequestMs: options.slowRequestMs } : {}),
    ...(options.logAllRequests !== undefined ? { logAllRequests: options.logAllRequests } : {}),
  });
  const server = await listen(app.fetch, options.port, options.host);
  // Replicas share nothing but the catalog file: every change to it is applied here.
  const watcher = watchCatalog(registry, { logger: options.logger });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  options.logger.info('listening', { url, catalog: catalog.file, datasets: registry.ids().length, problems: registry.problems().length });
  return {
    url,
    registry,
    close: async () => {
      const drained = await drain(server as Server, options.drainMs ?? DEFAULT_DRAIN_MS);
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

function listen(fetch: (request: Request) => Response | Promise<Response>, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    // Requests Node or node-server refuse before the app sees them still get a JSON problem with CORS.
    const server = createHttpServer(getRequestListener(fetch, { hostname, errorHandler: malformedRequestResponse }));
    answerClientErrors(server);
    server.once('error', reject);
    server.listen(port, hostname, () => resolve(server));
  });
}
