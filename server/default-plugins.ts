import { adminPlugin } from '../plugins/admin/index.js';
import { bitroundPlugin } from '../plugins/bitround/index.js';
import { catalogTreePlugin } from '../plugins/catalog-tree/index.js';
import { compressPlugin } from '../plugins/compress/index.js';
import { datasetInfoPlugin } from '../plugins/dataset-info/index.js';
import { groupbyPlugin } from '../plugins/groupby/index.js';
import { intakePlugin } from '../plugins/intake/index.js';
import { kerchunkPlugin } from '../plugins/kerchunk/index.js';
import { metricsPlugin } from '../plugins/metrics/index.js';
import { openapiPlugin } from '../plugins/openapi/index.js';
import { opendapPlugin } from '../plugins/opendap/index.js';
import { plotsPlugin } from '../plugins/plots/index.js';
import { processesPlugin } from '../plugins/processes/index.js';
import { provenancePlugin } from '../plugins/provenance/index.js';
import { rechunkPlugin } from '../plugins/rechunk/index.js';
import { referencesPlugin } from '../plugins/references/index.js';
import { referencesParquetPlugin } from '../plugins/references/parquet.js';
import { stacPlugin } from '../plugins/stac/index.js';
import { versionsPlugin } from '../plugins/versions/index.js';
import { webPlugin } from '../plugins/web/index.js';
import { zarrPlugin } from '../plugins/zarr/index.js';
import type { StratoPlugin } from './plugin.js';

/** The plugins every strato server loads (admin answers only when STRATO_ADMIN_TOKEN is set). */
export const defaultPlugins: readonly StratoPlugin[] = [
  versionsPlugin,
  metricsPlugin,
  datasetInfoPlugin,
  kerchunkPlugin,
  referencesPlugin,
  referencesParquetPlugin,
  zarrPlugin,
  catalogTreePlugin,
  rechunkPlugin,
  bitroundPlugin,
  compressPlugin,
  opendapPlugin,
  adminPlugin,
  webPlugin,
  plotsPlugin,
  openapiPlugin,
  stacPlugin,
  intakePlugin,
  provenancePlugin,
  processesPlugin,
  groupbyPlugin,
];
