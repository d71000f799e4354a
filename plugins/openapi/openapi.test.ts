import { rm } from 'node:fs/promises';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { DatasetRegistry } from '../../catalog/registry.js';
import { createApp } from '../../server/app.js';
import { defaultPlugins } from '../../server/default-plugins.js';
import { createLogger } from '../../server/log.js';
import { makeGridCatalog } from '../../test/helpers/grid-fixture.js';
import { ROUTE_DOCS } from './route-docs.js';
import { datasetRoutePath, openApiPath, pathParameters } from './route-paths.js';

describe('route paths', () => {
  it('turns hono patterns into OpenAPI templates', () => {
    expect(openApiPath('/datasets/:id/kerchunk/*')).toBe('/datasets/{id}/kerchunk/{key}');
    expect(openApiPath('/datasets/:id/plot/:file{[^/]+\\.png}')).toBe('/datasets/{id}/plot/{file}');
    expect(openApiPath('/datasets/:id/opendap.dds')).toBe('/datasets/{id}/opendap.dds');
    expect(openApiPath('/datasets/:id/')).toBe('/datasets/{id}');
    expect(openApiPath('/')).toBe('/');
    expect(datasetRoutePath('', '/')).toBe('/datasets/:id');
    expect(datasetRoutePath('plot', '/:file')).toBe('/datasets/:id/plot/:file');
    expect(pathParameters('/datasets/{id}/plot/{file}')).toEqual(['id', 'file']);
  });
});

describe('/openapi.json of the default app', () => {
  let dir: string;
  let registry: DatasetRegistry;
  let app: ReturnType<typeof createApp>;
  let document: OpenAPIV3_1.Document;

  beforeAll(async () => {
    process.env.STRATO_ADMIN_TOKEN = 'secret'; // so the admin routes exist too
    const made = await makeGridCatalog();
    dir = made.dir;
    const logger = createLogger('silent');
    registry = await DatasetRegistry.open(await loadCatalog(made.catalog), { logger });
    app = createApp({ registry, plugins: defaultPlugins, logger, version: '9.9.9' });
    document = (await (await app.request('/openapi.json')).json()) as OpenAPIV3_1.Document;
  });
  afterAll(async () => {
    delete process.env.STRATO_ADMIN_TOKEN;
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('validates as OpenAPI 3.1', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe('9.9.9');
    await SwaggerParser.validate(structuredClone(document) as never);
  });

  it('lists exactly the routes the app serves', () => {
    const served = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${openApiPath(r.path)}`));
    const documented = new Set(Object.entries(document.paths ?? {}).flatMap(([path, item]) => Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`)));
    expect([...documented].sort()).toEqual([...served].sort());
    expect(served.has('POST /admin/datasets')).toBe(true);
  });

  it('has curated documentation for the routes of the default plugins', () => {
    const undocumented = Object.entries(document.paths ?? {})
      .flatMap(([path, item]) => Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`))
      .filter((signature) => !ROUTE_DOCS[signature]);
    // routes added later fall back to a generic entry; this lists them so they get written up
    expect(undocumented).toEqual([]);
  });

  it('answers If-None-Match with 304', async () => {
    const first = await app.request('/openapi.json');
    const etag = first.headers.get('etag') as string;
    expect((await app.request('/openapi.json', { headers: { 'if-none-match': etag } })).status).toBe(304);
  });
});
