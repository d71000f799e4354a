/**
 * strato's public API (`import { startServer } from 'strato'`): run the server in a process of
 * your own, or assemble the hono app around a registry; and the plugin contract, also offered
 * alone as `strato/plugin`.
 */

export { loadCatalog } from './catalog/catalog-file.js';
export type { Dataset } from './catalog/dataset.js';
export { DatasetRegistry } from './catalog/registry.js';
export type { ArrayValues, DatasetValues, NumericArray, Slice } from './kerchunk/array-values.js';
export { type AppOptions, createApp, RouteConflictError } from './server/app.js';
export { ConfigError, readConfig, type StratoConfig } from './server/config.js';
export { defaultPlugins } from './server/default-plugins.js';
export { createLogger, type Logger, type LogLevel } from './server/log.js';
export type { DatasetEnv, DatasetRoutes, PluginContext, StratoPlugin } from './server/plugin.js';
export { type RunningServer, type ServeOptions, startServer } from './server/serve.js';
export { ProcessingConfigError, type ProcessingStage, type StageArray, type StageStep } from './server/stage.js';
