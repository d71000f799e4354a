import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../test/helpers/server.js';
import { cpuUsPerRequest, figures, freshFigure, type LoadRow, machineBound, parseRows, type Row, render } from './report.js';

const run = promisify(execFile);

/** The cells of the Markdown table rows whose first cell is `label`. */
function rowsOf(markdown: string, label: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .filter((cells) => cells[0] === label);
}

/** The text of the report from heading `## title` to the next `## ` heading. */
function sectionOf(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}`);
  if (start < 0) return '';
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

// The JSON lines of a real `QUICK=1 npm run bench` on the 2-core bench machine (noisy figures; the
// report logic only is under test here, not the speed).
const fixture = join(repoRoot, 'bench/fixtures/quick-run.jsonl');

describe('bench/report.ts on the rows of a real run', () => {
  let rows: Row[];
  let report: string;
  beforeAll(async () => {
    rows = parseRows(await readFile(fixture, 'utf8'));
    report = render(rows, { BENCH_COMMAND: 'QUICK=1 npm run bench', BENCH_NOTE: 'NOISY' });
  });
  const loads = () => rows.filter((row): row is LoadRow => row.section === 'load');
  const find = (group: string, label: string, match: (row: LoadRow) => boolean = () => true) =>
    loads().find((row) => row.group === group && row.label === label && match(row)) as LoadRow;

  it('divides strato by nginx at every connection count of the raw figure, and the p99s', () => {
    const raw = figures(rows).raw;
    expect(raw.map((entry) => entry.conns)).toEqual([1, 16, 64]);
    for (const entry of raw) {
      const nginx = find('raw', 'nginx', (row) => row.conns === entry.conns);
      const strato = find('raw', 'strato', (row) => row.conns === entry.conns);
      expect(entry.ratio).toBeCloseTo(strato.rps / nginx.rps, 10);
      expect(entry.p99Ratio).toBeCloseTo(strato.p99 / nginx.p99, 10);
      const [cells] = rowsOf(sectionOf(report, 'Raw 2.3 MB chunks'), String(entry.conns));
      expect(cells?.[3]).toBe(`${(strato.rps / nginx.rps).toFixed(2)} ×`);
      expect(cells?.[6]).toBe(`${(strato.p99 / nginx.p99).toFixed(2)} ×`);
    }
  });

  it('takes the 50 KB figure from the chunk-size growth runs and .zmetadata from its own', () => {
    const small = figures(rows).small;
    expect(small.map((entry) => entry.request)).toEqual(['.zmetadata', '50 KB chunk']);
    const nginx = find('grow-chunk', 'nginx', (row) => row.size === 51200);
    const strato = find('grow-chunk', 'strato', (row) => row.size === 51200);
    expect(small[1]?.ratio).toBeCloseTo(strato.rps / nginx.rps, 10);
    expect(small[0]?.ratio).toBeCloseTo(find('small', 'strato').rps / find('small', 'nginx').rps, 10);
  });

  it('counts per-request CPU from the CPU ms and the requests of each run', () => {
    const floor = figures(rows).floor;
    expect(floor.length).toBe(2);
    for (const entry of floor) {
      const strato = entry.strato as LoadRow;
      const bare = entry.floor as LoadRow;
      expect(entry.stratoUs).toBeCloseTo(((strato.cpuMs as number) * 1000) / strato.requests, 10);
      expect(entry.ratio).toBeCloseTo(((strato.cpuMs as number) / strato.requests / ((bare.cpuMs as number) / bare.requests)) as number, 10);
    }
    const first = floor[0]?.strato as LoadRow;
    expect(cpuUsPerRequest({ ...first, requests: 0 })).toBeUndefined();
    const { cpuMs: _, ...withoutCpu } = first;
    expect(cpuUsPerRequest(withoutCpu)).toBeUndefined();
  });

  it('sets each cold figure against the C limit of the same variant, busy against busy', () => {
    const cold = figures(rows).cold;
    const codec = rows.filter((row) => row.section === 'codec');
    const limit = (variant: string, busy: boolean) => codec.find((row) => row.section === 'codec' && row.variant === variant && row.busy === busy);
    const busy = cold.find((entry) => entry.figure.includes('another job'));
    expect(busy?.limit).toBe(limit('kb10-lz4', true));
    expect(busy?.strato?.busy).toBe(true);
    const zstd = cold.find((entry) => entry.figure.includes('zstd'));
    expect(zstd?.limit).toBe(limit('kb10-zstd', false));
    expect(zstd?.ratio).toBeCloseTo((((zstd?.strato?.rps ?? 0) * 1440 * 721 * 4) / 1e6 / (limit('kb10-zstd', false)?.decodedMBps ?? 1)) as number, 10);
    expect(report).toContain('from issue #14 (not measured here');
  });

  it('lists every target with its verdict, and the verdict follows the threshold', () => {
    const { targets } = figures(rows);
    const table = sectionOf(report, 'Targets');
    for (const target of targets.filter((t) => t.met !== undefined)) {
      expect(rowsOf(table, target.target)[0]?.[2], target.target).toBe(target.met ? 'met' : 'MISSED');
    }
    const names = targets.map((t) => t.target);
    for (const expected of [
      'raw 2.3 MB chunks ≥ 0.8 × nginx, 1 connection',
      'raw 2.3 MB chunks ≥ 0.8 × nginx, 64 connections',
      'raw p99 at 64 connections ≤ 2 × nginx p99',
      '.zmetadata ≥ 0.5 × nginx, 16 connections',
      '50 KB chunk ≥ 0.5 × nginx, 16 connections',
      'processed warm ≥ 0.8 × raw (16 connections)',
      'second pass over the days warm (1 process: every request a cache hit)',
    ]) {
      expect(names).toContain(expected);
    }
    expect(names.some((name) => /^processed cold ≥ 0\.8 × C codec limit: .*another job taking a core$/.test(name))).toBe(true);
    expect(names.some((name) => /-chunk parquet: \.zmetadata first byte < 100 ms cold$/.test(name))).toBe(true);
    expect(names.some((name) => name.startsWith('chunk path flat in catalog size'))).toBe(true);
    expect(table).toMatch(new RegExp(`${targets.filter((t) => t.met).length} of ${targets.filter((t) => t.met !== undefined).length} met\\.`));
  });

  it('flips a verdict when the figure crosses its threshold', () => {
    const faster = rows.map((row) =>
      row.section === 'load' && row.group === 'raw' && row.label === 'strato' && row.conns === 1
        ? { ...row, rps: (find('raw', 'nginx', (r) => r.conns === 1).rps * 0.81) as number }
        : row,
    );
    const slower = rows.map((row) =>
      row.section === 'load' && row.group === 'raw' && row.label === 'strato' && row.conns === 1
        ? { ...row, rps: (find('raw', 'nginx', (r) => r.conns === 1).rps * 0.79) as number }
        : row,
    );
    const verdict = (input: Row[]) => figures(input).targets.find((t) => t.target === 'raw 2.3 MB chunks ≥ 0.8 × nginx, 1 connection')?.met;
    expect(verdict(faster)).toBe(true);
    expect(verdict(slower)).toBe(false);
  });

  it('compares the first processed chunk of a fresh process with the median of the next ones', () => {
    const fresh = rows.find((row) => row.section === 'fresh');
    expect(fresh?.section).toBe('fresh');
    const ms = fresh?.section === 'fresh' ? [...fresh.ms] : [];
    expect(ms.length).toBe(6);
    const later = [...ms.slice(1)].sort((a, b) => a - b)[2] as number;
    const target = figures(rows).targets.find((t) => t.target.startsWith('fresh process: first processed chunk'));
    expect(target?.met).toBe((ms[0] as number) / later <= 1.5);
    expect(target?.measured).toBe(`${(ms[0] as number).toFixed(1)} vs ${later.toFixed(1)} ms: ${((ms[0] as number) / later).toFixed(2)} ×`);
  });

  it('takes the fresh figure over several fresh processes: median first against the median of all later chunks', () => {
    const several: Row[] = [
      ...rows.filter((row) => row.section !== 'fresh'),
      { section: 'fresh', listenMs: 700, ms: [30, 10, 12, 14, 11, 13] },
      { section: 'fresh', listenMs: 720, ms: [15, 10, 10, 10, 10, 10] },
      { section: 'fresh', listenMs: 680, ms: [18, 20, 20, 20, 20, 20] },
    ];
    expect(freshFigure(several)).toEqual({ first: 18, later: 12, runs: 3, listenMs: 700 });
    const target = figures(several).targets.find((t) => t.target.startsWith('fresh process: first processed chunk'));
    expect(target?.measured).toBe('18.0 vs 12.0 ms: 1.50 ×');
    expect(target?.met).toBe(true);
    const text = render(several, {});
    expect(text).toContain('- listening after 720 ms: 15.0, 10.0, 10.0, 10.0, 10.0, 10.0 ms');
    expect(text).toContain('median start → listening 700 ms');
  });

  it('sets the catalog target on the steady runs, and shows the first touches beside them', () => {
    const steady = (datasets: number, cpuMs: number): Row => ({
      section: 'load',
      group: 'grow-catalog',
      label: 'strato',
      conns: 16,
      requests: 10_000,
      rps: 3000,
      mbps: 1,
      p50: 1,
      p99: 2,
      errors: 0,
      cpu: 50,
      cpuMs,
      rss: 300,
      datasets,
      listenMs: 600,
      firstMs: 5,
      idleRss: 160,
    });
    const touch = (datasets: number, cpuMs: number, requests: number): Row => ({
      section: 'load',
      group: 'grow-catalog-touch',
      label: 'strato',
      conns: 16,
      requests,
      rps: 800,
      mbps: 1,
      p50: 1,
      p99: 2,
      errors: 0,
      cpu: 50,
      cpuMs,
      rss: 400,
      datasets,
    });
    const catalog = [steady(1, 2000), touch(1, 10, 1), steady(10_000, 2400), touch(10_000, 4500, 10_000)];
    const target = figures(catalog).targets.find((t) => t.target.startsWith('chunk path flat in catalog size'));
    expect(target?.measured).toBe('240.0 vs 200.0 µs: 1.20 ×; a first touch 1.88 × a steady request');
    expect(target?.met).toBe(true);
    const [cells] = rowsOf(render(catalog, {}), '10,000');
    expect(cells?.slice(3)).toEqual(['160', '800', '450.0', '1.88 ×', '3000', '240.0', '1.20 ×', '2.00', '400']);
  });

  it('states the ceiling the machine puts on a warm run whose client shares its cores', () => {
    const warm: LoadRow = {
      section: 'load',
      group: 'warm',
      label: 'strato kb10-lz4',
      conns: 16,
      requests: 10_000,
      rps: 1800,
      mbps: 1,
      p50: 1,
      p99: 2,
      errors: 0,
      cpu: 100,
      cpuMs: 6000,
      rss: 900,
      workers: 2,
      clientCpuMs: 4000,
      machineBusy: 98,
    };
    // 600 + 400 µs a request on 2 cores: at most 2,000 req/s
    expect(machineBound(warm, '2')).toContain('2 cores allow at most 2000 req/s, measured 1800 (90 % of it)');
    expect(machineBound(warm, '2')).toContain('the machine was 98 % busy');
    const { clientCpuMs: _, ...noClient } = warm;
    expect(machineBound(noClient, '2')).toBeUndefined();
    expect(machineBound(warm, undefined)).toBeUndefined();
  });

  it('marks the header of a noisy run and names the command', () => {
    expect(report).toMatch(/^\*\*NOISY\*\*$/m);
    expect(report).toMatch(/^Command: `QUICK=1 npm run bench`/m);
  });

  it('leaves out what a run did not measure instead of failing', () => {
    const onlyRaw = rows.filter((row) => row.section === 'load' && row.group === 'raw');
    const text = render(onlyRaw, {});
    expect(text).toContain('## Raw 2.3 MB chunks');
    expect(text).not.toContain('## Processed view');
    expect(text).not.toContain('## Small responses');
    expect(text).not.toContain('## Per-request CPU');
    expect(
      figures(onlyRaw)
        .targets.filter((t) => t.met !== undefined)
        .map((t) => t.target),
    ).toEqual([
      'raw 2.3 MB chunks ≥ 0.8 × nginx, 1 connection',
      'raw 2.3 MB chunks ≥ 0.8 × nginx, 16 connections',
      'raw 2.3 MB chunks ≥ 0.8 × nginx, 64 connections',
      'raw p99 at 64 connections ≤ 2 × nginx p99',
    ]);
    expect(render([], {})).toMatch(/^# strato benchmark results/);
    expect(() => parseRows('{"section":"load"\n')).toThrow();
  });
});

// The C codec limit does the work the processed view does: checked on a chunk written here the way
// NetCDF4 writes it (HDF5 shuffle, then deflate), with numcodecs' own encoders as the reference.
describe('bench/codec-limit.py', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'strato-codec-limit-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('decodes zlib + HDF5 shuffle and encodes the bit-rounded values as numcodecs does', async () => {
    const array = join(scratch, 'tas');
    await mkdir(array);
    const zarray = {
      zarr_format: 2,
      shape: [1, 64, 128],
      chunks: [1, 64, 128],
      dtype: '<f4',
      compressor: { id: 'zlib', level: 4 },
      filters: [{ id: 'shuffle', elementsize: 4 }],
      fill_value: 0,
      order: 'C',
    };
    await writeFile(join(array, '.zarray'), JSON.stringify(zarray));
    const script = [
      'import sys, numpy as np, zlib',
      'from numcodecs import Shuffle, BitRound, Blosc, Zstd',
      'rng = np.random.default_rng(1)',
      'sizes = []',
      'for i in range(1):',
      '    values = (280 + rng.normal(0, 3, size=(64, 128))).astype("<f4")',
      // HDF5 order on write: shuffle, then deflate
      '    open(f"{sys.argv[1]}/{i}.0.0", "wb").write(zlib.compress(Shuffle(elementsize=4).encode(values), 4))',
      '    rounded = BitRound(keepbits=10).encode(values)',
      '    sizes.append((len(Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE).encode(rounded)), len(Zstd(level=1).encode(rounded))))',
      'print(sizes[0][0], sizes[0][1])',
    ].join('\n');
    const made = await run('/usr/bin/python3', ['-c', script, array]);
    const [lz4, zstd] = made.stdout.trim().split(' ').map(Number);
    const { stdout } = await run(
      '/usr/bin/python3',
      [`${repoRoot}bench/codec-limit.py`, array, '--seconds', '0.3', '--processes', '1', '--variants', 'inflate,decode,kb10-lz4,kb10-zstd'],
      { timeout: 60_000 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { variant: string; chunks: number; encodedBytes: number | null; decodedMBps: number; busy: boolean });
    expect(lines.map((line) => line.variant)).toEqual(['inflate', 'decode', 'kb10-lz4', 'kb10-zstd']);
    for (const line of lines) {
      expect(line.chunks).toBeGreaterThan(0);
      expect(line.decodedMBps).toBeGreaterThan(0);
      expect(line.busy).toBe(false);
    }
    // inflate alone yields the shuffled bytes: 64 × 128 × 4 a chunk
    expect(lines[0]?.encodedBytes).toBe(64 * 128 * 4);
    expect(lines[2]?.encodedBytes).toBe(lz4);
    expect(lines[3]?.encodedBytes).toBe(zstd);
  }, 90_000);

  it('refuses a store that is not zlib with an HDF5 shuffle filter', async () => {
    const array = join(scratch, 'plain');
    await mkdir(array);
    await writeFile(join(array, '.zarray'), JSON.stringify({ chunks: [4], dtype: '<f4', compressor: null, filters: null }));
    await writeFile(join(array, '0'), Buffer.alloc(16));
    await expect(run('/usr/bin/python3', [`${repoRoot}bench/codec-limit.py`, array, '--seconds', '0.1'])).rejects.toThrow(/expected zlib with an HDF5 shuffle filter/);
  });
});

// `npm run bench` end to end at a tiny size: real nginx, wrk, strato processes, the floor server,
// the C limit and Debian's xarray. Structure only: the figures of so short a run mean nothing.
describe('bench/run.sh', () => {
  let scratch: string;
  let results: string;
  let stdout: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'strato-bench-run-'));
    const { npm_lifecycle_event: _, ...inherited } = process.env;
    const env = {
      ...inherited,
      DAYS: '4',
      DURATION: '1s',
      SOAK: '1s',
      CONNECTIONS: '1 4',
      GROW_DURATION: '1s',
      CODEC_SECONDS: '0.3',
      CHUNK_SIZES: '16384 51200',
      GROWTH_MIB: '4',
      CATALOG_SIZES: '1 20',
      REF_SIZES: '1000',
      PARQUET_CHUNKS: '20000',
      XARRAY_STEPS: '3',
      BUILD: '0',
      NOTE: 'tiny test run',
      BENCH_DATA: join(scratch, 'data'),
      GROWTH_DATA: join(scratch, 'growth'),
      RESULTS: join(scratch, 'RESULTS.md'),
    };
    ({ stdout } = await run('bash', [`${repoRoot}bench/run.sh`], { env, timeout: 420_000, maxBuffer: 16 * 1024 * 1024 }));
    results = await readFile(join(scratch, 'RESULTS.md'), 'utf8');
  }, 480_000);
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('prints the report it writes, with its note, the machine and the command', () => {
    expect(stdout.trim()).toBe(results.trim());
    expect(results).toMatch(/^\*\*tiny test run\*\*$/m);
    expect(results).toMatch(/^Command: `DAYS=4 DURATION=1s SOAK=1s CONNECTIONS="1 4" .*bash bench\/run\.sh`/m);
    expect(results).toMatch(/^Machine: \d+ cores/m);
  });

  it('measures every figure in the one run, without failed requests', () => {
    for (const heading of [
      'Raw 2.3 MB chunks vs nginx',
      'Small responses vs nginx',
      'Per-request CPU vs a bare node:http server',
      'Processed view, cold, vs the C codec limit',
      'Processes, caches, warm chunks',
      '20,000 parquet chunk references, cold start',
      'How cost grows',
      'xarray client',
      'Targets (issue #14)',
    ]) {
      expect(results).toContain(`## ${heading}`);
    }
    expect(results).not.toContain('failed requests in this run');
    const raw = sectionOf(results, 'Raw 2.3 MB chunks');
    expect(rowsOf(raw, '1')[0]?.[10]).toBe('0');
    expect(rowsOf(raw, '4')[0]?.[10]).toBe('0');
    for (const figure of ['keepbits=10 + blosc-lz4, 16 at a time', 'lossless blosc-lz4, 16 at a time', 'keepbits=10 + blosc-lz4, another job taking a core']) {
      expect(Number(rowsOf(results, figure)[0]?.[1]), figure).toBeGreaterThan(0);
    }
    expect(rowsOf(results, '20')[0]?.[3]).toMatch(/^\d+$/);
    // the second pass of one process is counted from its own /metrics
    expect(rowsOf(results, 'second pass: encoded-cache hits (from /metrics)')[0]?.[2]).toMatch(/^\d+ of 4$/);
  });

  it('reads the same values with xarray from nginx and the raw view, and nearly the same from the processed view', () => {
    const xarray = sectionOf(results, 'xarray client');
    const means = new Map(['nginx static', 'strato /kerchunk', 'strato /zarr'].map((label) => [label, Number(rowsOf(xarray, label)[0]?.[5])]));
    expect(means.get('nginx static')).toBeGreaterThan(200);
    expect(means.get('strato /kerchunk')).toBe(means.get('nginx static'));
    expect(Math.abs((means.get('strato /zarr') ?? 0) - (means.get('nginx static') ?? 0))).toBeLessThan(0.01);
  });
});
