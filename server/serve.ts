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
}

export interface RunningServer {
  readonly url: string;
  readonly registry: DatasetRegistry;
  close(): Promise<void>;
}

/** Loads the catalog, opens its datasets and listens. Resolves once the port is bound. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const catalog = await loadCatalog(options.catalog);
  const registry = await DatasetRegistry.open(catalog, { logger: options.logger });
  const plugins = [...(options.plugins ?? defaultPlugins), ...(await loadListedPlugins(catalog.fields.plugins, catalog.dir))];
  const codecs = new CodecPool(options.codecThreads);
  const app = createApp({ registry, plugins, logger: options.logger, version: stratoVersion(), codecs });
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
      await watcher.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      await codecs.close();
    },
  };
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
