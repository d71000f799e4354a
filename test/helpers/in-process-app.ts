import type { Hono } from 'hono';
import { type DatasetEntry, loadCatalog } from '../../catalog/catalog-file.js';
import { DatasetRegistry } from '../../catalog/registry.js';
import { derivedOpener } from '../../derive/open-derived.js';
import { AccessControl } from '../../server/access-control.js';
import { createApp } from '../../server/app.js';
import { defaultPlugins } from '../../server/default-plugins.js';
import { createLogger, type Logger } from '../../server/log.js';
import { type AppMetrics, createMetrics } from '../../server/metrics.js';
import type { StratoPlugin } from '../../server/plugin.js';
import { processingProblem } from '../../server/stage.js';
import { stratoVersion } from '../../server/version.js';

/**
 * strato's app for a catalog without a socket: requests go straight to `app.request()` (hono),
 * for route tests that need no real client. What a listening server adds (connection limits,
 * Node's own refusals, client addresses) is tested with `startInProcess` or `spawnServer`.
 */
export interface InProcessApp {
  readonly app: Hono;
  readonly registry: DatasetRegistry;
  readonly metrics: AppMetrics;
  /** A request to the app; a path is resolved against http://localhost. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function openApp(catalogFile: string, plugins: readonly StratoPlugin[] = defaultPlugins, options: { readonly logger?: Logger } = {}): Promise<InProcessApp> {
  const catalog = await loadCatalog(catalogFile);
  const stages = plugins.flatMap((plugin) => (plugin.stage ? [plugin.stage] : []));
  const checkEntry = (entry: DatasetEntry) => processingProblem(stages, entry.processing);
  const registry = await DatasetRegistry.open(catalog, { checkEntry, servesProtected: true, openDerived: derivedOpener() });
  const metrics = createMetrics();
  const access = await AccessControl.open(registry, metrics);
  const app = createApp({ registry, plugins, logger: options.logger ?? createLogger('silent'), version: stratoVersion(), metrics, access });
  return {
    app,
    registry,
    metrics,
    request: async (path, init) => app.request(path, init),
    close: () => registry.close(),
  };
}
