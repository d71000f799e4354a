import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';
import { repoRoot } from '../helpers/server.js';

/**
 * The store roots of both views answer like a static Zarr directory behind nginx: `<view>` → 301
 * to `<view>/`, which is a small HTML index of the root's documents and top-level arrays (GDAL's
 * /vsicurl/ identifies the store from it; test/interop/dataset-snippets.test.ts runs gdalmdiminfo).
 */
let app: InProcessApp;
beforeAll(async () => {
  app = await openApp(`${repoRoot}demo/catalog.yaml`);
});
afterAll(async () => {
  await app.close();
});

describe('store roots', () => {
  for (const view of ['zarr', 'kerchunk']) {
    for (const method of ['GET', 'HEAD']) {
      it(`${method} /datasets/tas-daily/${view} redirects to the directory`, async () => {
        const response = await app.request(`/datasets/tas-daily/${view}`, { method });
        expect(response.status).toBe(301);
        expect(response.headers.get('location')).toBe(`${view}/`);
      });
      it(`${method} /datasets/tas-daily/${view}/ lists the root`, async () => {
        const response = await app.request(`/datasets/tas-daily/${view}/`, { method });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
        const length = Number(response.headers.get('content-length'));
        expect(length).toBeGreaterThan(100);
        const body = await response.text();
        if (method === 'HEAD') return expect(body).toBe('');
        expect(new TextEncoder().encode(body).byteLength).toBe(length);
        for (const name of ['tas/', 'time/', 'lat/', 'lon/', '.zgroup', '.zattrs', '.zmetadata', 'zarr.json']) expect(body).toContain(`<a href="${name}">${name}</a>`);
        expect(body).toContain(`<title>Index of /datasets/tas-daily/${view}/</title>`);
      });
    }
  }

  it('the listed document sizes are the served ones', async () => {
    const body = await (await app.request('/datasets/pr-daily/zarr/')).text();
    for (const name of ['.zmetadata', 'zarr.json', '.zgroup']) {
      const served = await app.request(`/datasets/pr-daily/zarr/${name}`, { method: 'HEAD' });
      const listed = new RegExp(`>${name.replace('.', '\\.')}</a> +\\S+ \\S+ +(\\d+)`).exec(body)?.[1];
      expect(listed).toBe(served.headers.get('content-length'));
    }
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await app.request('/datasets/tas-daily/zarr/');
    const etag = first.headers.get('etag') ?? '';
    const again = await app.request('/datasets/tas-daily/zarr/', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('an unknown dataset is still a 404 problem', async () => {
    const response = await app.request('/datasets/nope/zarr/');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});
