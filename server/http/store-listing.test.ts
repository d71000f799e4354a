import { describe, expect, it } from 'vitest';
import { bytesBody, type ServedBody } from './served-body.js';
import { type ListableStore, storeListing, topLevelNames } from './store-listing.js';

function storeOf(documents: Record<string, string>): ListableStore {
  const bodies = new Map<string, ServedBody>(
    Object.entries(documents).map(([key, text]) => [key, bytesBody(new TextEncoder().encode(text), `"${key}"`, 'application/json', 'no-store')]),
  );
  return { metadata: (key) => bodies.get(key) };
}

async function text(body: ServedBody | undefined): Promise<string> {
  if (!body) throw new Error('no listing');
  return new TextDecoder().decode(await body.read(0, body.size));
}

describe('storeListing', () => {
  it('lists root documents with sizes and top-level groups and arrays, never chunks', async () => {
    const zmetadata = JSON.stringify({ metadata: { '.zgroup': {}, 'tas/.zarray': {}, 'tas/.zattrs': {}, 'g/v/.zarray': {} }, zarr_consolidated_format: 1 });
    const html = await text(await storeListing(storeOf({ '.zmetadata': zmetadata, '.zgroup': '{"zarr_format": 2}', 'zarr.json': '{}' }), '/datasets/a/zarr/'));
    expect(html).toContain('<title>Index of /datasets/a/zarr/</title>');
    expect(html).toMatch(/<a href="g\/">g\/<\/a> +01-Jan-1970 00:00 +-/);
    expect(html).toMatch(/<a href="tas\/">tas\/<\/a>/);
    expect(html).toMatch(/<a href="\.zgroup">\.zgroup<\/a> +01-Jan-1970 00:00 +18\r\n/);
    expect(html).toContain(`<a href=".zmetadata">.zmetadata</a>`);
    expect(html).toContain('<a href="zarr.json">zarr.json</a>');
    expect(html).not.toContain('.zattrs</a>');
    expect(html).not.toMatch(/tas\/0/);
  });

  it('escapes hostile names and ignores prototype keys as plain names', async () => {
    const zmetadata = JSON.stringify({ metadata: { '<img src=x onerror=alert(1)>/.zarray': {}, '__proto__/.zarray': {}, 'a"b/.zarray': {} } });
    const html = await text(await storeListing(storeOf({ '.zmetadata': zmetadata }), '/datasets/<x>/zarr/'));
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<x>');
    expect(html).toContain('href="__proto__/"');
    expect(html).toContain('href="a%22b/"');
    expect(topLevelNames(zmetadata)).toEqual(['<img src=x onerror=alert(1)>', '__proto__', 'a"b']);
  });

  it('has nothing to list without consolidated metadata, and survives a malformed one', async () => {
    expect(await storeListing(storeOf({}), '/d/zarr/')).toBeUndefined();
    expect(topLevelNames('{not json')).toEqual([]);
    expect(topLevelNames('null')).toEqual([]);
    expect(topLevelNames('{"metadata": 3}')).toEqual([]);
    const html = await text(await storeListing(storeOf({ '.zmetadata': '[1,2' }), '/d/zarr/'));
    expect(html).toContain('<a href=".zmetadata">.zmetadata</a>');
  });
});
