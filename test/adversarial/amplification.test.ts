import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { underAttack } from '../helpers/hostile.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * Amplification: a small request that would make the server do huge work. Each runs against the
 * built CLI while /health is asked every 100 ms: the answer comes with the expected status in
 * bounded time, /health never waits a second, and the server's memory grows by a bounded amount.
 */
const zarray = (shape: number[], chunks: number[], dtype: string, fill: number | null) =>
  JSON.stringify({ zarr_format: 2, shape, chunks, dtype, compressor: null, filters: null, fill_value: fill, order: 'C' });
const zattrs = (dims: string[], attrs: Record<string, unknown> = {}) => JSON.stringify({ _ARRAY_DIMENSIONS: dims, ...attrs });
const inline = (values: Float64Array) => `base64:${Buffer.from(values.buffer).toString('base64')}`;
const range = (n: number, from: number, step: number) => Float64Array.from({ length: n }, (_, i) => from + i * step);

const STEPS = 5_000_000;
const TIME_CHUNK = 100_000;
const GRID = 20_000;

async function writeCatalog(dir: string): Promise<string> {
  // 5M chunks of which none is written (the table lists only metadata)
  const holes = {
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format":2}',
      'tas/.zarray': zarray([STEPS, 1, 1], [1, 1, 1], '<f4', 1e20),
      'tas/.zattrs': zattrs(['time', 'lat', 'lon'], { units: 'K' }),
    },
  };
  // a 20000 × 20000 grid in 40,000 chunks, all missing: a plot decimates but meets every chunk
  const sparse = {
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format":2}',
      'lat/.zarray': zarray([GRID], [GRID], '<f8', null),
      'lat/.zattrs': zattrs(['lat'], { units: 'degrees_north', standard_name: 'latitude' }),
      'lat/0': inline(range(GRID, -89.99, 179.98 / GRID)),
      'lon/.zarray': zarray([GRID], [GRID], '<f8', null),
      'lon/.zattrs': zattrs(['lon'], { units: 'degrees_east', standard_name: 'longitude' }),
      'lon/0': inline(range(GRID, 0, 360 / GRID)),
      'tas/.zarray': zarray([GRID, GRID], [100, 100], '<f4', 1e20),
      'tas/.zattrs': zattrs(['lat', 'lon'], { units: 'K', _FillValue: 1e20 }),
    },
  };
  // 5M hourly steps stored in a 40 MB file, 50 chunks; the field itself is missing
  const times = range(STEPS, 0, 1);
  await writeFile(join(dir, 'data', 'time.bin'), Buffer.from(times.buffer));
  const longAxis: { version: number; refs: Record<string, unknown> } = {
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format":2}',
      'time/.zarray': zarray([STEPS], [TIME_CHUNK], '<f8', null),
      'time/.zattrs': zattrs(['time'], { units: 'hours since 1950-01-01', calendar: 'standard', standard_name: 'time' }),
      'lat/.zarray': zarray([2], [2], '<f8', null),
      'lat/.zattrs': zattrs(['lat'], { units: 'degrees_north', standard_name: 'latitude' }),
      'lat/0': inline(Float64Array.from([-45, 45])),
      'lon/.zarray': zarray([2], [2], '<f8', null),
      'lon/.zattrs': zattrs(['lon'], { units: 'degrees_east', standard_name: 'longitude' }),
      'lon/0': inline(Float64Array.from([0, 180])),
      'tas/.zarray': zarray([STEPS, 2, 2], [1, 2, 2], '<f4', 1e20),
      'tas/.zattrs': zattrs(['time', 'lat', 'lon'], { units: 'K', _FillValue: 1e20 }),
    },
  };
  for (let i = 0; i < STEPS / TIME_CHUNK; i++) longAxis.refs[`time/${i}`] = ['data/time.bin', i * TIME_CHUNK * 8, TIME_CHUNK * 8];
  await writeFile(join(dir, 'holes.json'), JSON.stringify(holes));
  await writeFile(join(dir, 'sparse.json'), JSON.stringify(sparse));
  await writeFile(join(dir, 'long-axis.json'), JSON.stringify(longAxis));
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(
    catalog,
    ['datasets:', '  holes: {refs: holes.json}', '  sparse: {refs: sparse.json}', '  long-axis: {refs: long-axis.json}', 'sources:', '  allow: [data/]', ''].join('\n'),
  );
  return catalog;
}

let dir: string;
let server: SpawnedServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-amplification-'));
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'data')));
  server = await spawnServer(await writeCatalog(dir), ['--log-level', 'error']);
});
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function attack(path: string) {
  return underAttack(
    server.url,
    async () => {
      const response = await fetch(`${server.url}${path}`);
      const body = Buffer.from(await response.arrayBuffer());
      return { status: response.status, body, type: response.headers.get('content-type') };
    },
    { pid: server.process.pid as number },
  );
}

describe('F3: missing-chunk grids', () => {
  it('an OPeNDAP hyperslab over 5M unwritten chunks is refused at once (413, DAP error)', async () => {
    const report = await attack('/datasets/holes/opendap.dods?tas[0:1:4999999][0][0]');
    expect(report.result.status).toBe(413);
    expect(report.result.body.toString()).toMatch(/Error \{[\s\S]*chunks/);
    expect(report.elapsedMs).toBeLessThan(2000);
    expect(report.worstHealthMs).toBeLessThan(1000);
    expect(report.rssGrowthMiB).toBeLessThan(100);
  });

  it('a hyperslab over 90,000 missing chunks, within the budget, is answered with fill values while /health stays quick', async () => {
    const report = await attack('/datasets/holes/opendap.dods?tas[0:1:89999][0][0]');
    expect(report.result.status).toBe(200);
    const body = report.result.body;
    const data = body.subarray(body.indexOf('Data:\n') + 'Data:\n'.length);
    // XDR: the count twice, then big-endian float32 values (the grid's map vectors follow)
    expect(data.readUInt32BE(0)).toBe(90_000);
    expect(data.readFloatBE(8)).toBe(Math.fround(1e20));
    expect(data.readFloatBE(8 + 4 * 89_999)).toBe(Math.fround(1e20));
    expect(report.elapsedMs).toBeLessThan(10_000);
    expect(report.worstHealthMs).toBeLessThan(1000);
    expect(report.rssGrowthMiB).toBeLessThan(200);
  });

  it('a plot over a 20000 × 20000 grid of missing chunks is a transparent picture, quickly and in bounded memory', async () => {
    const report = await attack('/datasets/sparse/plot/tas.png');
    expect(report.result.status).toBe(200);
    expect(report.result.type).toBe('image/png');
    expect(report.elapsedMs).toBeLessThan(10_000);
    expect(report.worstHealthMs).toBeLessThan(1000);
    expect(report.rssGrowthMiB).toBeLessThan(200);
  });

  it('the processed view of a missing chunk is its fill values', async () => {
    const response = await fetch(`${server.url}/datasets/holes/zarr/tas/4999999.0.0`);
    expect(response.status).toBe(200);
  });
});

describe('F4: a plot at a date on a 5M-step time axis reads a few steps, not the axis', () => {
  it('finds the step by binary search; /health stays quick, memory flat', async () => {
    const step = 4_999_000;
    const date = new Date(Date.UTC(1950, 0, 1) + step * 3600_000).toISOString().slice(0, 13);
    const report = await attack(`/datasets/long-axis/plot/tas.png?time=${date}`);
    expect(report.result.status).toBe(200);
    expect(report.elapsedMs).toBeLessThan(3000);
    expect(report.worstHealthMs).toBeLessThan(1000);
    expect(report.rssGrowthMiB).toBeLessThan(150);
  });

  it('a date outside the axis is a 400 naming the range', async () => {
    const response = await fetch(`${server.url}/datasets/long-axis/plot/tas.png?time=1900-01-01`);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/1950-01-01 to 2520-/);
  });
});
