/**
 * The plugin contract, for plugins written outside this repository
 * (`import type { StratoPlugin } from 'strato/plugin'`). Types only: a plugin imports hono itself.
 */
export type { Dataset } from './catalog/dataset.js';
export type { ArrayValues, DatasetValues, NumericArray, Slice } from './kerchunk/array-values.js';
export type { StratoConfig } from './server/config.js';
export type { DatasetEnv, DatasetRoutes, PluginContext, StratoPlugin } from './server/plugin.js';
export type { ProcessingStage, StageArray, StageStep } from './server/stage.js';
