import { datasetInfoPlugin } from '../plugins/dataset-info/index.js';
import { kerchunkPlugin } from '../plugins/kerchunk/index.js';
import { versionsPlugin } from '../plugins/versions/index.js';
import type { StratoPlugin } from './plugin.js';

/** The plugins every strato server loads. */
export const defaultPlugins: readonly StratoPlugin[] = [versionsPlugin, datasetInfoPlugin, kerchunkPlugin];
