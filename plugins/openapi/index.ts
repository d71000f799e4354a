import { Hono } from 'hono';
import { etagOf, ifNoneMatchHits } from '../../server/http/etag.js';
import { notFound } from '../../server/http/problem.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';
import { DOCS_INIT_SCRIPT, docsResponse } from './docs-html.js';
import { openApiDocument } from './openapi-document.js';
import { type AppRoute, datasetRoutePath, openApiPath } from './route-paths.js';
import { SwaggerAssets } from './swagger-assets.js';

/** hono's `routes` of a sub-app, without middleware (method ALL). */
function routesOf(app: { readonly routes: ReadonlyArray<{ method: string; path: string }> }): Array<{ method: string; path: string }> {
  return app.routes.filter((route) => route.method !== 'ALL').map(({ method, path }) => ({ method, path }));
}

/**
 * Every route the plugins serve, read from the hono apps their factories build. Route factories
 * are plain (they build routers and caches, nothing global), so building them again here is safe.
 */
export function collectRoutes(context: PluginContext, self: StratoPlugin, own: readonly AppRoute[]): AppRoute[] {
  const routes: AppRoute[] = [];
  for (const plugin of context.plugins()) {
    if (plugin === self) {
      routes.push(...own);
      continue;
    }
    if (plugin.appRoutes) {
      for (const route of routesOf(plugin.appRoutes(context))) routes.push({ method: route.method, path: openApiPath(route.path), plugin: plugin.name });
    }
    if (plugin.datasetRoutes) {
      const { prefix, app } = plugin.datasetRoutes(context);
      for (const route of routesOf(app)) routes.push({ method: route.method, path: openApiPath(datasetRoutePath(prefix, route.path)), plugin: plugin.name });
    }
  }
  const seen = new Set<string>();
  return routes.filter((route) => {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `/openapi.json` (OpenAPI 3.1 of every route of the running app) and `/docs` (Swagger UI from local assets). */
export const openapiPlugin: StratoPlugin = {
  name: 'openapi',
  version: '1.0.0',
  landingLinks: [
    { rel: 'service-desc', href: '/openapi.json', type: 'application/vnd.oai.openapi+json;version=3.1', title: 'OpenAPI document' },
    { rel: 'service-doc', href: '/docs', type: 'text/html', title: 'API documentation' },
  ],
  appRoutes(context: PluginContext) {
    const assets = new SwaggerAssets();
    const app = new Hono();
    let document: { body: string; etag: string } | undefined;
    const own = (): AppRoute[] => routesOf(app).map((route) => ({ method: route.method, path: openApiPath(route.path), plugin: openapiPlugin.name }));

    app.get('/openapi.json', (c) => {
      if (!document) {
        const body = JSON.stringify(openApiDocument(collectRoutes(context, openapiPlugin, own()), context.version));
        document = { body, etag: etagOf(body) };
      }
      const headers = { etag: document.etag, 'cache-control': 'no-cache' };
      if (ifNoneMatchHits(c.req.header('if-none-match'), document.etag)) return c.body(null, 304, headers);
      return c.body(document.body, 200, { ...headers, 'content-type': 'application/json' });
    });
    app.get('/docs', () => docsResponse());
    app.get('/docs/init.js', (c) =>
      c.body(DOCS_INIT_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' }),
    );
    app.get('/docs/assets/:file', async (c) => {
      const asset = await assets.get(c.req.param('file'));
      if (!asset) throw notFound(`no asset "${c.req.param('file')}"`);
      const headers = { etag: asset.etag, 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff' };
      if (ifNoneMatchHits(c.req.header('if-none-match'), asset.etag)) return c.body(null, 304, headers);
      return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { ...headers, 'content-type': asset.type, 'content-length': String(asset.body.length) });
    });
    return app;
  },
};
