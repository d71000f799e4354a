import { rm } from 'node:fs/promises';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Colormap, colormap } from '../../plugins/plots/colormaps.js';
import { GRID, makeGridCatalog } from '../helpers/grid-fixture.js';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';

let dir: string;
let strato: InProcessApp;
const get = (path: string, init?: RequestInit) => strato.request(path, init);
/** What a browser sends: the landing page answers HTML to it, JSON to OGC API clients. */
const HTML: RequestInit = { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } };

beforeAll(async () => {
  const made = await makeGridCatalog();
  dir = made.dir;
  strato = await openApp(made.catalog);
});
afterAll(async () => {
  await strato?.close();
  await rm(dir, { recursive: true, force: true });
});

async function png(path: string): Promise<PNG> {
  const response = await get(path);
  expect(
    response.status,
    await response
      .clone()
      .text()
      .catch(() => ''),
  ).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  return PNG.sync.read(Buffer.from(await response.arrayBuffer()));
}

/** Colour (RGBA) at the centre of every map cell; the map is found as the first block of colormap-coloured or transparent rows. */
function mapCells(image: PNG, columns: number, rows: number, map: Colormap): number[][][] {
  const colours = new Set(Array.from({ length: 256 }, (_, i) => map.color(i / 255).join(',')));
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -1;
  let maxY = -1;
  const isMap = (x: number, y: number) => {
    const i = (y * image.width + x) * 4;
    return image.data[i + 3] === 0 || colours.has(`${image.data[i]},${image.data[i + 1]},${image.data[i + 2]}`);
  };
  // the colorbar lies below the map: only scan above its top (the first coloured row after a gap)
  for (let y = 0; y < image.height; y++) {
    let rowHasMap = false;
    for (let x = 0; x < image.width; x++) {
      if (!isMap(x, y)) continue;
      rowHasMap = true;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
    }
    if (rowHasMap) {
      if (maxY >= 0 && y > maxY + 1) break; // reached the colorbar
      minY = Math.min(minY, y);
      maxY = y;
    }
  }
  const cellW = (maxX - minX + 1) / columns;
  const cellH = (maxY - minY + 1) / rows;
  return Array.from({ length: rows }, (_, row) =>
    Array.from({ length: columns }, (_, col) => {
      const x = Math.floor(minX + (col + 0.5) * cellW);
      const y = Math.floor(minY + (row + 0.5) * cellH);
      const i = (y * image.width + x) * 4;
      return [...image.data.subarray(i, i + 4)];
    }),
  );
}

describe('quick-look plots', () => {
  it('draws north up, the maximum in the top colour, fill values transparent', async () => {
    const viridis = colormap('viridis') as Colormap;
    const image = await png(`/datasets/grid/plot/t.png?time=${GRID.max.time}`);
    const cells = mapCells(image, GRID.lon.length, GRID.lat.length, viridis);
    // lat ascends in the data: the northernmost row (index 3) is the top row of the image
    const top = GRID.lat.length - 1 - GRID.max.lat;
    expect(cells[top]?.[GRID.max.lon]).toEqual([...viridis.color(1), 255]);
    const fillRow = GRID.lat.length - 1 - GRID.fill.lat;
    expect(cells[fillRow]?.[GRID.fill.lon]?.[3]).toBe(0);
    // the minimum (stored 40 at lat 0, lon 0 of time 1) is the bottom colour
    expect(cells[GRID.lat.length - 1]?.[0]).toEqual([...viridis.color(0), 255]);
  });

  it('selects time by ISO date and level by index, applies colormaps and vmin/vmax', async () => {
    const byDate = await get('/datasets/grid/plot/t.png?time=2000-02-01');
    const byIndex = await get('/datasets/grid/plot/t.png?time=1');
    expect(byDate.headers.get('etag')).toBe(byIndex.headers.get('etag'));
    const month = await get('/datasets/grid/plot/t.png?time=2000-02');
    expect(month.headers.get('etag')).toBe(byIndex.headers.get('etag'));
    const magma = colormap('magma') as Colormap;
    const image = await png('/datasets/grid/plot/u.png?time=2&level=1&cmap=magma&vmin=0&vmax=1');
    const cells = mapCells(image, 6, 4, magma);
    // every u value at time 2, level 1 is ≥ 240 except the NaN: all clamp to the top colour
    expect(cells[0]?.[0]).toEqual([...magma.color(1), 255]);
    const transparent = cells.flat().filter((c) => c[3] === 0);
    expect(transparent).toHaveLength(1);
  });

  it('answers ETag revalidation with 304 and HEAD without a body', async () => {
    const first = await get('/datasets/sea-ice/plot/siconc.png');
    const etag = first.headers.get('etag') as string;
    expect(etag).toMatch(/^"/);
    expect(first.headers.get('cache-control')).toMatch(/max-age/);
    const again = await get('/datasets/sea-ice/plot/siconc.png', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const head = await get('/datasets/sea-ice/plot/siconc.png', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  const bad: Array<[string, number, RegExp]> = [
    ['/datasets/grid/plot/t.png?time=abc', 400, /time/],
    ['/datasets/grid/plot/t.png?time=3', 400, /out of range/],
    ['/datasets/grid/plot/t.png?time=1999-01-01', 400, /2000-01-01 to 2000-02-29/],
    ['/datasets/grid/plot/t.png?level=0', 400, /level/],
    ['/datasets/grid/plot/u.png?level=2', 400, /out of range/],
    ['/datasets/grid/plot/u.png?level=-1', 400, /level/],
    ['/datasets/grid/plot/t.png?cmap=jet', 400, /colormap/],
    ['/datasets/grid/plot/t.png?vmin=5&vmax=1', 400, /vmax/],
    ['/datasets/grid/plot/t.png?vmin=abc', 400, /vmin/],
    ['/datasets/grid/plot/t.png?time=0&time=1', 400, /once/],
    ['/datasets/grid/plot/lat.png', 400, /two or more/],
    ['/datasets/grid/plot/nope.png', 404, /nope/],
    ['/datasets/grid/plot/t.gif', 404, /./],
    ['/datasets/sea-ice/plot/siconc.png?time=0', 400, /no time/],
  ];
  for (const [path, status, detail] of bad) {
    it(`answers ${status} problem JSON for ${path}`, async () => {
      const response = await get(path);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(((await response.json()) as { detail: string }).detail).toMatch(detail);
    });
  }
});

describe('landing page', () => {
  it('lists the datasets with variables, links and security headers', async () => {
    const response = await get('/', HTML);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).not.toMatch(/https?:/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await response.text();
    for (const text of ['Synthetic grid', 'Arctic sea ice', '<code>siconc</code>', 'href="/stac"', 'href="/intake.yaml"', 'href="/docs"']) {
      expect(html).toContain(text);
    }
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
  it('filters on the server too (?q=), for browsers without JavaScript', async () => {
    const html = await (await get('/?q=siconc', HTML)).text();
    expect(html).toMatch(/<li data-search="grid [^"]*" hidden>/);
    expect(html).toMatch(/<li data-search="sea-ice [^"]*">/);
    expect(html).toContain('1 of 2 datasets');
  });
  it('uses X-Forwarded-Proto/Host for the URLs it shows', async () => {
    const html = await (await get('/', { headers: { accept: 'text/html', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'data.example.org' } })).text();
    expect(html).toContain('https://data.example.org/datasets/ID/zarr');
  });
  it('answers OGC API clients (Accept */*, ?f=json) with the JSON landing page and its links', async () => {
    for (const init of [undefined, { headers: { accept: 'application/json' } }]) {
      const response = await get('/', init);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('vary')).toMatch(/accept/i);
      const document = (await response.json()) as { links: Array<{ rel: string; href: string; type: string }> };
      const rels = new Map(document.links.map((link) => [link.rel, link.href]));
      expect(rels.get('self')).toMatch(/^http:\/\/[^/]+\/\?f=json$/);
      expect(rels.get('service-desc')).toMatch(/\/openapi\.json$/);
      expect(rels.get('conformance')).toMatch(/\/conformance$/);
      expect(rels.get('http://www.opengis.net/def/rel/ogc/1.0/processes')).toMatch(/\/processes$/);
      expect(rels.get('data')).toMatch(/\/stac\/collections$/);
      for (const link of document.links) expect((await get(new URL(link.href).pathname, { headers: { accept: link.type } })).status, link.href).toBe(200);
    }
    expect((await get('/?f=html')).headers.get('content-type')).toMatch(/^text\/html/);
    const bad = await get('/?f=__proto__');
    expect(bad.status).toBe(400);
  });
});

describe('dataset page', () => {
  it('shows the structure, the quick look and how to open the dataset', async () => {
    const response = await get('/datasets/grid/');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<h1>Synthetic grid</h1>');
    expect(html).toContain('(time: 3, lat: 4, lon: 6, lev: 2)');
    expect(html).toMatch(/<details open><summary><b>Data variables<\/b> \(2\)/);
    expect(html).toContain('<img src="plot/t.png"');
    for (const part of ['/kerchunk&#34;', '/zarr&#34;', 'intake.open_catalog', '/opendap', 'ZARR:&#34;/vsicurl/']) expect(html).toContain(part);
  });
});

describe('OpenAPI', () => {
  it('is a valid OpenAPI 3.1 document listing every route of the app', async () => {
    const response = await get('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenAPIV3_1.Document;
    expect(document.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(document) as never);
    const paths = document.paths ?? {};
    for (const [path, method] of [
      ['/', 'get'],
      ['/datasets', 'get'],
      ['/datasets/{id}', 'get'],
      ['/datasets/{id}/kerchunk/{key}', 'get'],
      ['/datasets/{id}/plot/{file}', 'get'],
      ['/openapi.json', 'get'],
      ['/docs', 'get'],
      ['/health', 'get'],
    ] as const) {
      expect(paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });
  it('serves Swagger UI and its assets from this server', async () => {
    const page = await get('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    for (const asset of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/init.js']) {
      const response = await get(asset);
      expect(response.status, asset).toBe(200);
    }
    expect((await get('/docs/assets/package.json')).status).toBe(404);
    expect((await get('/docs/assets/..%2Fpackage.json')).status).toBe(404);
  });
});
