import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * F12: a chunk that cannot be decoded is a 502 with a problem body (a DAP error for OPeNDAP) on
 * every face that decodes; an array whose chunk grid passes 2^53 chunks leaves the rest of its
 * dataset's processed view working.
 */
const zarray = (shape: number[], chunks: number[], compressor: unknown) =>
  JSON.stringify({ zarr_format: 2, shape, chunks, dtype: '<f4', compressor, filters: null, fill_value: null, order: 'C' });
const zattrs = (dims: string[], attrs: Record<string, unknown> = {}) => JSON.stringify({ _ARRAY_DIMENSIONS: dims, ...attrs });

let dir: string;
let server: SpawnedServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-corrupt-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'garbage.bin'), Buffer.from('this is not a zlib stream at all, not even close'));
  const corrupt = {
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format":2}',
      'lat/.zarray': zarray([2], [2], null),
      'lat/.zattrs': zattrs(['lat'], { units: 'degrees_north', standard_name: 'latitude' }),
      'lat/0': `base64:${Buffer.from(Float32Array.from([-45, 45]).buffer).toString('base64')}`,
      'lon/.zarray': zarray([2], [2], null),
      'lon/.zattrs': zattrs(['lon'], { units: 'degrees_east', standard_name: 'longitude' }),
      'lon/0': `base64:${Buffer.from(Float32Array.from([0, 180]).buffer).toString('base64')}`,
      'tas/.zarray': zarray([2, 2], [2, 2], { id: 'zlib', level: 1 }),
      'tas/.zattrs': zattrs(['lat', 'lon'], { units: 'K' }),
      'tas/0.0': ['data/garbage.bin', 0, 48],
    },
  };
  const huge = {
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format":2}',
      'wide/.zarray': zarray([2 ** 40, 2 ** 40], [1, 1], null),
      'wide/.zattrs': zattrs(['y', 'x']),
      'small/.zarray': zarray([2], [2], null),
      'small/.zattrs': zattrs(['i']),
      'small/0': `base64:${Buffer.from(Float32Array.from([1.5, 2.5]).buffer).toString('base64')}`,
    },
  };
  await writeFile(join(dir, 'corrupt.json'), JSON.stringify(corrupt));
  await writeFile(join(dir, 'huge.json'), JSON.stringify(huge));
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(
    catalog,
    'datasets:\n  corrupt: {refs: corrupt.json}\n  huge: {refs: huge.json}\n  misprocessed: {refs: huge.json, processing: {keepbits: ten}}\nsources:\n  allow: [data/]\n',
  );
  server = await spawnServer(catalog, ['--log-level', 'warn']);
});
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('F12: a corrupt chunk is a 502 on every face, never a 500', () => {
  it.each([
    ['processed view', '/datasets/corrupt/zarr/tas/0.0', 'application/problem+json'],
    ['processed view, v3 key', '/datasets/corrupt/zarr/tas/c/0/0', 'application/problem+json'],
    ['plot', '/datasets/corrupt/plot/tas.png', 'application/problem+json'],
  ])('%s', async (_, path, type) => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toContain(type);
    const body = (await response.json()) as { status: number; detail: string };
    expect(body.status).toBe(502);
    expect(body.detail).toMatch(/could not be decoded/);
  });

  it('OPeNDAP answers a DAP error with status 502', async () => {
    const response = await fetch(`${server.url}/datasets/corrupt/opendap.dods?tas`);
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(text).toMatch(/^Error \{/);
    expect(text).toMatch(/could not be decoded/);
    expect(text).not.toMatch(/\/tmp|strato-corrupt/);
  });
});

describe('F12: an array with more than 2^53 chunks does not break its dataset', () => {
  it('the other arrays of the processed view are served; the wide one passes through', async () => {
    const small = await fetch(`${server.url}/datasets/huge/zarr/small/0`);
    expect(small.status).toBe(200);
    const meta = await fetch(`${server.url}/datasets/huge/zarr/.zmetadata`);
    expect(meta.status).toBe(200);
    const wide = await fetch(`${server.url}/datasets/huge/zarr/wide/5.5`);
    expect(wide.status).toBe(404);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});

describe('F12: a processing block the stages refuse, written into the catalog file', () => {
  it('leaves the entry out with reason entry-invalid instead of serving a /zarr that answers 500', async () => {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; problems: Array<{ id: string; reason: string }> };
    expect(health.status).toBe('degraded');
    expect(health.problems).toContainEqual({ id: 'misprocessed', reason: 'entry-invalid' });
    expect((await fetch(`${server.url}/datasets/misprocessed/zarr/.zmetadata`)).status).toBe(404);
    expect(server.stderr()).toMatch(/misprocessed[^\n]*keepbits/);
    expect((await fetch(`${server.url}/datasets/huge/zarr/small/0`)).status).toBe(200);
  });
});
