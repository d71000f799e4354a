import { Hono } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { PARQUET_METADATA_FILE } from '../../kerchunk/parquet-references.js';
import { currentBudget } from '../../kerchunk/request-budget.js';
import { SingleFlightCache } from '../../kerchunk/single-flight-cache.js';
import { etagOf } from '../../server/http/etag.js';
import { notFound } from '../../server/http/problem.js';
import { publicBaseUrl } from '../../server/http/public-url.js';
import { bytesBody, respond } from '../../server/http/served-body.js';
import { storeKey } from '../../server/http/store-key.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';
import { METADATA_CACHE_CONTROL } from '../../views/metadata-documents.js';
import { PARQUET_RECORD_SIZE, type ParquetLayout, parquetLayout, parquetRecord, parquetReferenceEtag, parquetZmetadata } from '../../views/reference-parquet.js';

/** The set depends on the public URL, which these headers change (the Host is in every cache key). */
const VARY = 'x-forwarded-proto, x-forwarded-host, x-forwarded-prefix';

/** Bytes of record files kept (a record of 10 000 rows is some tens of KiB). */
const RECORD_CACHE_BYTES = 32 * 1024 * 1024;

const PARQUET_TYPE = 'application/vnd.apache.parquet';

/** `array/refs.N.parq` (N a decimal record number without leading zeros, below 10^16). */
const RECORD_KEY = /^(.+)\/refs\.(0|[1-9][0-9]{0,15})\.parq$/;

/** Layouts per opened dataset (a reopened table is a new Dataset object). */
const layouts = new WeakMap<Dataset, ParquetLayout>();

function layoutOf(dataset: Dataset): ParquetLayout {
  let layout = layouts.get(dataset);
  if (layout === undefined) {
    layout = parquetLayout(dataset);
    layouts.set(dataset, layout);
  }
  return layout;
}

function recordCache(): SingleFlightCache<Uint8Array> {
  return new SingleFlightCache<Uint8Array>({ maxBytes: RECORD_CACHE_BYTES, sizeOf: (bytes) => bytes.byteLength });
}

/** The HTML index of the set: fsspec's HTTP filesystem takes a page with links for a directory. */
function indexPage(setUrl: string): string {
  const href = `${setUrl}/${PARQUET_METADATA_FILE}`.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>parquet references</title></head><body><ul>\n<li><a href="${href}">${PARQUET_METADATA_FILE}</a></li>\n</ul></body></html>\n`;
}

/**
 * `GET /datasets/{id}/references.parq/…`: the dataset's kerchunk table as an fsspec parquet
 * reference set (views/reference-parquet.ts), each file made on request: `.zmetadata`,
 * `<array>/refs.<N>.parq` (cached per table version, public URL and record in a bounded LRU),
 * and at the root an HTML index linking `.zmetadata` (which fsspec's HTTP filesystem reads as a
 * directory). A record past an array's grid, or of an unknown array, is 404.
 */
export const referencesParquetPlugin: StratoPlugin = {
  name: 'references-parquet',
  version: '1.0.0',
  datasetRoutes(context: PluginContext) {
    const cache = context.shared(recordCache);
    const app = new Hono<DatasetEnv>();
    app.get('/', async (c) => {
      const path = new URL(c.req.url).pathname;
      // hono matches `<prefix>` and `<prefix>/` alike: a directory is named with its slash
      if (!path.endsWith('/')) return c.body(null, 301, { location: `${path.slice(path.lastIndexOf('/') + 1)}/`, 'cache-control': METADATA_CACHE_CONTROL });
      const dataset = c.var.dataset;
      const baseUrl = publicBaseUrl(c.req.raw);
      const page = new TextEncoder().encode(indexPage(`${baseUrl}/datasets/${encodeURIComponent(dataset.id)}/references.parq`));
      return respond(c, bytesBody(page, etagOf('reference-parquet-index', page), 'text/html; charset=utf-8', METADATA_CACHE_CONTROL)).then(withVary);
    });
    app.get('/*', async (c) => {
      const dataset = c.var.dataset;
      const key = storeKey(c);
      const baseUrl = publicBaseUrl(c.req.raw);
      const layout = layoutOf(dataset);
      const etag = parquetReferenceEtag(dataset, key, baseUrl, context.version);
      const cacheControl = etag ? METADATA_CACHE_CONTROL : 'no-cache';
      if (key === PARQUET_METADATA_FILE) {
        const text = new TextEncoder().encode(parquetZmetadata(layout));
        return respond(c, bytesBody(text, etag ?? etagOf('reference-parquet', text), 'application/json', cacheControl)).then(withVary);
      }
      const match = RECORD_KEY.exec(key);
      const array = match?.[1];
      const record = Number(match?.[2]);
      const grid = array === undefined ? undefined : layout.grids.get(array);
      if (array === undefined || grid === undefined || !Number.isSafeInteger(record) || record * PARQUET_RECORD_SIZE >= grid.size) {
        throw notFound(`no file "${key.slice(0, 200)}" in the parquet references of "${dataset.id}"`);
      }
      const make = async (): Promise<Uint8Array> => (await parquetRecord(dataset, layout, array, record, baseUrl, currentBudget())) as Uint8Array;
      const bytes = etag ? await cache.get(etag, make) : await make();
      return respond(c, bytesBody(bytes, etag ?? etagOf('reference-parquet', bytes), PARQUET_TYPE, cacheControl)).then(withVary);
    });
    return { prefix: 'references.parq', app };
  },
};

function withVary(response: Response): Response {
  response.headers.set('vary', VARY);
  return response;
}
