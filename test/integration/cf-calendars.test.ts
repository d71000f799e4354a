import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CalendarDate } from '../../cf/calendar.js';
import { formatDate } from '../../cf/date-query.js';
import { timeCoder } from '../../cf/time-units.js';
import { PYTHON } from '../helpers/python.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/*
 * The CF calendars of cf/ against Debian's cftime, and one dataset with a `gregorian` time axis
 * before 1582-10-15 seen through a real server: its plot labels and its STAC Item must say the
 * same dates as cftime (plot labels: dates of the mixed Julian–Gregorian calendar; STAC: the same
 * instants in the proleptic Gregorian calendar RFC 3339 uses).
 */

const run = promisify(execFile);

interface Case {
  readonly units: string;
  readonly calendar: string;
  readonly values: readonly number[];
}

interface CftimeResult {
  /** [year, month, day, hour, minute, second + microsecond / 1e6] of every value, as cftime decodes it. */
  readonly dates: number[][];
  /** For real-world calendars: the same instants as proleptic Gregorian (astronomical years) [year, month, day, hour, minute, second]. */
  readonly instants?: number[][];
}

/** Decodes every case with cftime (`num2date`), one python3 process for all of them. */
async function cftimeDecode(cases: readonly Case[]): Promise<CftimeResult[]> {
  const script = `
import json, sys, warnings
import cftime
warnings.simplefilter('ignore')
out = []
for case in json.loads(sys.argv[1]):
    dates = cftime.num2date(case['values'], case['units'], case['calendar'])
    fields = lambda d: [d.year, d.month, d.day, d.hour, d.minute, d.second + d.microsecond / 1e6]
    result = {'dates': [fields(d) for d in dates]}
    if case['calendar'] in ('standard', 'gregorian', 'julian', 'proleptic_gregorian'):
        result['instants'] = [fields(d.change_calendar('proleptic_gregorian', has_year_zero=True)) for d in dates]
    out.append(result)
print(json.dumps(out))
`;
  const { stdout } = await run(PYTHON, ['-c', script, JSON.stringify(cases)], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as CftimeResult[];
}

const fieldsOf = (date: CalendarDate) => [date.year, date.month, date.day, date.hour, date.minute, date.second];
const pad = (n: number, width = 2) => String(Math.abs(Math.floor(n))).padStart(width, '0');
/** RFC 3339 of [year, month, day, hour, minute, second] (whole seconds). */
const iso = ([y, mo, d, h, mi, s]: number[]) =>
  `${pad(y as number, 4)}-${pad(mo as number)}-${pad(d as number)}T${pad(h as number)}:${pad(mi as number)}:${pad(Math.round(s as number))}Z`;
/** What the plot shows for cftime's fields (midnight: the day only). */
const label = ([y, mo, d, h, mi, s]: number[]) =>
  formatDate({ year: y as number, month: mo as number, day: d as number, hour: h as number, minute: mi as number, second: s as number });

const spread = (from: number, to: number, count: number) => Array.from({ length: count }, (_, i) => Math.round(from + ((to - from) * i) / (count - 1)));

describe('cf/ calendars agree with cftime', () => {
  const cases: Case[] = [
    // the 1582 switch, leap years 1500 (Julian only) and 1600/1700, dates back to the first centuries
    ...['standard', 'gregorian', 'julian', 'proleptic_gregorian'].flatMap((calendar) => [
      { units: 'days since 1500-01-01', calendar, values: [0, 58, 59, 60, 365, 366, 30_226, 30_227, 30_228, 30_229, 36_524, 73_000, ...spread(-500_000, 200_000, 60)] },
      { units: 'hours since 1582-10-04 12:00:00', calendar, values: [-36, -12, 0, 6, 12, 24, 36, 240, 241.5] },
      { units: 'days since 0001-01-01', calendar, values: [-800, -367, -366, -1, 0, 1, 365, 366, 1000] },
      { units: 'seconds since 1970-01-01', calendar, values: [-1e10, -12_219_292_800, -12_219_292_801, 0, 951_782_400, 4e9] },
    ]),
    ...['noleap', '365_day', 'all_leap', '366_day', '360_day'].flatMap((calendar) => [
      { units: 'days since 2000-01-01', calendar, values: [0, 29, 30, 58, 59, 60, 359, 360, 364, 365, 366, -1, -365, -366, ...spread(-100_000, 100_000, 40)] },
      { units: 'hours since 1850-02-28 06:00', calendar, values: [0, 18, 24, 42, 48, 8760, 8784] },
    ]),
    { units: 'months since 2000-01-01', calendar: '360_day', values: [0, 1, 11, 12, 13, -1, 1200] },
  ];
  let expected: CftimeResult[];
  beforeAll(async () => {
    expected = await cftimeDecode(cases);
  });

  it('decodes the same calendar dates, and the same instants for the real-world calendars', () => {
    let compared = 0;
    cases.forEach((c, i) => {
      const coder = timeCoder(c.units, c.calendar);
      expect(coder, `${c.units} / ${c.calendar}`).toBeDefined();
      c.values.forEach((value, k) => {
        const date = coder?.date(value);
        const want = expected[i]?.dates[k] as number[];
        const what = `${value} ${c.units} (${c.calendar})`;
        expect(date && fieldsOf(date).slice(0, 5), what).toEqual(want.slice(0, 5));
        expect(date?.second, what).toBeCloseTo(want[5] as number, 3);
        expect(date && coder?.value(date), what).toBeCloseTo(value, 6);
        const instant = expected[i]?.instants?.[k];
        const written = coder?.iso(value);
        if (instant && (instant[0] as number) >= 0 && (instant[0] as number) <= 9999) expect(written, what).toBe(iso(instant));
        compared++;
      });
    });
    expect(compared).toBeGreaterThan(500);
  });
});

/** Known facts of the pre-1582 dataset. */
const OLD = {
  units: 'days since 1500-01-01',
  calendar: 'gregorian',
  // 1500-01-01, 1500-02-29 (Julian leap day), 1500-03-01, 1582-10-04, 1582-10-15, 1600-01-01
  times: [0, 59, 60, 30_227, 30_228, 36_515],
} as const;

const inline = (bytes: ArrayBufferView) => `base64:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
const zarray = (shape: number[], chunks: number[], dtype: string) =>
  JSON.stringify({ zarr_format: 2, shape, chunks, dtype, compressor: null, filters: null, fill_value: null, order: 'C' });
const zattrs = (dims: string[], attrs: Record<string, unknown> = {}) => JSON.stringify({ _ARRAY_DIMENSIONS: dims, ...attrs });

function oldReferences(): Record<string, string> {
  const n = OLD.times.length;
  const refs: Record<string, string> = {
    '.zgroup': JSON.stringify({ zarr_format: 2 }),
    '.zattrs': JSON.stringify({ title: 'Before the Gregorian reform', Conventions: 'CF-1.8' }),
    'time/.zarray': zarray([n], [n], '<f8'),
    'time/.zattrs': zattrs(['time'], { units: OLD.units, calendar: OLD.calendar, standard_name: 'time' }),
    'time/0': inline(Float64Array.from(OLD.times)),
    'lat/.zarray': zarray([2], [2], '<f8'),
    'lat/.zattrs': zattrs(['lat'], { units: 'degrees_north', standard_name: 'latitude' }),
    'lat/0': inline(Float64Array.from([40, 50])),
    'lon/.zarray': zarray([3], [3], '<f8'),
    'lon/.zattrs': zattrs(['lon'], { units: 'degrees_east', standard_name: 'longitude' }),
    'lon/0': inline(Float64Array.from([0, 10, 20])),
    'tas/.zarray': zarray([n, 2, 3], [1, 2, 3], '<f4'),
    'tas/.zattrs': zattrs(['time', 'lat', 'lon'], { long_name: 'Air temperature', units: 'K' }),
  };
  for (let k = 0; k < n; k++) refs[`tas/${k}.0.0`] = inline(Float32Array.from({ length: 6 }, (_, i) => 270 + k + i));
  return refs;
}

/** The `Title` text chunk of a PNG (the plots plugin writes "long name, time label" there). */
function pngTitle(bytes: Buffer): string | undefined {
  for (let offset = 8; offset + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'tEXt') {
      const nul = data.indexOf(0);
      if (data.toString('latin1', 0, nul) === 'Title') return data.toString('latin1', nul + 1);
    }
    offset += 12 + length;
  }
  return undefined;
}

describe('a gregorian time axis before 1582 through the server: plots, STAC and cftime agree', () => {
  let dir: string;
  let server: SpawnedServer;
  let cftime: CftimeResult;
  const get = (path: string) => fetch(`${server.url}${path}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strato-cf-'));
    await mkdir(join(dir, 'refs'));
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'refs', 'old.json'), JSON.stringify({ version: 1, refs: oldReferences() }));
    const catalog = join(dir, 'catalog.yaml');
    await writeFile(catalog, 'datasets:\n  old-times: {refs: refs/old.json, title: Before the Gregorian reform}\nsources:\n  allow: [data/]\n');
    [server, [cftime]] = await Promise.all([spawnServer(catalog), cftimeDecode([{ units: OLD.units, calendar: OLD.calendar, values: [...OLD.times] }]) as Promise<[CftimeResult]>]);
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('plot labels are the dates cftime gives', async () => {
    const labels: string[] = [];
    for (let k = 0; k < OLD.times.length; k++) {
      const response = await get(`/datasets/old-times/plot/tas.png?time=${k}`);
      expect(response.status).toBe(200);
      labels.push(pngTitle(Buffer.from(await response.arrayBuffer())) ?? '');
    }
    const want = cftime.dates.map((fields) => `Air temperature, ${label(fields)}`);
    expect(labels).toEqual(want);
    expect(labels).toEqual(['1500-01-01', '1500-02-29', '1500-03-01', '1582-10-04', '1582-10-15', '1600-01-01'].map((d) => `Air temperature, ${d}`));
  });

  it('?time=<date> finds the Julian leap day and the last Julian day; the ten skipped days are not there', async () => {
    for (const [date, k] of [
      ['1500-02-29', 1],
      ['1582-10-04', 3],
      ['1582-10-15', 4],
      ['1582-10', 3],
    ] as const) {
      const byDate = await get(`/datasets/old-times/plot/tas.png?time=${date}`);
      const byIndex = await get(`/datasets/old-times/plot/tas.png?time=${k}`);
      expect(byDate.status, date).toBe(200);
      expect(pngTitle(Buffer.from(await byDate.arrayBuffer())), date).toBe(pngTitle(Buffer.from(await byIndex.arrayBuffer())));
    }
    const gap = await get('/datasets/old-times/plot/tas.png?time=1582-10-10');
    expect(gap.status).toBe(400);
    expect(await gap.text()).toContain('1500-01-01 to 1600-01-01');
  });

  it("the STAC Item's start/end and datacube extent are the same instants, written proleptic Gregorian", async () => {
    const response = await get('/stac/collections/strato/items/old-times');
    expect(response.status).toBe(200);
    const item = (await response.json()) as { properties: Record<string, unknown> & { 'cube:dimensions': Record<string, { extent: unknown[] }> } };
    const instants = cftime.instants as number[][];
    const first = iso(instants[0] as number[]);
    const last = iso(instants[instants.length - 1] as number[]);
    expect(first).toBe('1500-01-10T00:00:00Z'); // Julian 1500-01-01
    expect(last).toBe('1600-01-01T00:00:00Z');
    expect(item.properties.start_datetime).toBe(first);
    expect(item.properties.end_datetime).toBe(last);
    expect(item.properties['cube:dimensions'].time?.extent).toEqual([first, last]);
    // the plot label and the Item's timestamp name one instant: cftime converts one into the other
    expect(label(cftime.dates[0] as number[])).toBe('1500-01-01');
  });
});
