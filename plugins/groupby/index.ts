import { Hono } from 'hono';
import type { DatasetEntry } from '../../catalog/catalog-file.js';
import type { Dataset } from '../../catalog/dataset.js';
import { schemaOf } from '../../catalog/dataset-schema.js';
import { type DeriveSpec, parseDeriveSpec } from '../../catalog/derive-entry.js';
import { DeriveError } from '../../derive/derive-plan.js';
import { type DerivedChunkCache, derivedChunkCache, openDerived } from '../../derive/derived-dataset.js';
import { badRequest, notFound } from '../../server/http/problem.js';
import { storeKey } from '../../server/http/store-key.js';
import { respondStoreBody } from '../../server/http/store-routes.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';

/** The groupings and reductions the route offers (eerie.cloud's cloudify `groupby` plugin). */
const COORDS = new Set(['time.month', 'time.season', 'time.dayofyear', 'time.hour']);
const ACTIONS = new Set(['mean', 'min', 'max', 'sum', 'std', 'count']);

interface GroupbyState {
  readonly cache: DerivedChunkCache;
  /** Per opened dataset: one derived dataset per (variable, coord, action), at most variables × 4 × 6. */
  readonly derived: WeakMap<Dataset, Map<string, Promise<Dataset>>>;
}

const makeState = (): GroupbyState => ({ cache: derivedChunkCache(64 * 1024 * 1024), derived: new WeakMap() });

/**
 * `GET /datasets/{id}/groupby/{variable}/{coord}/{action}/zarr/{key}`: the climatology of one
 * variable (`groupby: coord`, `reduce: action`) as a Zarr v2/v3 store, without a catalog entry.
 * Bounded: coord and action from an allow list, the variable one of the dataset's; the derived
 * datasets are memoised per opened dataset and their chunks cached like the catalog's ones.
 */
export const groupbyPlugin: StratoPlugin = {
  name: 'groupby',
  version: '1.0.0',
  datasetRoutes(context: PluginContext) {
    const state = context.shared(makeState);
    const app = new Hono<DatasetEnv>();
    app.get('/:variable/:coord/:action/zarr/*', async (c) => {
      const { variable, coord, action } = c.req.param();
      if (!COORDS.has(coord)) throw notFound(`groupby coordinate "${coord.slice(0, 64)}" is not offered; use one of ${[...COORDS].join(', ')}`);
      if (!ACTIONS.has(action)) throw notFound(`groupby action "${action.slice(0, 64)}" is not offered; use one of ${[...ACTIONS].join(', ')}`);
      const source = c.var.dataset;
      const known = schemaOf(source).variables.find((v) => v.name === variable && !v.isCoordinate);
      if (!known) throw notFound(`dataset "${source.id}" has no data variable "${variable.slice(0, 64)}"`);
      const derived = await derivedFor(state, context, source, variable, coord, action);
      const key = storeKey(c, 7);
      const view = context.views.processed(derived);
      const body = view.metadata(key) ?? (await view.chunk(key, c.req.raw.signal));
      if (!body) throw notFound(`no key "${key}" in the groupby store`);
      return respondStoreBody(c, body);
    });
    return { prefix: 'groupby', app };
  },
};

async function derivedFor(state: GroupbyState, context: PluginContext, source: Dataset, variable: string, coord: string, action: string): Promise<Dataset> {
  let perDataset = state.derived.get(source);
  if (!perDataset) {
    perDataset = new Map();
    state.derived.set(source, perDataset);
  }
  const memo = JSON.stringify([variable, coord, action]);
  let opening = perDataset.get(memo);
  if (!opening) {
    const spec = parseDeriveSpec({ from: source.id, variables: [variable], groupby: coord, reduce: action });
    if (typeof spec === 'string') throw badRequest(spec);
    const entry: DatasetEntry & { derive: DeriveSpec } = {
      id: `${source.id}.groupby.${variable}.${coord}.${action}`,
      refs: '',
      refsLocation: '',
      derive: spec,
      fields: Object.create(null),
    };
    opening = openDerived(entry, source, context.values(source), state.cache);
    perDataset.set(memo, opening);
    opening.catch(() => perDataset?.delete(memo));
  }
  try {
    return await opening;
  } catch (error) {
    if (error instanceof DeriveError) throw badRequest(`cannot group "${variable}" by ${coord}: ${error.message}`);
    throw error;
  }
}
