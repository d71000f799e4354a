import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Known facts of the synthetic grids, for assertions. */
export const GRID = {
  times: [0, 31, 59], // days since 2000-01-01: 2000-01-01, 2000-02-01, 2000-02-29
  lat: [-45, -15, 15, 45], // ascending: south first, so plots must flip rows
  lon: [0, 60, 120, 180, 240, 300],
  /** In `t` at time 1: the maximum (north row, column 2) and a fill-value cell (south row, column 4). */
  max: { time: 1, lat: 3, lon: 2 },
  fill: { time: 1, lat: 0, lon: 4 },
} as const;

const zarray = (shape: number[], chunks: number[], dtype: string, fill: number | string | null) =>
  JSON.stringify({ zarr_format: 2, shape, chunks, dtype, compressor: null, filters: null, fill_value: fill, order: 'C' });
const zattrs = (dims: string[], attrs: Record<string, unknown> = {}) => JSON.stringify({ _ARRAY_DIMENSIONS: dims, ...attrs });
const inline = (bytes: ArrayBufferView) => `base64:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;

/** Stored int16 of `t`: k*40 + j*6 + i, with the maximum and a fill value at time 1. */
export function storedT(k: number, j: number, i: number): number {
  if (k === GRID.max.time && j === GRID.max.lat && i === GRID.max.lon) return 500;
  if (k === GRID.fill.time && j === GRID.fill.lat && i === GRID.fill.lon) return -999;
  return k * 40 + j * 6 + i;
}

function gridReferences(): Record<string, string> {
  const refs: Record<string, string> = {
    '.zattrs': JSON.stringify({ title: 'Synthetic test grid', Conventions: 'CF-1.8' }),
    'time/.zarray': zarray([3], [3], '<f8', null),
    'time/.zattrs': zattrs(['time'], { units: 'days since 2000-01-01', calendar: 'standard', standard_name: 'time' }),
    'time/0': inline(Float64Array.from(GRID.times)),
    'lat/.zarray': zarray([4], [4], '<f8', null),
    'lat/.zattrs': zattrs(['lat'], { units: 'degrees_north', standard_name: 'latitude' }),
    'lat/0': inline(Float64Array.from(GRID.lat)),
    'lon/.zarray': zarray([6], [6], '<f8', null),
    'lon/.zattrs': zattrs(['lon'], { units: 'degrees_east', standard_name: 'longitude' }),
    'lon/0': inline(Float64Array.from(GRID.lon)),
    'lev/.zarray': zarray([2], [2], '<f8', null),
    'lev/.zattrs': zattrs(['lev'], { units: 'hPa', positive: 'down' }),
    'lev/0': inline(Float64Array.from([1000, 500])),
    't/.zarray': zarray([3, 4, 6], [1, 4, 6], '<i2', -999),
    't/.zattrs': zattrs(['time', 'lat', 'lon'], { long_name: 'Air temperature', units: 'K', scale_factor: 0.5, add_offset: 200 }),
    'u/.zarray': zarray([3, 2, 4, 6], [1, 1, 4, 6], '<f4', 'NaN'),
    'u/.zattrs': zattrs(['time', 'lev', 'lat', 'lon'], { long_name: 'Eastward wind', units: 'm s-1' }),
  };
  for (let k = 0; k < 3; k++) {
    refs[`t/${k}.0.0`] = inline(Int16Array.from({ length: 24 }, (_, n) => storedT(k, Math.floor(n / 6), n % 6)));
    for (let l = 0; l < 2; l++) {
      refs[`u/${k}.${l}.0.0`] = inline(Float32Array.from({ length: 24 }, (_, n) => (n === 7 ? Number.NaN : k * 100 + l * 50 + n - 10)));
    }
  }
  return refs;
}

function iceReferences(): Record<string, string> {
  return {
    'lat/.zarray': zarray([4], [4], '<f8', null),
    'lat/.zattrs': zattrs(['lat'], { units: 'degrees_north' }),
    'lat/0': inline(Float64Array.from([60, 70, 80, 90])),
    'lon/.zarray': zarray([6], [6], '<f8', null),
    'lon/.zattrs': zattrs(['lon'], { units: 'degrees_east' }),
    'lon/0': inline(Float64Array.from(GRID.lon)),
    'siconc/.zarray': zarray([4, 6], [4, 6], '<f4', null),
    'siconc/.zattrs': zattrs(['lat', 'lon'], { long_name: 'Sea-ice area fraction', units: '%' }),
    'siconc/0.0': inline(Float32Array.from({ length: 24 }, (_, n) => n * 4)),
  };
}

/** A catalog of two small inline-referenced datasets: `grid` (t, u) and `sea-ice` (siconc). */
export async function makeGridCatalog(): Promise<{ dir: string; catalog: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-grid-'));
  await mkdir(join(dir, 'refs'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'refs', 'grid.json'), JSON.stringify({ version: 1, refs: gridReferences() }));
  await writeFile(join(dir, 'refs', 'ice.json'), JSON.stringify({ version: 1, refs: iceReferences() }));
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(
    catalog,
    `datasets:
  grid: {refs: refs/grid.json, title: Synthetic grid, description: Air temperature and wind on a coarse test grid., license: CC0-1.0}
  sea-ice: {refs: refs/ice.json, title: Arctic sea ice}
sources:
  allow: [data/]
`,
  );
  return { dir, catalog };
}
