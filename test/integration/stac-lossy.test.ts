import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BITROUND_ATTRIBUTE } from '../../stac-model/lossy.js';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';
import { repoRoot } from '../helpers/server.js';
import { StacValidator } from '../helpers/stac-validator.js';

/**
 * Issue 16, item 4 (STAC): the demo's processed view rounds tas to 10 mantissa bits
 * (`processing.keepbits: 10`). Its STAC Item says so on the `zarr` asset — a description and
 * `strato:keepbits` — read from the processed view's own metadata, so the Item and the served
 * attribute agree; pr-daily (no processing) is labelled lossless.
 */
interface Asset {
  href: string;
  title?: string;
  description?: string;
  'strato:keepbits'?: Record<string, number>;
}
interface Item {
  assets: Record<string, Asset>;
}

let app: InProcessApp;
const validator = new StacValidator();
beforeAll(async () => {
  app = await openApp(join(repoRoot, 'demo', 'catalog.yaml'));
});
afterAll(async () => app?.close());

async function item(path: string): Promise<Item> {
  const response = await app.request(path);
  expect(response.status, path).toBe(200);
  const document = (await response.json()) as Item;
  expect(validator.validate(document), path).toEqual([]);
  return document;
}

describe('STAC labels the lossy processed view', () => {
  it('tas-daily: the zarr asset names tas and its 10 bits, as the served .zattrs do', async () => {
    // Exactly the arrays whose served .zattrs carry the attribute, with its value.
    const zmetadata = (await (await app.request('/datasets/tas-daily/zarr/.zmetadata')).json()) as { metadata: Record<string, Record<string, unknown>> };
    const served = Object.fromEntries(
      Object.entries(zmetadata.metadata)
        .filter(([key, attrs]) => key.endsWith('/.zattrs') && BITROUND_ATTRIBUTE in attrs)
        .map(([key, attrs]) => [key.slice(0, -'/.zattrs'.length), attrs[BITROUND_ATTRIBUTE]]),
    );
    expect(served.tas).toBe(10);
    for (const path of ['/datasets/tas-daily/stac', '/stac/collections/strato/items/tas-daily']) {
      const zarr = (await item(path)).assets.zarr;
      expect(zarr?.['strato:keepbits'], path).toEqual(served);
      expect(zarr?.description, path).toContain('Lossy: bit-rounded');
      expect(zarr?.description, path).toContain('tas to 10 mantissa bits');
      expect((await item(path)).assets.kerchunk?.['strato:keepbits'], path).toBeUndefined();
    }
    const zattrs = (await (await app.request('/datasets/tas-daily/zarr/tas/.zattrs')).json()) as Record<string, unknown>;
    expect(zattrs[BITROUND_ATTRIBUTE]).toBe(10);
  });

  it('pr-daily (no processing): the zarr asset says lossless, with no bits', async () => {
    const zarr = (await item('/datasets/pr-daily/stac')).assets.zarr;
    expect(zarr?.['strato:keepbits']).toEqual({});
    expect(zarr?.description).toMatch(/^Lossless/);
  });

  it('search results carry the same labels', async () => {
    const response = await app.request(`/stac/search?filter=${encodeURIComponent("id = 'tas-daily'")}`);
    const found = (await response.json()) as { features: Item[] };
    expect(found.features.map((f) => f.assets.zarr?.['strato:keepbits']?.tas)).toEqual([10]);
  });
});
