import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { Dataset } from '../../catalog/dataset.js';
import { headersOf, makePrivate } from '../../server/access-control.js';
import { HttpProblem } from '../../server/http/problem.js';
import { publicBaseUrl, publicRequestUrl } from '../../server/http/public-url.js';
import { readBodyLimited } from '../../server/http/request-body.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';
import { buildCollections, type CollectionRecord, catalogDescription } from '../../stac-model/collections.js';
import type { AssetView, ItemRecord } from '../../stac-model/items.js';
import { keepbitsFromZmetadata } from '../../stac-model/lossy.js';
import { type JsonObject, MEDIA } from '../../stac-model/stac-types.js';
import { ApiUrls, collectionDocument, collectionsDocument, getNextLink, itemCollection, itemDocument, landingPage, postNextLink } from './api-documents.js';
import { CONFORMANCE } from './conformance.js';
import { queryablesSchema } from './cql2.js';
import { ItemCache } from './item-cache.js';
import { stacOpenApi } from './openapi.js';
import { runSearch } from './search.js';
import { SearchError, type SearchRequest, searchFromBody, searchFromQuery } from './search-request.js';

/** Largest POST search body read. */
const MAX_BODY_BYTES = 1 << 20;

/**
 * The Items of every dataset. The app-level API and the per-dataset route share them: both
 * route factories ask `context.shared` for them, which makes them once per app.
 */
function makeItemCache(context: PluginContext): ItemCache {
  const names = new Set(context.plugins().map((p) => p.name));
  const views = new Set<AssetView>(['kerchunk']);
  if (names.has('zarr')) views.add('zarr');
  if (names.has('intake')) views.add('intake');
  return new ItemCache(context.values, { views, ...(names.has('zarr') ? { keepbits: (dataset: Dataset) => processedKeepbits(context, dataset) } : {}) });
}

/** The bits each bit-rounded array keeps, from the processed view's own `.zmetadata` (undefined when that view cannot be made). */
async function processedKeepbits(context: PluginContext, dataset: Dataset): Promise<ReadonlyMap<string, number> | undefined> {
  try {
    const body = context.views.processed(dataset).metadata('.zmetadata');
    if (!body) return undefined;
    return keepbitsFromZmetadata(JSON.parse(new TextDecoder().decode(await body.read(0, body.size))));
  } catch {
    return undefined;
  }
}

/**
 * STAC API 1.0 under `/stac` (core, collections, features, item search with sort, fields and
 * CQL2 text or JSON filter), and each dataset's Item at `/datasets/{id}/stac`.
 */
export const stacPlugin: StratoPlugin = {
  name: 'stac',
  version: '1.0.0',
  conformsTo: CONFORMANCE,
  landingLinks: [
    { rel: 'data', href: '/stac/collections', type: 'application/json', title: 'STAC collections' },
    { rel: 'child', href: '/stac', type: 'application/json', title: 'STAC API' },
  ],
  appRoutes(context: PluginContext) {
    const app = new Hono();
    app.onError((error, c) => stacError(error, c, context));
    const items = context.shared(makeItemCache);
    // Items are cached per dataset; every listing, collection and search is made per request from
    // the datasets this caller may read, and is private when that choice hid or showed a protected one
    const privateAnswers = new WeakSet<Context>();
    const privately: MiddlewareHandler = async (c, next) => {
      await next();
      if (privateAnswers.has(c)) makePrivate(c.res.headers);
    };
    app.use('/stac', privately);
    app.use('/stac/*', privately);
    const records = async (c: Context): Promise<ItemRecord[]> => {
      const visible = await context.access.visible(headersOf(c), context.registry.all());
      if (visible.filter !== '') privateAnswers.add(c);
      return items.all(visible.items);
    };
    const catalog = () => catalogDescription(context.registry.current.fields);
    const collections = async (c: Context): Promise<CollectionRecord[]> => buildCollections(await records(c), context.registry.current.fields);
    const findCollection = async (c: Context, id: string): Promise<CollectionRecord> => {
      const found = (await collections(c)).find((collection) => collection.id === id);
      if (!found) throw new HttpProblem(404, 'Not Found', `no collection "${id}"`);
      return found;
    };
    const urls = (c: Context) => new ApiUrls(publicBaseUrl(c.req.raw));

    app.get('/stac', async (c) => c.json(landingPage(urls(c), catalog(), await collections(c))));
    app.get('/stac/conformance', (c) => c.json({ conformsTo: [...CONFORMANCE] }));
    app.get('/stac/api', (c) => {
      c.header('content-type', MEDIA.openapi);
      return c.body(JSON.stringify(stacOpenApi(publicBaseUrl(c.req.raw), context.version)));
    });
    app.get('/stac/queryables', (c) => schemaJson(c, queryablesSchema(`${urls(c).root}/queryables`)));
    app.get('/stac/collections', async (c) => c.json(collectionsDocument(urls(c), catalog(), await collections(c))));
    app.get('/stac/collections/:collection', async (c) => c.json(collectionDocument(urls(c), catalog(), await findCollection(c, c.req.param('collection')))));
    app.get('/stac/collections/:collection/queryables', async (c) => {
      const collection = await findCollection(c, c.req.param('collection'));
      return schemaJson(c, queryablesSchema(`${urls(c).collection(collection.id)}/queryables`));
    });
    app.get('/stac/collections/:collection/items', async (c) => {
      const collection = await findCollection(c, c.req.param('collection'));
      const query = new URL(c.req.url).searchParams;
      query.delete('collections');
      const request: SearchRequest = { ...searchFromQuery(query), collections: [collection.id] };
      const self = publicRequestUrl(c.req.raw);
      const page = runSearch(collection.members, request);
      return geojson(c, itemCollection(urls(c), catalog(), page, { self, next: getNextLink(self), collection: collection.id }, request.fields));
    });
    app.get('/stac/collections/:collection/items/:item', async (c) => {
      const collection = await findCollection(c, c.req.param('collection'));
      const record = collection.members.find((m) => m.id === c.req.param('item'));
      if (!record) throw new HttpProblem(404, 'Not Found', `no item "${c.req.param('item')}" in collection "${collection.id}"`);
      return geojson(c, itemDocument(urls(c), catalog(), record));
    });
    app.get('/stac/search', async (c) => {
      const request = searchFromQuery(new URL(c.req.url).searchParams);
      const self = publicRequestUrl(c.req.raw);
      const page = runSearch(await records(c), request);
      return geojson(c, itemCollection(urls(c), catalog(), page, { self, next: getNextLink(self) }, request.fields));
    });
    app.post('/stac/search', async (c) => {
      const body = await readJson(c.req.raw);
      const request = searchFromBody(body);
      const href = `${urls(c).root}/search`;
      const page = runSearch(await records(c), request);
      return geojson(c, itemCollection(urls(c), catalog(), page, { self: href, next: postNextLink(href, body as Record<string, unknown>) }, request.fields));
    });
    return app;
  },
  datasetRoutes(context: PluginContext) {
    const app = new Hono<DatasetEnv>();
    const items = context.shared(makeItemCache);
    app.get('/', async (c) => {
      const record = await items.get(c.var.dataset);
      const urls = new ApiUrls(publicBaseUrl(c.req.raw));
      return geojson(c, itemDocument(urls, catalogDescription(context.registry.current.fields), record, publicRequestUrl(c.req.raw)));
    });
    return { prefix: 'stac', app };
  },
};

function geojson(c: Context, document: JsonObject): Response {
  return c.body(JSON.stringify(document), 200, { 'content-type': MEDIA.geojson });
}

function schemaJson(c: Context, document: Record<string, unknown>): Response {
  return c.body(JSON.stringify(document), 200, { 'content-type': MEDIA.schema });
}

async function readJson(request: Request): Promise<unknown> {
  const bytes = await readBodyLimited(request, MAX_BODY_BYTES, () => new SearchError(`the search body is larger than ${MAX_BODY_BYTES} bytes`));
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SearchError('the search body is not valid JSON');
  }
}

/** Errors under /stac as the STAC API has them: `{code, description}`. */
function stacError(error: Error, c: Context, context: PluginContext): Response {
  let status = 500;
  let code = 'ServerError';
  let description = 'unexpected error; see the server log';
  if (error instanceof SearchError) {
    status = 400;
    code = error.code;
    description = error.message;
  } else if (error instanceof HttpProblem) {
    status = error.status;
    code = error.status === 404 ? 'NotFound' : error.title.replace(/\s+/g, '');
    description = error.detail ?? error.title;
  } else {
    context.logger.error('stac request failed', { path: c.req.path, error: error.message, stack: error.stack });
  }
  return new Response(JSON.stringify({ code, description }), {
    status,
    headers: { 'content-type': MEDIA.json, 'cache-control': 'no-store', 'access-control-allow-origin': '*' },
  });
}
