import { Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { notFound } from '../../server/http/problem.js';
import { respond, type ServedBody } from '../../server/http/served-body.js';
import { storeKey } from '../../server/http/store-key.js';
import type { DatasetEnv } from '../../server/plugin.js';

/** A Zarr store face of a dataset: metadata documents and chunks by key. */
export interface StoreView {
  metadata(key: string): ServedBody | undefined;
  chunk(key: string, signal?: AbortSignal): Promise<ServedBody | undefined>;
}

/** The routes of a store view under `/datasets/{id}/<prefix>/{key}` (the root itself has no content). */
export function storeRoutes(viewOf: (dataset: Dataset) => StoreView, viewName: string): Hono<DatasetEnv> {
  const app = new Hono<DatasetEnv>();
  app.get('/', () => {
    throw notFound('the store root has no content; read .zmetadata (Zarr v2) or zarr.json (Zarr v3)');
  });
  app.get('/*', async (c) => {
    const key = storeKey(c);
    const view = viewOf(c.var.dataset);
    const body = view.metadata(key) ?? (await view.chunk(key, c.req.raw.signal));
    if (!body) throw notFound(`no key "${key}" in the ${viewName} of "${c.var.dataset.id}"`);
    return respond(c, body);
  });
  return app;
}
