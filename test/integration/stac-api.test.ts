import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { startInProcess } from '../helpers/server.js';
import { StacValidator } from '../helpers/stac-validator.js';

/**
 * The STAC API over the NetCDF4 fixtures (8 datasets: JSON and parquet references of 4 files),
 * through a real HTTP server: schema validity of every document, extents read from the
 * coordinates, and the search semantics (each parameter, combinations, paging, errors).
 */
interface Link {
  rel: string;
  href: string;
  method?: string;
  body?: Record<string, unknown>;
  type?: string;
}
interface Feature {
  id: string;
  collection: string;
  bbox?: number[];
  geometry: unknown;
  properties: Record<string, unknown>;
  assets: Record<string, { href: string; type?: string; roles?: string[]; 'xarray:open_kwargs'?: Record<string, unknown> }>;
  links: Link[];
}
interface ItemCollection {
  type: string;
  features: Feature[];
  links: Link[];
  numberMatched: number;
  numberReturned: number;
}

let fixtures: Fixtures;
let server: RunningServer;
const validator = new StacValidator();
const ALL = ['basic', 'basic-parquet', 'combined', 'combined-parquet', 'generated', 'generated-parquet', 'templated', 'templated-parquet'];

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  // The fixture catalog plus STAC settings: JSON tables in collection "json", parquet in "parquet",
  // "basic" in the default collection.
  const lines = fixtures.datasets.map((d) => {
    const collection = d.id === 'basic' ? '' : `, collection: ${d.format === 'parquet' ? 'parquet' : 'json'}`;
    return `  ${d.id}: {refs: ${d.refs}, title: "Fixture ${d.id}", license: CC0-1.0, stac: {keywords: [fixture, ${d.format}]${collection}}}`;
  });
  const catalog = join(fixtures.dir, 'catalog-stac.yaml');
  const stac = 'stac:\n  title: strato test catalog\n  collections:\n    parquet: {title: Parquet references, description: Fixtures through parquet reference sets}\n';
  await writeFile(catalog, `${stac}datasets:\n${lines.join('\n')}\nsources:\n  allow: [data/]\n`);
  server = await startInProcess(catalog);
});
afterAll(async () => {
  await server?.close();
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
  console.log(`STAC documents validated against the offline schemas (stac-api.test): ${validator.count}`);
});

async function json<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T; type: string | null }> {
  const response = await fetch(path.startsWith('http') ? path : `${server.url}${path}`, init);
  return { status: response.status, body: (await response.json()) as T, type: response.headers.get('content-type') };
}
const search = (query: string) => json<ItemCollection>(`/stac/search?${query}`);
const post = (body: unknown) => json<ItemCollection>('/stac/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const ids = (result: { body: ItemCollection }) => result.body.features.map((f) => f.id).sort();
const filter = (expression: unknown) => search(`limit=100&filter=${encodeURIComponent(JSON.stringify(expression))}`);

describe('documents', () => {
  it('landing page: conformance, links, valid Catalog', async () => {
    const { status, body } = await json<{ conformsTo: string[]; links: Link[]; type: string }>('/stac');
    expect(status).toBe(200);
    expect(validator.validate(body)).toEqual([]);
    expect(body.conformsTo).toEqual(
      expect.arrayContaining(['https://api.stacspec.org/v1.0.0/core', 'https://api.stacspec.org/v1.0.0/item-search', 'http://www.opengis.net/spec/cql2/1.0/conf/cql2-json']),
    );
    const rels = body.links.map((l) => l.rel);
    expect(rels).toEqual(expect.arrayContaining(['self', 'root', 'service-desc', 'conformance', 'data', 'search', 'child']));
    for (const link of body.links) expect(link.href.startsWith(server.url)).toBe(true);
    const conformance = await json<{ conformsTo: string[] }>('/stac/conformance');
    expect(conformance.body.conformsTo).toEqual(body.conformsTo);
    const api = await fetch(`${server.url}/stac/api`);
    expect(api.headers.get('content-type')).toContain('openapi');
    const openapi = (await api.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/stac/search', '/stac/collections/{collectionId}/items']));
  });

  it('collections: grouped by stac.collection, extents the union, valid', async () => {
    const { body } = await json<{ collections: Array<{ id: string; extent: { spatial: { bbox: number[][] }; temporal: { interval: string[][] } }; title: string }> }>(
      '/stac/collections',
    );
    expect(body.collections.map((c) => c.id)).toEqual(['json', 'parquet', 'strato']);
    for (const collection of body.collections) expect(validator.validate(collection)).toEqual([]);
    const parquet = body.collections.find((c) => c.id === 'parquet');
    expect(parquet?.title).toBe('Parquet references');
    expect(parquet?.extent.temporal.interval).toEqual([['1990-01-01T00:00:00Z', '2001-03-02T06:00:00Z']]);
    expect(parquet?.extent.spatial.bbox).toEqual([[-180, -75, 180, 75]]);
    const single = await json<{ id: string; links: Link[] }>('/stac/collections/json');
    expect(validator.validate(single.body)).toEqual([]);
    expect(single.body.links.map((l) => l.rel)).toEqual(expect.arrayContaining(['self', 'root', 'parent', 'items']));
    expect((await json('/stac/collections/nope')).status).toBe(404);
  });

  it('items of every collection are valid STAC Items with datacube and xarray assets', async () => {
    for (const collection of ['json', 'parquet', 'strato']) {
      const page = await json<ItemCollection>(`/stac/collections/${collection}/items?limit=100`);
      expect(page.type).toContain('geo+json');
      expect(validator.validateItemCollection(page.body)).toEqual([]);
      for (const feature of page.body.features) {
        expect(feature.collection).toBe(collection);
        const single = await json<Feature>(`/stac/collections/${collection}/items/${feature.id}`);
        expect(validator.validate(single.body)).toEqual([]);
        expect(single.body.links.map((l) => l.rel)).toEqual(expect.arrayContaining(['self', 'root', 'parent', 'collection']));
      }
    }
    expect((await json('/stac/collections/json/items/nope')).status).toBe(404);
  });

  it('basic: extents from the coordinates, CF time decoded, assets', async () => {
    const { body } = await json<Feature>('/stac/collections/strato/items/basic');
    expect(body.bbox).toEqual([-180, -75, 180, 75]);
    expect(body.properties.datetime).toBeNull();
    expect(body.properties.start_datetime).toBe('2000-01-01T12:00:00Z');
    expect(body.properties.end_datetime).toBe('2000-01-12T12:00:00Z');
    expect(body.properties.license).toBe('CC0-1.0');
    expect(body.properties.keywords).toEqual(['fixture', 'v0']);
    const dims = body.properties['cube:dimensions'] as Record<string, Record<string, unknown>>;
    expect(dims.time).toMatchObject({ type: 'temporal', extent: ['2000-01-01T12:00:00Z', '2000-01-12T12:00:00Z'], step: 'P1D' });
    expect(dims.lat).toMatchObject({ type: 'spatial', axis: 'y', extent: [-75, 75], step: 30, reference_system: 4326 });
    expect(dims.lon).toMatchObject({ type: 'spatial', axis: 'x', extent: [0, 315], step: 45 });
    expect(dims.nv).toMatchObject({ type: 'other', extent: [0, 1] });
    const vars = body.properties['cube:variables'] as Record<string, Record<string, unknown>>;
    expect(vars.tas).toMatchObject({ type: 'data', dimensions: ['time', 'lat', 'lon'], unit: 'K', description: 'Near-Surface Air Temperature' });
    expect(vars.height).toMatchObject({ type: 'auxiliary', dimensions: [] });
    expect(vars.time_bnds).toMatchObject({ type: 'auxiliary' });
    expect(body.assets.kerchunk).toMatchObject({ href: `${server.url}/datasets/basic/kerchunk`, type: 'application/vnd+zarr', roles: ['data'] });
    expect(body.assets.kerchunk?.['xarray:open_kwargs']).toEqual({ engine: 'zarr', consolidated: true });
  });

  it('templated: noleap calendar, vertical dimension', async () => {
    const { body } = await json<Feature>('/stac/collections/json/items/templated');
    expect(body.properties.start_datetime).toBe('2001-02-28T12:00:00Z');
    expect(body.properties.end_datetime).toBe('2001-03-02T06:00:00Z');
    const dims = body.properties['cube:dimensions'] as Record<string, Record<string, unknown>>;
    expect(dims.time).toMatchObject({ step: 'PT6H' });
    expect(dims.plev).toMatchObject({ type: 'spatial', axis: 'z', extent: [50000, 100000], unit: 'Pa', values: [100000, 85000, 50000] });
    expect(body.bbox?.[1]).toBe(-60);
    expect(body.bbox?.[3]).toBe(60);
  });

  it('generated: projected x/y without a CRS, so no geometry', async () => {
    const { body } = await json<Feature>('/stac/collections/json/items/generated');
    expect(body.geometry).toBeNull();
    expect(body.bbox).toBeUndefined();
    expect(body.properties.start_datetime).toBe('1990-01-01T00:00:00Z');
    expect(body.properties.end_datetime).toBe('1990-01-24T00:00:00Z');
  });

  it('/datasets/{id}/stac: the Item, self at the dataset, canonical in the API', async () => {
    const { status, body } = await json<Feature>('/datasets/combined/stac');
    expect(status).toBe(200);
    expect(validator.validate(body)).toEqual([]);
    expect(body.properties.start_datetime).toBe('2000-01-01T00:00:00Z');
    expect(body.properties.end_datetime).toBe('2000-01-27T00:00:00Z');
    expect(body.links.find((l) => l.rel === 'self')?.href).toBe(`${server.url}/datasets/combined/stac`);
    expect(body.links.find((l) => l.rel === 'canonical')?.href).toBe(`${server.url}/stac/collections/json/items/combined`);
    expect((await json('/datasets/nope/stac')).status).toBe(404);
  });

  it('links follow X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const { body } = await json<{ links: Link[] }>('/stac', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'data.example.org' } });
    for (const link of body.links) expect(link.href.startsWith('https://data.example.org/stac')).toBe(true);
    const item = await json<Feature>('/datasets/basic/stac', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'data.example.org' } });
    expect(item.body.assets.kerchunk?.href).toBe('https://data.example.org/datasets/basic/kerchunk');
  });

  it('queryables', async () => {
    const { body, type } = await json<{ properties: Record<string, unknown> }>('/stac/queryables');
    expect(type).toContain('schema+json');
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['id', 'collection', 'datetime', 'geometry']));
  });
});

describe('search', () => {
  it('returns everything, valid, with numberMatched', async () => {
    const result = await search('limit=100');
    expect(result.status).toBe(200);
    expect(ids(result)).toEqual(ALL);
    expect(result.body.numberMatched).toBe(8);
    expect(result.body.numberReturned).toBe(8);
    expect(validator.validateItemCollection(result.body)).toEqual([]);
  });

  it('ids and collections', async () => {
    expect(ids(await search('ids=basic,templated'))).toEqual(['basic', 'templated']);
    expect(ids(await search('collections=parquet&limit=100'))).toEqual(ALL.filter((id) => id.endsWith('-parquet')));
    expect(ids(await search('collections=strato,json&ids=basic,generated,basic-parquet'))).toEqual(['basic', 'generated']);
    expect(ids(await post({ ids: ['combined'], collections: ['json'] }))).toEqual(['combined']);
  });

  it('bbox, antimeridian-crossing bbox and intersects', async () => {
    expect(ids(await search('bbox=-10,-10,10,10&limit=100'))).toEqual(ALL.filter((id) => !id.startsWith('generated')));
    expect(ids(await search('bbox=-10,62,10,70&limit=100'))).toEqual(['basic', 'basic-parquet', 'combined', 'combined-parquet']);
    expect(ids(await search('bbox=170,62,-170,70&limit=100'))).toEqual(['basic', 'basic-parquet', 'combined', 'combined-parquet']);
    expect(ids(await search('bbox=-10,80,10,85'))).toEqual([]);
    const point = { type: 'Point', coordinates: [100, 70] };
    expect(ids(await post({ intersects: point, limit: 100 }))).toEqual(['basic', 'basic-parquet', 'combined', 'combined-parquet']);
    expect(ids(await search(`intersects=${encodeURIComponent(JSON.stringify(point))}&limit=100`))).toEqual(['basic', 'basic-parquet', 'combined', 'combined-parquet']);
  });

  it('datetime: instant, closed and open intervals', async () => {
    expect(ids(await search('datetime=2001-03-01T00:00:00Z'))).toEqual(['templated', 'templated-parquet']);
    expect(ids(await search('datetime=2000-01-05T00:00:00Z&limit=100'))).toEqual(['basic', 'basic-parquet', 'combined', 'combined-parquet']);
    expect(ids(await search('datetime=../1995-01-01T00:00:00Z'))).toEqual(['generated', 'generated-parquet']);
    expect(ids(await search('datetime=2000-01-20T00:00:00Z/..&limit=100'))).toEqual(['combined', 'combined-parquet', 'templated', 'templated-parquet']);
    expect(ids(await search('datetime=1990-01-10T00:00:00Z/2000-01-01T06:00:00Z&limit=100'))).toEqual(['combined', 'combined-parquet', 'generated', 'generated-parquet']);
    expect(ids(await post({ datetime: '2001-01-01T00:00:00Z/2002-01-01T00:00:00Z' }))).toEqual(['templated', 'templated-parquet']);
  });

  it('sortby: ascending, descending, several fields, POST form', async () => {
    const descending = await search('sortby=-properties.start_datetime&limit=100');
    expect(descending.body.features.map((f) => f.id)).toEqual([
      'templated',
      'templated-parquet',
      'basic',
      'basic-parquet',
      'combined',
      'combined-parquet',
      'generated',
      'generated-parquet',
    ]);
    const byId = await search('sortby=-id&limit=100');
    expect(byId.body.features.map((f) => f.id)).toEqual([...ALL].reverse());
    const twoKeys = await post({
      sortby: [
        { field: 'collection', direction: 'desc' },
        { field: 'id', direction: 'desc' },
      ],
      limit: 100,
    });
    expect(twoKeys.body.features.map((f) => f.id)).toEqual([
      'basic',
      'templated-parquet',
      'generated-parquet',
      'combined-parquet',
      'basic-parquet',
      'templated',
      'generated',
      'combined',
    ]);
    const plus = await search(`sortby=${encodeURIComponent('+id')}&limit=100`);
    expect(plus.body.features.map((f) => f.id)).toEqual(ALL);
  });

  it('fields: include and exclude', async () => {
    const slim = await search('ids=basic&fields=id,-geometry,-assets,properties.title');
    const [feature] = slim.body.features as [Feature];
    expect(feature.geometry).toBeUndefined();
    expect(feature.assets).toBeUndefined();
    expect(feature.properties.title).toBe('Fixture basic');
    expect(feature.properties['cube:dimensions']).toBeUndefined();
    expect(feature.properties.start_datetime).toBe('2000-01-01T12:00:00Z');
    const posted = await post({ ids: ['basic'], fields: { include: ['properties'], exclude: ['properties.cube:variables'] } });
    const [full] = posted.body.features as [Feature];
    expect(full.properties['cube:dimensions']).toBeDefined();
    expect(full.properties['cube:variables']).toBeUndefined();
    expect(full.links.length).toBeGreaterThan(0);
  });

  it('filter: CQL2 JSON logic, comparisons, like, in, isNull, spatial, temporal, arrays', async () => {
    const eq = (property: string, value: unknown) => ({ op: '=', args: [{ property }, value] });
    expect(ids(await filter(eq('id', 'basic')))).toEqual(['basic']);
    expect(ids(await filter({ op: 'and', args: [eq('collection', 'json'), { op: 'like', args: [{ property: 'id' }, '%ed'] }] }))).toEqual(['combined', 'generated', 'templated']);
    expect(ids(await filter({ op: 'or', args: [eq('id', 'basic'), eq('id', 'generated')] }))).toEqual(['basic', 'generated']);
    expect(ids(await filter({ op: 'not', args: [{ op: 'like', args: [{ property: 'id' }, '%-parquet'] }] }))).toEqual(['basic', 'combined', 'generated', 'templated']);
    expect(ids(await filter({ op: '<>', args: [{ property: 'collection' }, 'parquet'] }))).toEqual(['basic', 'combined', 'generated', 'templated']);
    expect(ids(await filter({ op: 'in', args: [{ property: 'id' }, ['basic', 'templated', 'nope']] }))).toEqual(['basic', 'templated']);
    expect(ids(await filter({ op: 'isNull', args: [{ property: 'geometry' }] }))).toEqual(['generated', 'generated-parquet']);
    const after = { op: '>=', args: [{ property: 'start_datetime' }, { timestamp: '2000-01-01T06:00:00Z' }] };
    expect(ids(await filter(after))).toEqual(['basic', 'basic-parquet', 'templated', 'templated-parquet']);
    expect(ids(await filter({ op: '<', args: [{ property: 'end_datetime' }, { date: '2000-01-20' }] }))).toEqual(['basic', 'basic-parquet', 'generated', 'generated-parquet']);
    const point = { op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [0, 65] }] };
    expect(ids(await filter(point))).toEqual(['basic', 'basic-parquet', 'combined', 'combined-parquet']);
    const polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [-20, 61],
          [20, 61],
          [20, 80],
          [-20, 80],
          [-20, 61],
        ],
      ],
    };
    expect(ids(await filter({ op: 's_intersects', args: [{ property: 'geometry' }, polygon] }))).toEqual(['basic', 'basic-parquet', 'combined', 'combined-parquet']);
    expect(ids(await filter({ op: 's_intersects', args: [{ property: 'geometry' }, { bbox: [-5, -65, 5, -61] }] }))).toEqual([
      'basic',
      'basic-parquet',
      'combined',
      'combined-parquet',
    ]);
    expect(ids(await filter({ op: 't_intersects', args: [{ property: 'datetime' }, { interval: ['2001-01-01T00:00:00Z', '..'] }] }))).toEqual(['templated', 'templated-parquet']);
    expect(ids(await filter({ op: 't_before', args: [{ property: 'datetime' }, { timestamp: '2000-01-01T00:00:00Z' }] }))).toEqual(['generated', 'generated-parquet']);
    expect(ids(await filter({ op: 't_during', args: [{ property: 'datetime' }, { interval: ['1999-12-31T00:00:00Z', '2000-01-13T00:00:00Z'] }] }))).toEqual([
      'basic',
      'basic-parquet',
    ]);
    expect(ids(await filter({ op: 'a_contains', args: [{ property: 'variables' }, ['plev']] }))).toEqual(['templated', 'templated-parquet']);
    expect(ids(await filter({ op: 'a_contains', args: [{ property: 'keywords' }, ['parquet']] }))).toEqual(ALL.filter((id) => id.endsWith('-parquet')));
    expect(ids(await filter({ op: 'between', args: [{ property: 'start_datetime' }, { timestamp: '1989-01-01T00:00:00Z' }, { timestamp: '1999-01-01T00:00:00Z' }] }))).toEqual([
      'generated',
      'generated-parquet',
    ]);
    const posted = await post({ filter: eq('license', 'CC0-1.0'), 'filter-lang': 'cql2-json', limit: 100 });
    expect(ids(posted)).toEqual(ALL);
  });

  it('filter: CQL2 text (GET default, filter-lang=cql2-text, POST) finds what the JSON form finds', async () => {
    const pairs: Array<[string, unknown]> = [
      ["id = 'basic'", { op: '=', args: [{ property: 'id' }, 'basic'] }],
      [
        "collection = 'json' AND id LIKE '%ed'",
        {
          op: 'and',
          args: [
            { op: '=', args: [{ property: 'collection' }, 'json'] },
            { op: 'like', args: [{ property: 'id' }, '%ed'] },
          ],
        },
      ],
      ["NOT id LIKE '%-parquet'", { op: 'not', args: [{ op: 'like', args: [{ property: 'id' }, '%-parquet'] }] }],
      ["id IN ('basic', 'templated', 'nope')", { op: 'in', args: [{ property: 'id' }, ['basic', 'templated', 'nope']] }],
      ['geometry IS NULL', { op: 'isNull', args: [{ property: 'geometry' }] }],
      ["end_datetime < DATE('2000-01-20')", { op: '<', args: [{ property: 'end_datetime' }, { date: '2000-01-20' }] }],
      ['S_INTERSECTS(geometry, BBOX(-5, -65, 5, -61))', { op: 's_intersects', args: [{ property: 'geometry' }, { bbox: [-5, -65, 5, -61] }] }],
      ['S_INTERSECTS(geometry, POINT(0 0))', { op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [0, 0] }] }],
      ["T_INTERSECTS(datetime, INTERVAL('2001-01-01T00:00:00Z', '..'))", { op: 't_intersects', args: [{ property: 'datetime' }, { interval: ['2001-01-01T00:00:00Z', '..'] }] }],
      ["A_CONTAINS(variables, ('plev'))", { op: 'a_contains', args: [{ property: 'variables' }, ['plev']] }],
      [
        "\"start_datetime\" BETWEEN TIMESTAMP('1989-01-01T00:00:00Z') AND TIMESTAMP('1999-01-01T00:00:00Z')",
        { op: 'between', args: [{ property: 'start_datetime' }, { timestamp: '1989-01-01T00:00:00Z' }, { timestamp: '1999-01-01T00:00:00Z' }] },
      ],
    ];
    for (const [text, expression] of pairs) {
      const expected = ids(await filter(expression));
      expect(expected.length, text).toBeGreaterThan(0);
      // STAC Browser and curl: percent-encoded; pystac-client (requests): spaces as "+".
      expect(ids(await search(`limit=100&filter=${encodeURIComponent(text)}`)), text).toEqual(expected);
      expect(ids(await search(`limit=100&filter-lang=cql2-text&filter=${encodeURIComponent(text).replace(/%20/g, '+')}`)), text).toEqual(expected);
      expect(ids(await post({ filter: text, 'filter-lang': 'cql2-text', limit: 100 })), text).toEqual(expected);
    }
    const conformance = await json<{ conformsTo: string[] }>('/stac/conformance');
    expect(conformance.body.conformsTo).toEqual(
      expect.arrayContaining(['http://www.opengis.net/spec/cql2/1.0/conf/cql2-text', 'http://www.opengis.net/spec/cql2/1.0/conf/cql2-json']),
    );
    const broken = await json<{ code: string; description: string }>(`/stac/search?filter=${encodeURIComponent("id = 'basic")}`);
    expect(broken.status).toBe(400);
    expect(broken.body.description).toBe('"filter": cql2-text syntax error at character 6: unterminated string (a string literal ends with \')');
  });

  it('combined parameters', async () => {
    const result = await search(
      `collections=json&bbox=-10,-10,10,10&datetime=2000-01-01T00:00:00Z/..&sortby=-id&filter=${encodeURIComponent(
        JSON.stringify({ op: '<>', args: [{ property: 'id' }, 'templated'] }),
      )}`,
    );
    expect(result.body.features.map((f) => f.id)).toEqual(['combined']);
    const posted = await post({
      collections: ['parquet', 'strato'],
      datetime: '2000-01-01T00:00:00Z/2000-12-31T00:00:00Z',
      intersects: { type: 'Point', coordinates: [-100, 0] },
      sortby: [{ field: 'id', direction: 'desc' }],
      fields: { include: ['id'], exclude: ['assets'] },
    });
    expect(posted.body.features.map((f) => f.id)).toEqual(['combined-parquet', 'basic-parquet', 'basic']);
    expect(posted.body.features.every((f) => f.assets === undefined)).toBe(true);
  });

  async function pageThrough(first: string | { body: unknown }, limit: number): Promise<{ pages: number; seen: string[] }> {
    const seen: string[] = [];
    let pages = 0;
    let result = typeof first === 'string' ? await search(first) : await post(first.body);
    for (;;) {
      pages++;
      expect(result.status).toBe(200);
      expect(result.body.numberReturned).toBeLessThanOrEqual(limit);
      expect(validator.validateItemCollection(result.body)).toEqual([]);
      seen.push(...result.body.features.map((f) => f.id));
      const next = result.body.links.find((l) => l.rel === 'next');
      if (!next) break;
      expect(next.href.startsWith(server.url)).toBe(true);
      result = next.method === 'POST' ? await post(next.body) : await json<ItemCollection>(next.href);
      if (pages > 20) throw new Error('paging does not end');
    }
    return { pages, seen };
  }

  it('GET paging: limit=3 over 8 items gives 3 pages, every item once, in order', async () => {
    const { pages, seen } = await pageThrough('limit=3', 3);
    expect(pages).toBe(3);
    expect(seen).toEqual(ALL);
    const sorted = await pageThrough('limit=2&sortby=-properties.start_datetime', 2);
    expect(sorted.pages).toBe(4);
    expect(sorted.seen).toEqual((await search('limit=100&sortby=-properties.start_datetime')).body.features.map((f) => f.id));
  });

  it('POST paging with a filter, and paging of a collection', async () => {
    const { pages, seen } = await pageThrough({ body: { limit: 2, filter: { op: 'like', args: [{ property: 'id' }, '%_%'] }, sortby: [{ field: 'id', direction: 'desc' }] } }, 2);
    expect(pages).toBe(4);
    expect(seen).toEqual([...ALL].reverse());
    const collectionPages: string[] = [];
    let href: string | undefined = `${server.url}/stac/collections/parquet/items?limit=3`;
    let count = 0;
    while (href) {
      const page: { body: ItemCollection } = await json<ItemCollection>(href);
      collectionPages.push(...page.body.features.map((f) => f.id));
      href = page.body.links.find((l) => l.rel === 'next')?.href;
      count++;
    }
    expect(count).toBe(2);
    expect(collectionPages).toEqual(ALL.filter((id) => id.endsWith('-parquet')));
  });

  it('bad parameters answer 400 with {code, description}', async () => {
    const bad = [
      'limit=0',
      'limit=abc',
      'bbox=1,2,3',
      'bbox=0,10,5,5',
      'bbox=a,b,c,d',
      'datetime=yesterday',
      'datetime=../..',
      'datetime=2001-01-01T00:00:00Z/2000-01-01T00:00:00Z',
      'datetime=2001-01-01',
      'filter=not-json',
      'filter-lang=cql2-text&filter=id%3D1',
      `filter=${encodeURIComponent(JSON.stringify({ op: '=', args: [{ property: 'nope' }, 1] }))}`,
      `filter=${encodeURIComponent(JSON.stringify({ op: '=', args: [{ property: 'id' }, 1] }))}`,
      `filter=${encodeURIComponent(JSON.stringify({ op: 'frobnicate', args: [] }))}`,
      'sortby=id;drop',
      'token=garbage',
      `intersects=${encodeURIComponent('{"type":"Point"}')}`,
      'bbox=0,0,1,1&intersects=' + encodeURIComponent('{"type":"Point","coordinates":[0,0]}'),
      'limit=1&limit=2',
    ];
    for (const query of bad) {
      const result = await json<{ code: string; description: string }>(`/stac/search?${query}`);
      expect(result.status, query).toBe(400);
      expect(typeof result.body.code, query).toBe('string');
      expect(typeof result.body.description, query).toBe('string');
    }
    const badBodies: Array<string | object> = [
      '{not json',
      [],
      { ids: 'basic' },
      { limit: -1 },
      { sortby: [{ field: 'id', direction: 'up' }] },
      { fields: { include: 'id' } },
      { filter: { op: 'and', args: [true] } },
    ];
    for (const body of badBodies) {
      const response = await fetch(`${server.url}/stac/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBeTypeOf('string');
    }
    expect((await json('/stac/collections/json/items?limit=-3')).status).toBe(400);
  });
});
