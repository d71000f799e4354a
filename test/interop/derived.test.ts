import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { runIngest } from '../../ingest/run-ingest.js';
import { readConfig } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';
import { runPython } from '../helpers/python.js';
import { startInProcess } from '../helpers/server.js';

/*
 * Derived datasets (catalog `derive:`) opened by xarray through /zarr equal xarray computing the
 * same on the source NetCDF files: resample, groupby, area-weighted field means, select, and
 * compositions; float32 with NaN and a missing chunk, packed int16 with _FillValue in a noleap
 * calendar, a 360_day calendar. Exact for min/max/count/select, within float rounding otherwise.
 */

const DERIVED: Record<string, string> = {
  'tas-monthly': '{from: tas, resample: {time: month}, reduce: mean}',
  'tas-monthly-max': '{from: tas, resample: {time: month}, reduce: max}',
  'tas-monthly-min': '{from: tas, resample: {time: month}, reduce: min}',
  'tas-monthly-count': '{from: tas, resample: {time: month}, reduce: count}',
  'tas-monthly-sum': '{from: tas, resample: {time: month}, reduce: sum}',
  'tas-monthly-std': '{from: tas, resample: {time: month}, reduce: std}',
  'tas-daily': '{from: tas, resample: {time: day}, reduce: mean}',
  'tas-yearly': '{from: tas, resample: {time: year}, reduce: mean}',
  'tas-seasonal': '{from: tas, resample: {time: season}, reduce: mean}',
  'tas-clim': '{from: tas, groupby: time.month, reduce: mean}',
  'tas-season-clim': '{from: tas, groupby: time.season, reduce: mean}',
  'tas-doy-max': '{from: tas, groupby: time.dayofyear, reduce: max}',
  'tas-fldmean': '{from: tas, reduce: mean, over: [lat, lon], weights: area}',
  'tas-fldmax': '{from: tas, reduce: max, over: [lat, lon]}',
  'tas-europe': '{from: tas, select: {lat: [30, 70], lon: [-10, 40], time: ["1950-01-05", "1950-02-10"]}, variables: [tas]}',
  'tas-europe-lat': '{from: tas-europe, select: {lat: [30, 70]}}',
  'tas-europe-monthly-max': '{from: tas-europe, resample: {time: month}, reduce: max}',
  'tas-monthly-fldmean': '{from: tas, resample: {time: month}, reduce: mean, over: [lat, lon], weights: area}',
  'tas-sel-monthly-fld': '{from: tas, select: {lat: [0, 60], time: ["1950-02", "1950-11"]}, resample: {time: month}, reduce: mean, over: [lat, lon], weights: area}',
  'pr-fldcount': '{from: pr, reduce: count, over: [lat, lon]}',
  'ts-season-max': '{from: ts, groupby: time.season, reduce: max}',
  'pr-monthly': '{from: pr, resample: {time: month}, reduce: mean}',
  'pr-monthly-min': '{from: pr, resample: {time: month}, reduce: min}',
  'pr-clim': '{from: pr, groupby: time.month, reduce: mean}',
  'ts-monthly': '{from: ts, resample: {time: month}, reduce: mean}',
  'ts-clim-std': '{from: ts, groupby: time.month, reduce: std}',
};

/** Served, checked by the face tests below. */
const OTHER: Record<string, string> = {
  'ts-fldmean': '{from: ts, reduce: mean, over: [lat, lon], weights: area}',
  'tas-europe-kb': '{from: tas, select: {lat: [30, 70], lon: [-10, 40]}, variables: [tas]}\n    processing: {keepbits: {tas: 8}}',
};

/** Entries that must be problem entries, never a crash. */
const BAD: Record<string, string> = {
  'bad-op': '{from: tas, resample: {time: month}, reduce: median}',
  'bad-var': '{from: tas, variables: [nope]}',
  'bad-dim': '{from: tas, reduce: mean, over: [depth]}',
  'bad-proto': '{from: tas, variables: [__proto__]}',
  'bad-cycle-a': '{from: bad-cycle-b, resample: {time: month}, reduce: mean}',
  'bad-cycle-b': '{from: bad-cycle-a, resample: {time: month}, reduce: mean}',
  'bad-from': '{from: nothing-here, resample: {time: month}, reduce: mean}',
  'bad-select': '{from: tas, select: {lat: [1000, 2000]}}',
  'bad-date': '{from: tas, select: {time: ["yesterday", "1950-02-10"]}}',
  'bad-huge': '{from: tas, select: {lat: [-1e400, 1e400]}}',
  'bad-key': '{from: tas, resample: {time: month}, reduce: mean, evil: 1}',
  'bad-processing': '{from: tas, resample: {time: month}, reduce: mean}\n    processing: {keepbits: {tas: 99}}',
};

const run = promisify(execFile);

let dir: string;
let server: RunningServer;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-derived-'));
  await mkdir(join(dir, 'data'));
  const made = await runPython('test/interop/check_derived.py', ['make', join(dir, 'data')]);
  if (made.code !== 0) throw new Error(made.stderr);
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, 'datasets: {}\nsources:\n  allow: [data/]\n');
  const quiet = { scanning() {}, scanned() {}, note() {} };
  for (const [id, file] of [
    ['tas', 'tas.nc'],
    ['pr', 'pr.nc'],
    ['ts', 'c360.nc'],
  ] as const) {
    await runIngest({ catalog, id, files: [join(dir, 'data', file)], format: 'json', inlineThreshold: 0, recordSize: 10_000, dryRun: false, replace: false }, quiet);
  }
  const entries = [
    ...['tas', 'pr', 'ts'].map((id) => `  ${id}:\n    refs: refs/${id}.json`),
    ...Object.entries({ ...DERIVED, ...OTHER, ...BAD }).map(([id, derive]) => `  ${id}:\n    derive: ${derive}`),
  ];
  await writeFile(catalog, `datasets:\n${entries.join('\n')}\nsources:\n  allow: [data/]\n`);
  server = await startInProcess(catalog);
  url = server.url;
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('derived datasets against xarray', () => {
  it('every derived dataset through /zarr equals xarray on the source files', async () => {
    const result = await runPython('test/interop/check_derived.py', ['check', url, join(dir, 'data')], 300_000);
    const lines = result.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { id: string; ok: boolean; detail: unknown });
    const failures = lines.filter((line) => !line.ok);
    expect(failures, result.stderr).toEqual([]);
    expect(lines.map((line) => line.id).sort()).toEqual(Object.keys(DERIVED).sort());
  }, 300_000);

  it('CF metadata: time bounds, climatology bounds and cell_methods', async () => {
    const monthly = (await (await fetch(`${url}/datasets/tas-monthly/zarr/.zmetadata`)).json()) as { metadata: Record<string, Record<string, unknown>> };
    expect(monthly.metadata['time/.zattrs']).toMatchObject({ bounds: 'time_bnds', units: 'days since 1950-01-01', calendar: 'standard' });
    expect(monthly.metadata['tas/.zattrs']).toMatchObject({ cell_methods: 'time: mean time: mean', units: 'K' });
    const bounds = (await (await fetch(`${url}/datasets/tas-monthly/zarr/time_bnds/.zarray`)).json()) as { shape: number[] };
    expect(bounds.shape).toEqual([14, 2]);
    const clim = (await (await fetch(`${url}/datasets/tas-clim/zarr/.zmetadata`)).json()) as { metadata: Record<string, Record<string, unknown>> };
    expect(clim.metadata['time/.zattrs']).toMatchObject({ climatology: 'climatology_bnds' });
    expect(clim.metadata['tas/.zattrs']).toMatchObject({ cell_methods: 'time: mean time: mean within years time: mean over years' });
    const fld = (await (await fetch(`${url}/datasets/tas-fldmean/zarr/.zmetadata`)).json()) as { metadata: Record<string, Record<string, unknown>> };
    expect(fld.metadata['tas/.zattrs']).toMatchObject({ cell_methods: 'time: mean area: mean', _ARRAY_DIMENSIONS: ['time'] });
  });

  it('bad specs are problem entries with a clear message, the rest is served', async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBeLessThan(500);
    for (const id of Object.keys(BAD)) {
      const response = await fetch(`${url}/datasets/${id}/zarr/.zmetadata`);
      expect(response.status, id).toBe(404);
    }
    const ok = await fetch(`${url}/datasets/tas-monthly/zarr/.zmetadata`);
    expect(ok.status).toBe(200);
  });

  it('serves the same chunk bytes through /kerchunk and answers a bad chunk key with 404', async () => {
    const meta = (await (await fetch(`${url}/datasets/tas-monthly/kerchunk/tas/.zarray`)).json()) as { chunks: number[]; dtype: string };
    expect(meta.dtype).toBe('<f4');
    const raw = await fetch(`${url}/datasets/tas-monthly/kerchunk/tas/0.0.0`);
    expect(raw.status).toBe(200);
    expect((await raw.arrayBuffer()).byteLength).toBe(meta.chunks.reduce((a, b) => a * b, 4));
    expect((await fetch(`${url}/datasets/tas-monthly/zarr/tas/99.0.0`)).status).toBe(404);
    expect((await fetch(`${url}/datasets/tas-monthly/zarr/__proto__/0`)).status).toBe(404);
  });

  it('every face serves a derived dataset: zarr v3, OPeNDAP, plots, STAC (derived_from), intake', async () => {
    const v3 = await fetch(`${url}/datasets/tas-clim/zarr/tas/zarr.json`);
    expect(v3.status).toBe(200);
    expect(((await v3.json()) as { shape: number[] }).shape).toEqual([12, 7, 8]);
    const dds = await fetch(`${url}/datasets/tas-monthly/opendap.dds`);
    expect(dds.status).toBe(200);
    expect(await dds.text()).toMatch(/Float32 tas\[time = 14\]\[lat = 7\]\[lon = 8\]/);
    const dods = await fetch(`${url}/datasets/tas-fldmean/opendap.dods?tas[0:1:2]`);
    expect(dods.status).toBe(200);
    const plot = await fetch(`${url}/datasets/tas-monthly/plot/tas.png?time=1`);
    expect(plot.status).toBe(200);
    expect(plot.headers.get('content-type')).toBe('image/png');
    const item = (await (await fetch(`${url}/stac/collections/strato/items/tas-monthly`)).json()) as { links: Array<{ rel: string; href: string }> };
    expect(item.links.find((link) => link.rel === 'derived_from')?.href).toBe(`${url}/stac/collections/strato/items/tas`);
    const intake = await fetch(`${url}/datasets/tas-monthly/catalog.yaml`);
    expect(intake.status).toBe(200);
    expect(await intake.text()).toContain('/datasets/tas-monthly/zarr');
  });

  it('processing applies after the derivation', async () => {
    // tas-europe-kb: keepbits on a derived dataset; its values are the bit-rounded derived ones
    const meta = (await (await fetch(`${url}/datasets/tas-europe-kb/zarr/tas/.zattrs`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(meta)).toMatch(/BitRound/);
  });

  it('the cloudify-compatible groupby route opens the same result without a catalog entry', async () => {
    const route = `${url}/datasets/tas/groupby/tas/time.month/mean/zarr`;
    const meta = await fetch(`${route}/.zmetadata`);
    expect(meta.status).toBe(200);
    const clim = (await (await fetch(`${url}/datasets/tas-clim/zarr/.zmetadata`)).json()) as { metadata: Record<string, unknown> };
    const grouped = (await meta.json()) as { metadata: Record<string, unknown> };
    expect(grouped.metadata['tas/.zarray']).toEqual(clim.metadata['tas/.zarray']);
    expect(grouped.metadata['tas/.zattrs']).toEqual(clim.metadata['tas/.zattrs']);
    for (const key of ['tas/0.0.0', 'time/0', 'climatology_bnds/0.0']) {
      const a = new Uint8Array(await (await fetch(`${route}/${key}`)).arrayBuffer());
      const b = new Uint8Array(await (await fetch(`${url}/datasets/tas-clim/zarr/${key}`)).arrayBuffer());
      expect(Buffer.from(a).equals(Buffer.from(b)), key).toBe(true);
    }
    expect((await fetch(`${route.replace('zarr', '')}`)).status).toBe(404);
    expect((await fetch(`${url}/datasets/tas/groupby/tas/time.week/mean/zarr/.zmetadata`)).status).toBe(404);
    expect((await fetch(`${url}/datasets/tas/groupby/tas/time.month/median/zarr/.zmetadata`)).status).toBe(404);
    expect((await fetch(`${url}/datasets/tas/groupby/__proto__/time.month/mean/zarr/.zmetadata`)).status).toBe(404);
    expect((await fetch(`${url}/datasets/tas/groupby/lat/time.month/mean/zarr/.zmetadata`)).status).toBe(404);
    const v3 = await fetch(`${route}/tas/zarr.json`);
    expect(v3.status).toBe(200);
  });

  it('cdo monmean / ymonmean / fldmean on the source files give the numbers /opendap serves', async () => {
    const cdo = async (...args: string[]) => {
      const { stdout } = await run('cdo', ['-s', 'outputf,%.9g,1', ...args], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
      return stdout.trim().split(/\s+/).map(Number);
    };
    // cdo's fldmean weights cells by their spherical area (bounds it makes up), strato by
    // cos(latitude) as xarray does: close, not to the last float32 bit
    const cases: Array<[string, string[], number]> = [
      ['pr-monthly', ['-monmean', join(dir, 'data', 'pr.nc')], 2e-6],
      ['pr-clim', ['-ymonmean', join(dir, 'data', 'pr.nc')], 2e-6],
      ['ts-monthly', ['-monmean', join(dir, 'data', 'c360.nc')], 2e-6],
      ['ts-fldmean', ['-fldmean', join(dir, 'data', 'c360.nc')], 1e-4],
    ];
    for (const [id, local, tolerance] of cases) {
      const expected = await cdo(...local);
      const served = await cdo(`${url}/datasets/${id}/opendap`);
      expect(served.length, id).toBe(expected.length);
      const scale = Math.max(...expected.map(Math.abs));
      const worst = Math.max(...served.map((v, i) => Math.abs(v - (expected[i] as number))));
      expect(worst, id).toBeLessThan(tolerance * scale);
    }
  }, 300_000);

  it('a derived chunk past the request budget is a 413 problem, and the server goes on', async () => {
    const small = await startServer({
      catalog: join(dir, 'catalog.yaml'),
      port: 0,
      host: '127.0.0.1',
      logger: createLogger('silent'),
      config: readConfig({ ...process.env, STRATO_MAX_CHUNKS: '5' }),
    });
    try {
      const refused = await fetch(`${small.url}/datasets/tas-yearly/zarr/tas/0.0.0`);
      expect(refused.status).toBe(413);
      expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
      expect(await refused.text()).not.toMatch(/\/tmp\//);
      const fine = await fetch(`${small.url}/datasets/tas-europe/zarr/.zmetadata`);
      expect(fine.status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('zarrita reads the same values from /zarr (v3) as from /kerchunk (v2), which xarray checked', async () => {
    for (const [id, name] of [
      ['tas-clim', 'tas'],
      ['tas-monthly-count', 'tas'],
      ['pr-monthly', 'pr'],
      ['tas-fldmean', 'tas'],
    ] as const) {
      const read = async (view: string, format: 'v2' | 'v3') => {
        const store = await zarr.withConsolidatedMetadata(new zarr.FetchStore(`${url}/datasets/${id}/${view}`), { format });
        const root = await zarr.open(store, { kind: 'group' });
        const array = await zarr.open(root.resolve(name), { kind: 'array' });
        const result = (await zarr.get(array)) as { data: ArrayBufferView; shape: number[] };
        return { shape: result.shape, bytes: Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength) };
      };
      const v3 = await read('zarr', 'v3');
      const v2 = await read('kerchunk', 'v2');
      expect(v3.shape, id).toEqual(v2.shape);
      expect(v3.bytes.equals(v2.bytes), id).toBe(true);
    }
  });
});
