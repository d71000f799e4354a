/**
 * Renders the results of one `npm run bench` (JSON lines written by bench/run.sh) as one
 * Markdown document: every figure of issue #14 next to its physical limit, as a ratio, and the
 * targets met or missed.
 *
 *   node bench/.build/bench/report.js RESULTS_JSONL
 *
 * The machine and command come from the environment run.sh sets (BENCH_*). Prints the document.
 * `render` is the whole report, a pure function of the rows and that environment.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** One wrk run (bench/lib.sh measure) or one sweep over every key (sweep_measure). */
export interface LoadRow {
  readonly section: 'load' | 'soak';
  readonly group?: string;
  readonly label: string;
  readonly conns: number;
  readonly requests: number;
  readonly rps: number;
  readonly mbps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Server CPU over the run, % of one core. */
  readonly cpu: number;
  /** Server CPU over the run, ms. */
  readonly cpuMs?: number;
  readonly rss: number;
  /** Sweeps: response bytes in all. */
  readonly bytes?: number;
  readonly request?: string;
  readonly size?: number;
  readonly dataset?: string;
  readonly workers?: number;
  readonly busy?: boolean;
  readonly pass?: number;
  readonly hits?: number;
  readonly warmKeys?: number;
  readonly chunks?: number;
  readonly datasets?: number;
  readonly listenMs?: number;
  /** Catalog growth: first byte of the first chunk request after listening. */
  readonly firstMs?: number;
  readonly idleRss?: number;
  /** The client's own CPU over the run (wrk or bench/sweep.ts), ms: it shares the machine's cores. */
  readonly clientCpuMs?: number;
  /** How busy the whole machine was over the run, % of all its cores. */
  readonly machineBusy?: number;
}

/** One variant of bench/codec-limit.py. */
export interface CodecRow {
  readonly section: 'codec';
  readonly variant: string;
  readonly busy: boolean;
  readonly processes: number;
  readonly chunks: number;
  readonly seconds: number;
  readonly decodedMBps: number;
  readonly cpuMsPerChunk: number;
  readonly encodedBytes: number | null;
  readonly numcodecs?: string;
}

export interface DataRow {
  readonly section: 'data';
  readonly days: number;
  readonly chunkMib: number;
  readonly decodedChunkBytes: number;
  readonly workers?: number;
}

export interface ParquetRow {
  readonly section: 'parquet';
  readonly chunks: number;
  readonly recordFiles: number;
  readonly generateSeconds: number | null;
  readonly listenMs: number;
  readonly zmetadataMs: number;
  readonly firstChunkMs: number;
  readonly idleRss: number;
}

export interface XarrayRow {
  readonly section: 'xarray';
  readonly label: string;
  readonly steps: number;
  readonly seconds: number;
  readonly decoded_mb: number;
  readonly mean: number;
}

/** The first processed chunks of a fresh process, one request at a time, ms each (one row per fresh process). */
export interface FreshRow {
  readonly section: 'fresh';
  readonly ms: readonly number[];
  /** Its start → listening, ms (warming included). */
  readonly listenMs?: number;
}

/**
 * The fresh-process figure over every fresh process of the run: the median of their first
 * chunks against the median of all their later ones (one process: its first against the median
 * of its next ones).
 */
export function freshFigure(rows: readonly Row[]): { first: number; later: number; runs: number; listenMs: number | undefined } | undefined {
  const fresh = rows.filter((row): row is FreshRow => row.section === 'fresh' && row.ms.length > 1);
  if (fresh.length === 0) return undefined;
  const first = median(fresh.map((row) => row.ms[0] as number)) as number;
  const later = median(fresh.flatMap((row) => row.ms.slice(1))) as number;
  const listens = fresh.flatMap((row) => (row.listenMs === undefined ? [] : [row.listenMs]));
  return { first, later, runs: fresh.length, listenMs: median(listens) };
}

export type Row = LoadRow | CodecRow | DataRow | ParquetRow | XarrayRow | FreshRow;

/** xpublish 0.3.3 figures quoted from issue #14 (not installable here: never measured by this run). */
const XPUBLISH_COLD_MBPS = { 4: 190, 16: 176 } as const;

export function parseRows(text: string): Row[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Row);
}

function fixed(value: number | undefined, digits = 0): string {
  return value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function times(value: number | undefined): string {
  return value !== undefined && Number.isFinite(value) ? `${value.toFixed(2)} ×` : '–';
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

function bytesLabel(size: number): string {
  if (size >= 1048576 && size % 1048576 === 0) return `${size / 1048576} MiB`;
  if (size % 1024 === 0) return `${size / 1024} KiB`;
  return `${(size / 1000).toFixed(1)} KB`;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** CPU µs the server spent per request over a run. */
/** The client's CPU per request (µs). */
export function clientUsPerRequest(row: LoadRow | undefined): number | undefined {
  if (!row || row.clientCpuMs === undefined || row.requests <= 0) return undefined;
  return (row.clientCpuMs * 1000) / row.requests;
}

export function cpuUsPerRequest(row: LoadRow | undefined): number | undefined {
  if (!row || row.cpuMs === undefined || row.requests <= 0) return undefined;
  return (row.cpuMs * 1000) / row.requests;
}

/** The verdict of one target. */
export interface Target {
  readonly target: string;
  readonly measured: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
}

/** Everything the report computes from the rows, for the text and for tests. */
export interface Figures {
  readonly decodedChunk: number;
  readonly raw: ReadonlyArray<{ conns: number; nginx: LoadRow | undefined; strato: LoadRow | undefined; ratio: number | undefined; p99Ratio: number | undefined }>;
  readonly small: ReadonlyArray<{ request: string; nginx: LoadRow | undefined; strato: LoadRow | undefined; ratio: number | undefined }>;
  readonly floor: ReadonlyArray<{
    request: string;
    floor: LoadRow | undefined;
    strato: LoadRow | undefined;
    floorUs: number | undefined;
    stratoUs: number | undefined;
    ratio: number | undefined;
  }>;
  readonly cold: ReadonlyArray<{ figure: string; strato: LoadRow | undefined; limit: CodecRow | undefined; mbps: number | undefined; ratio: number | undefined }>;
  readonly targets: readonly Target[];
}

export function figures(rows: readonly Row[]): Figures {
  const load = rows.filter((row): row is LoadRow => row.section === 'load');
  const codec = rows.filter((row): row is CodecRow => row.section === 'codec');
  const data = rows.find((row): row is DataRow => row.section === 'data');
  const parquet = rows.filter((row): row is ParquetRow => row.section === 'parquet');
  const decodedChunk = data?.decodedChunkBytes ?? 1440 * 721 * 4;
  const inGroup = (group: string, label: string, match: (row: LoadRow) => boolean = () => true) => load.find((row) => row.group === group && row.label === label && match(row));
  const decodedMbps = (row: LoadRow | undefined) => (row ? (row.rps * decodedChunk) / 1e6 : undefined);

  const connsOf = [...new Set(load.filter((row) => row.group === 'raw').map((row) => row.conns))].sort((a, b) => a - b);
  const raw = connsOf.map((conns) => {
    const nginx = inGroup('raw', 'nginx', (row) => row.conns === conns);
    const strato = inGroup('raw', 'strato', (row) => row.conns === conns);
    return { conns, nginx, strato, ratio: ratio(strato?.rps, nginx?.rps), p99Ratio: ratio(strato?.p99, nginx?.p99) };
  });

  const smallChunk = load.find((row) => row.group === 'grow-chunk' && row.size === 51200);
  const small = [
    { request: '.zmetadata', nginx: inGroup('small', 'nginx'), strato: inGroup('small', 'strato') },
    ...(smallChunk
      ? [{ request: '50 KB chunk', nginx: inGroup('grow-chunk', 'nginx', (row) => row.size === 51200), strato: inGroup('grow-chunk', 'strato', (row) => row.size === 51200) }]
      : []),
  ]
    .filter((entry) => entry.nginx !== undefined || entry.strato !== undefined)
    .map((entry) => ({ ...entry, ratio: ratio(entry.strato?.rps, entry.nginx?.rps) }));

  const floorRequests = [...new Set(load.filter((row) => row.group === 'floor').map((row) => row.request ?? ''))];
  const floor = floorRequests.map((request) => {
    const floorRow = inGroup('floor', 'node:http floor', (row) => row.request === request);
    const strato = inGroup('floor', 'strato', (row) => row.request === request);
    const floorUs = cpuUsPerRequest(floorRow);
    const stratoUs = cpuUsPerRequest(strato);
    return { request, floor: floorRow, strato, floorUs, stratoUs, ratio: ratio(stratoUs, floorUs) };
  });

  const coldOf = (dataset: string, conns: number, workers: number | undefined, busy: boolean, pass = 1) =>
    load.find(
      (row) =>
        row.group === 'cold' &&
        row.dataset === dataset &&
        row.conns === conns &&
        row.busy === busy &&
        (row.pass ?? 1) === pass &&
        (workers === undefined || row.workers === workers),
    );
  const limitOf = (variant: string, busy: boolean) => codec.find((row) => row.variant === variant && row.busy === busy);
  const workers = data?.workers ?? Math.max(1, ...load.filter((row) => row.group === 'cold').map((row) => row.workers ?? 1));
  const coldFigures: Array<{ figure: string; strato: LoadRow | undefined; limit: CodecRow | undefined }> = [
    { figure: 'keepbits=10 + blosc-lz4, 16 at a time', strato: coldOf('kb10-lz4', 16, workers, false), limit: limitOf('kb10-lz4', false) },
    { figure: 'keepbits=10 + blosc-lz4, 4 at a time', strato: coldOf('kb10-lz4', 4, workers, false), limit: limitOf('kb10-lz4', false) },
    { figure: 'lossless blosc-lz4, 16 at a time', strato: coldOf('lz4', 16, workers, false), limit: limitOf('lz4', false) },
    { figure: 'keepbits=10 + zstd (level 1), 16 at a time', strato: coldOf('kb10-zstd', 16, workers, false), limit: limitOf('kb10-zstd', false) },
    { figure: 'keepbits=10 + blosc-lz4, another job taking a core', strato: coldOf('kb10-lz4', 16, workers, true), limit: limitOf('kb10-lz4', true) },
  ];
  const cold = coldFigures
    .filter((entry) => entry.strato !== undefined || entry.limit !== undefined)
    .map((entry) => {
      const mbps = decodedMbps(entry.strato);
      return { ...entry, mbps, ratio: ratio(mbps, entry.limit?.decodedMBps) };
    });

  const targets: Target[] = [];
  const check = (target: string, value: number | undefined, measured: string, pass: (v: number) => boolean) =>
    targets.push({ target, measured: value === undefined ? '–' : measured, met: value === undefined ? undefined : pass(value) });
  for (const entry of raw) {
    check(`raw 2.3 MB chunks ≥ 0.8 × nginx, ${entry.conns} connection${entry.conns === 1 ? '' : 's'}`, entry.ratio, times(entry.ratio), (v) => v >= 0.8);
  }
  const raw64 = raw.find((entry) => entry.conns === 64);
  check(
    'raw p99 at 64 connections ≤ 2 × nginx p99',
    raw64?.p99Ratio,
    `${fixed(raw64?.strato?.p99, 1)} vs ${fixed(raw64?.nginx?.p99, 1)} ms: ${times(raw64?.p99Ratio)}`,
    (v) => v <= 2,
  );
  for (const entry of small) check(`${entry.request} ≥ 0.5 × nginx, 16 connections`, entry.ratio, times(entry.ratio), (v) => v >= 0.5);
  for (const entry of floor) {
    check(
      `${entry.request}: CPU per request ≤ 1.5 × node:http floor`,
      entry.ratio,
      `${fixed(entry.stratoUs, 1)} vs ${fixed(entry.floorUs, 1)} µs: ${times(entry.ratio)}`,
      (v) => v <= 1.5,
    );
  }
  for (const entry of cold) {
    if (entry.figure.includes('4 at a time')) continue;
    check(
      `processed cold ≥ 0.8 × C codec limit: ${entry.figure}`,
      entry.ratio,
      `${fixed(entry.mbps)} vs ${fixed(entry.limit?.decodedMBps)} MB/s: ${times(entry.ratio)}`,
      (v) => v >= 0.8,
    );
  }
  const coldN = coldOf('kb10-lz4', 16, workers, false);
  const cold1 = coldOf('kb10-lz4', 16, 1, false);
  const warmN = inGroup('warm', 'strato kb10-lz4', (row) => row.conns === 16 && row.workers === workers);
  const warm1 = inGroup('warm', 'strato kb10-lz4', (row) => row.conns === 16 && row.workers === 1);
  if (workers > 1) {
    // beside each ratio: how busy the machine was (all its cores), and server CPU per request N vs 1
    const context = (n: LoadRow | undefined, one: LoadRow | undefined) => {
      const parts = [];
      if (n?.machineBusy !== undefined && one?.machineBusy !== undefined) parts.push(`machine ${n.machineBusy} / ${one.machineBusy} % busy`);
      const cpu = ratio(cpuUsPerRequest(n), cpuUsPerRequest(one));
      if (cpu !== undefined) parts.push(`server CPU/req ${times(cpu)}`);
      return parts.length > 0 ? ` (${parts.join(', ')})` : '';
    };
    const coldRatio = ratio(coldN?.rps, cold1?.rps);
    check(`--workers ${workers} cold ≥ 1 process cold`, coldRatio, times(coldRatio) + context(coldN, cold1), (v) => v >= 1);
    const warmRatio = ratio(warmN?.rps, warm1?.rps);
    check(`--workers ${workers} warm ≥ 1 process warm (16 connections)`, warmRatio, times(warmRatio) + context(warmN, warm1), (v) => v >= 1);
  }
  const raw16 = raw.find((entry) => entry.conns === 16)?.strato;
  const warmRaw = ratio(warmN?.rps, raw16?.rps);
  check('processed warm ≥ 0.8 × raw (16 connections)', warmRaw, times(warmRaw), (v) => v >= 0.8);
  const second1 = coldOf('kb10-lz4', 16, 1, false, 2);
  const hitShare = second1?.hits !== undefined && second1.requests > 0 ? second1.hits / second1.requests : undefined;
  check('second pass over the days warm (1 process: every request a cache hit)', hitShare, `${second1?.hits ?? '–'} hits of ${second1?.requests ?? '–'}`, (v) => v >= 1);
  const fresh = freshFigure(rows);
  if (fresh) {
    const { first, later } = fresh;
    check(
      'fresh process: first processed chunk ≤ 1.5 × the median of the next ones',
      ratio(first, later),
      `${fixed(first, 1)} vs ${fixed(later, 1)} ms: ${times(ratio(first, later))}`,
      (v) => v <= 1.5,
    );
  }
  const biggest = parquet.reduce<ParquetRow | undefined>((best, row) => (best === undefined || row.chunks > best.chunks ? row : best), undefined);
  if (biggest) {
    const n = biggest.chunks.toLocaleString('en-US');
    check(`${n}-chunk parquet: .zmetadata first byte < 100 ms cold`, biggest.zmetadataMs, `${fixed(biggest.zmetadataMs, 1)} ms`, (v) => v < 100);
    const loaded = load.find((row) => row.group === 'grow-refs' && row.chunks === biggest.chunks);
    check(`${n}-chunk parquet: peak RSS < 300 MB, 16 connections of random chunks`, loaded?.rss, `${fixed((loaded?.rss ?? 0) * 1.048576)} MB`, (v) => v * 1.048576 < 300);
  }
  const catalogRows = load.filter((row) => row.group === 'grow-catalog').sort((a, b) => (a.datasets ?? 0) - (b.datasets ?? 0));
  if (catalogRows.length > 1) {
    const first = catalogRows[0] as LoadRow;
    const last = catalogRows[catalogRows.length - 1] as LoadRow;
    const growth = ratio(cpuUsPerRequest(last), cpuUsPerRequest(first));
    const touch = (datasets: number | undefined) => load.find((row) => row.group === 'grow-catalog-touch' && row.datasets === datasets);
    // a first touch costs more than a steady request: that cost per dataset, against the steady one
    const touchGrowth = ratio(cpuUsPerRequest(touch(last.datasets)), cpuUsPerRequest(last));
    check(
      `chunk path flat in catalog size: CPU per request at ${(last.datasets ?? 0).toLocaleString('en-US')} datasets ≤ 1.25 × at ${first.datasets ?? 0}`,
      growth,
      `${fixed(cpuUsPerRequest(last), 1)} vs ${fixed(cpuUsPerRequest(first), 1)} µs: ${times(growth)}` +
        (touchGrowth === undefined ? '' : `; a first touch ${times(touchGrowth)} a steady request`),
      (v) => v <= 1.25,
    );
  }
  return { decodedChunk, raw, small, floor, cold, targets };
}

function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

/**
 * What the machine allows a run whose server and client share its cores: its cores' CPU time
 * divided by the server's and the client's CPU per request. When the machine was (nearly) all
 * busy, that is the ceiling; more server processes cannot raise it, only lower CPU per request can.
 */
export function machineBound(row: LoadRow | undefined, nproc: string | undefined): string | undefined {
  const cores = Number(nproc);
  const perRequest = sum(cpuUsPerRequest(row), clientUsPerRequest(row));
  if (!row || !Number.isFinite(cores) || cores <= 0 || perRequest === undefined || row.machineBusy === undefined) return undefined;
  const ceiling = (cores * 1e6) / perRequest;
  return (
    `Warm with ${row.workers ?? '?'} server processes, 16 connections: the machine was ${row.machineBusy} % busy (all ${cores} cores; wrk runs on them too). ` +
    `Server ${fixed(cpuUsPerRequest(row), 1)} + client ${fixed(clientUsPerRequest(row), 1)} µs of CPU per request: ${cores} cores allow at most ${fixed(ceiling)} req/s, ` +
    `measured ${fixed(row.rps)} (${fixed((100 * row.rps) / ceiling)} % of it). Once the cores are all busy, more server processes cannot add requests per second; only less CPU per request can.`
  );
}

export function render(rows: readonly Row[], env: Readonly<Record<string, string | undefined>>): string {
  const load = rows.filter((row): row is LoadRow => row.section === 'load');
  const soak = rows.filter((row): row is LoadRow => row.section === 'soak');
  const codec = rows.filter((row): row is CodecRow => row.section === 'codec');
  const data = rows.find((row): row is DataRow => row.section === 'data');
  const parquet = rows.filter((row): row is ParquetRow => row.section === 'parquet').sort((a, b) => a.chunks - b.chunks);
  const xarray = rows.filter((row): row is XarrayRow => row.section === 'xarray');
  const f = figures(rows);
  const workers = data?.workers ?? Number(env.BENCH_WORKERS ?? 1);
  const us = (row: LoadRow | undefined) => fixed(cpuUsPerRequest(row), 1);
  const decodedMbps = (row: LoadRow | undefined) => (row ? fixed((row.rps * f.decodedChunk) / 1e6) : '–');
  const mb = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? '–' : (bytes / 1e6).toFixed(2));

  const out: string[] = [];
  out.push('# strato benchmark results', '');
  if (env.BENCH_NOTE) out.push(`**${env.BENCH_NOTE}**`, '');
  out.push(`Command: \`${env.BENCH_COMMAND ?? 'npm run bench'}\`  `);
  out.push(`Date: ${env.BENCH_DATE ?? new Date().toISOString()}  `);
  out.push(`Machine: ${env.BENCH_NPROC ?? '?'} cores (${env.BENCH_CPU ?? 'unknown CPU'}), ${env.BENCH_MEMORY ?? '?'} RAM, ${env.BENCH_KERNEL ?? ''}  `);
  out.push(`Software: node ${env.BENCH_NODE ?? process.version}, ${env.BENCH_NGINX ?? 'nginx'}, ${env.BENCH_WRK ?? 'wrk'}, strato ${env.BENCH_STRATO ?? ''}  `);
  out.push(`Load average before the run: ${env.BENCH_LOADAVG ?? '?'} (everything runs on this machine: wrk, the clients and the servers share its cores)`, '');
  if (data) {
    out.push(
      `Data: ${data.days} days of 1440×721 float32 (0.25°), NetCDF4 zlib+shuffle, one chunk per day: ${fixed(data.chunkMib)} MiB of chunk bytes, ` +
        `${fixed(f.decodedChunk / 1e6, 2)} MB decoded per chunk. wrk runs of random keys, ${env.BENCH_DURATION ?? '?'} each ` +
        `(growth tables ${env.BENCH_GROW_DURATION ?? '?'}); strato with ${workers} worker processes where nginx runs beside it ` +
        "(nginx: `worker_processes auto`, as many). Server CPU: utime+stime of the contender's whole process tree over the run; " +
        'RSS: peak over the run, all its processes. Contenders of one figure run back to back in the same run. ' +
        'Every strato start has an empty cache directory of its own (`STRATO_CACHE_DIR`): nothing is cached from an earlier start. ' +
        'Before every strato start and every C codec limit run, a throwaway process touches 1.5 GiB of memory: this machine hands idle memory back to its host, ' +
        'and whichever process touched it first after a pause paid 1–3 ms more system time per cold chunk (bench/lib.sh `touch_memory`).',
      '',
    );
  }

  if (f.raw.length > 0) {
    out.push('## Raw 2.3 MB chunks vs nginx serving the same bytes', '');
    out.push(
      table(
        ['conns', 'nginx req/s', 'strato req/s', '×nginx', 'nginx p99 ms', 'strato p99 ms', 'p99 ×nginx', 'nginx CPU %', 'strato CPU %', 'strato RSS MiB', 'errors'],
        f.raw.map((entry) => [
          String(entry.conns),
          fixed(entry.nginx?.rps),
          fixed(entry.strato?.rps),
          times(entry.ratio),
          fixed(entry.nginx?.p99, 2),
          fixed(entry.strato?.p99, 2),
          times(entry.p99Ratio),
          fixed(entry.nginx?.cpu),
          fixed(entry.strato?.cpu),
          fixed(entry.strato?.rss),
          String((entry.nginx?.errors ?? 0) + (entry.strato?.errors ?? 0)),
        ]),
      ),
      '',
    );
  }

  if (f.small.length > 0) {
    out.push(`## Small responses vs nginx, 16 connections (strato with ${workers} workers)`, '');
    out.push('`.zmetadata` of the days dataset (one key, again and again); 50 KB chunks: random keys of 51,200-byte chunks (one file of random bytes, no compressor).', '');
    out.push(
      table(
        ['request', 'nginx req/s', 'strato req/s', '×nginx', 'nginx p99 ms', 'strato p99 ms', 'nginx CPU µs/req', 'strato CPU µs/req', 'errors'],
        f.small.map((entry) => [
          entry.request,
          fixed(entry.nginx?.rps),
          fixed(entry.strato?.rps),
          times(entry.ratio),
          fixed(entry.nginx?.p99, 2),
          fixed(entry.strato?.p99, 2),
          us(entry.nginx),
          us(entry.strato),
          String((entry.nginx?.errors ?? 0) + (entry.strato?.errors ?? 0)),
        ]),
      ),
      '',
    );
  }

  if (f.floor.length > 0) {
    out.push('## Per-request CPU vs a bare node:http server (the floor for Node)', '');
    out.push(
      'strato (1 process) and `bench/floor-server.ts` (1 process: `node:http` answering the bytes and headers strato answered, from memory) ' +
        'under the same wrk load, 16 connections, one key each; CPU of the server process tree over the run per request.',
      '',
    );
    out.push(
      table(
        ['request', 'floor req/s', 'floor µs/req', 'strato req/s', 'strato µs/req', '×floor'],
        f.floor.map((entry) => [entry.request, fixed(entry.floor?.rps), fixed(entry.floorUs, 1), fixed(entry.strato?.rps), fixed(entry.stratoUs, 1), times(entry.ratio)]),
      ),
      '',
    );
  }

  if (codec.length > 0 || f.cold.length > 0) {
    const processes = codec[0]?.processes;
    out.push('## Processed view, cold, vs the C codec limit', '');
    out.push(
      `C codec limit: \`bench/codec-limit.py\` (Debian python3-numcodecs ${codec[0]?.numcodecs ?? ''}), ${processes ?? '?'} processes (one per core), ` +
        `${env.BENCH_CODEC_SECONDS ?? '?'} s per variant, the same chunk bytes in a tight loop: zlib inflate, HDF5 unshuffle (4-byte), ` +
        'then BitRound(10) and Blosc(lz4, clevel 5, byte shuffle) or Zstd(level 1). strato: a fresh process tree per figure, every day ' +
        'requested once from `/zarr` (nothing cached), N at a time; decoded MB/s = chunks per second × decoded chunk size. ' +
        '"Another job taking a core": a busy loop pinned to CPU 0 for the whole run, for both.',
      '',
    );
    if (codec.length > 0) {
      out.push(
        table(
          ['C limit variant', 'busy core', 'decoded MB/s', 'CPU ms/chunk', 'encoded MB/chunk'],
          codec.map((row) => [row.variant, row.busy ? 'yes' : 'no', fixed(row.decodedMBps), fixed(row.cpuMsPerChunk, 1), mb(row.encodedBytes)]),
        ),
        '',
      );
    }
    if (f.cold.length > 0) {
      out.push(
        table(
          ['strato cold', 'decoded MB/s', 'CPU ms/chunk', 'encoded MB/chunk', 'C limit MB/s', '×limit', 'CPU ×limit', 'RSS MiB'],
          f.cold.map((entry) => {
            const cpuMs = entry.strato?.cpuMs !== undefined && entry.strato.requests > 0 ? entry.strato.cpuMs / entry.strato.requests : undefined;
            return [
              entry.figure,
              fixed(entry.mbps),
              fixed(cpuMs, 1),
              mb(entry.strato?.bytes !== undefined && entry.strato.requests > 0 ? entry.strato.bytes / entry.strato.requests : undefined),
              fixed(entry.limit?.decodedMBps),
              times(entry.ratio),
              times(ratio(cpuMs, entry.limit?.cpuMsPerChunk)),
              fixed(entry.strato?.rss),
            ];
          }),
        ),
        '',
      );
      const c4 = f.cold.find((entry) => entry.figure.includes('4 at a time'))?.mbps;
      const c16 = f.cold.find((entry) => entry.figure === 'keepbits=10 + blosc-lz4, 16 at a time')?.mbps;
      out.push(
        `For scale only, from issue #14 (not measured here: xpublish is not installable on this machine): xpublish 0.3.3, 1 process, ` +
          `${XPUBLISH_COLD_MBPS[4]} / ${XPUBLISH_COLD_MBPS[16]} MB/s decoded at 4 / 16 at a time; this run's strato is ` +
          `${times(ratio(c4, XPUBLISH_COLD_MBPS[4]))} / ${times(ratio(c16, XPUBLISH_COLD_MBPS[16]))} those figures.`,
        '',
      );
    }
  }

  const warm = load.filter((row) => row.group === 'warm');
  const seconds = load.filter((row) => row.group === 'cold' && row.pass === 2);
  if (warm.length > 0 || seconds.length > 0) {
    out.push('## Processes, caches, warm chunks', '');
    const coldOf = (w: number, pass: number) =>
      load.find((row) => row.group === 'cold' && row.dataset === 'kb10-lz4' && row.conns === 16 && !row.busy && row.workers === w && (row.pass ?? 1) === pass);
    const warmOf = (w: number, conns: number) => warm.find((row) => row.workers === w && row.conns === conns);
    const counts = [...new Set([workers, 1])];
    const perCount = (label: string, value: (w: number) => number | undefined, format: (v: number | undefined) => string, compare = true) => {
      const values = counts.map(value);
      return [label, ...values.map(format), ...(counts.length > 1 ? [compare ? times(ratio(values[0], values[1])) : ''] : [])];
    };
    const mbpsOf = (row: LoadRow | undefined) => (row ? (row.rps * f.decodedChunk) / 1e6 : undefined);
    const hitsOf = (w: number) => coldOf(w, 2)?.hits;
    const rowsOut: string[][] = [
      perCount(
        'cold, decoded MB/s (16 at a time)',
        (w) => mbpsOf(coldOf(w, 1)),
        (v) => fixed(v),
      ),
      perCount(
        'second pass over the same days, decoded MB/s',
        (w) => mbpsOf(coldOf(w, 2)),
        (v) => fixed(v),
      ),
      [
        'second pass: encoded-cache hits (from /metrics)',
        ...counts.map((w) => (hitsOf(w) !== undefined ? `${hitsOf(w)} of ${coldOf(w, 2)?.requests}` : '–')),
        ...(counts.length > 1 ? [''] : []),
      ],
      perCount(
        'warm, req/s (16 connections)',
        (w) => warmOf(w, 16)?.rps,
        (v) => fixed(v),
      ),
      perCount(
        'warm, CPU µs/req (16 connections)',
        (w) => cpuUsPerRequest(warmOf(w, 16)),
        (v) => fixed(v, 1),
      ),
      perCount(
        'warm, client (wrk) CPU µs/req',
        (w) => clientUsPerRequest(warmOf(w, 16)),
        (v) => fixed(v, 1),
      ),
      perCount(
        'warm, server + client CPU µs/req',
        (w) => sum(cpuUsPerRequest(warmOf(w, 16)), clientUsPerRequest(warmOf(w, 16))),
        (v) => fixed(v, 1),
      ),
      perCount(
        'warm, machine busy % (all cores)',
        (w) => warmOf(w, 16)?.machineBusy,
        (v) => fixed(v),
        false,
      ),
      perCount(
        'cold, CPU ms/chunk (server)',
        (w) => (cpuUsPerRequest(coldOf(w, 1)) ?? Number.NaN) / 1000,
        (v) => fixed(v, 1),
      ),
      perCount(
        'cold, machine busy % (all cores)',
        (w) => coldOf(w, 1)?.machineBusy,
        (v) => fixed(v),
        false,
      ),
      perCount(
        'peak RSS MiB, cold',
        (w) => coldOf(w, 1)?.rss,
        (v) => fixed(v),
      ),
      perCount(
        'peak RSS MiB, warm',
        (w) => warmOf(w, 16)?.rss,
        (v) => fixed(v),
      ),
    ];
    out.push(table(['figure', ...counts.map((w) => (w === 1 ? '1 process' : `--workers ${w}`)), ...(counts.length > 1 ? ['N ×1'] : [])], rowsOut), '');
    const bound = machineBound(warmOf(workers, 16), env.BENCH_NPROC);
    if (bound) out.push(bound, '');
    const warmRows = warm.filter((row) => row.workers === workers);
    if (warmRows.length > 0) {
      const raw = (conns: number) => f.raw.find((entry) => entry.conns === conns)?.strato;
      out.push(
        `Warm (keepbits=10 + blosc-lz4, random keys among the first ${warmRows[0]?.warmKeys ?? '?'} days, after every worker computed them) next to raw chunks at the same connection count:`,
        '',
      );
      out.push(
        table(
          ['conns', 'warm req/s', 'warm decoded MB/s', 'raw req/s', 'warm ×raw', 'warm p99 ms', 'warm CPU %', 'RSS MiB'],
          warmRows.map((row) => [
            String(row.conns),
            fixed(row.rps),
            decodedMbps(row),
            fixed(raw(row.conns)?.rps),
            times(ratio(row.rps, raw(row.conns)?.rps)),
            fixed(row.p99, 2),
            fixed(row.cpu),
            fixed(row.rss),
          ]),
        ),
        '',
      );
    }
  }
  const freshRows = rows.filter((row): row is FreshRow => row.section === 'fresh');
  const freshTotal = freshFigure(rows);
  if (freshRows.length === 1 && freshRows[0]?.listenMs === undefined) {
    out.push(
      `A fresh process (1, nothing cached), its first processed chunks one request at a time, each a different day: ${(freshRows[0]?.ms ?? []).map((ms) => fixed(ms, 1)).join(', ')} ms.`,
      '',
    );
  } else if (freshRows.length > 0) {
    out.push(
      `Fresh processes (1 process each, nothing cached; the request path is warmed before listening, server/warm-start.ts), their first processed chunks one request at a time, each a different day:`,
      '',
      ...freshRows.map((row) => `- listening after ${fixed(row.listenMs)} ms: ${row.ms.map((ms) => fixed(ms, 1)).join(', ')} ms`),
      '',
    );
    if (freshTotal) {
      out.push(
        `Median first chunk ${fixed(freshTotal.first, 1)} ms vs median later chunk ${fixed(freshTotal.later, 1)} ms (${times(ratio(freshTotal.first, freshTotal.later))}); median start → listening ${fixed(freshTotal.listenMs)} ms.`,
        '',
      );
    }
  }
  for (const row of soak) {
    out.push(
      `Soak: ${row.label} warm, ${row.conns} connections for ${env.BENCH_SOAK ?? '?'}: ${row.requests} requests, ${row.errors} errors, ` +
        `${fixed(row.rps)} req/s, p50 ${fixed(row.p50, 2)} ms, p99 ${fixed(row.p99, 2)} ms, peak RSS ${row.rss} MiB.`,
      '',
    );
  }

  const biggest = parquet[parquet.length - 1];
  if (biggest) {
    const n = biggest.chunks.toLocaleString('en-US');
    const loaded = load.find((row) => row.group === 'grow-refs' && row.chunks === biggest.chunks);
    out.push(`## ${n} parquet chunk references, cold start`, '');
    out.push(
      `${n} chunk references in ${biggest.recordFiles} record files (fsspec layout, written by strato's own writer` +
        `${biggest.generateSeconds === null ? ', reused from an earlier run' : ` in ${fixed(biggest.generateSeconds, 1)} s`}); ` +
        'a catalog with only this dataset, strato with 1 process; first byte (curl) of the first requests after it listens.',
      '',
    );
    const rowsOut: string[][] = [
      ['process start → listening', `${fixed(biggest.listenMs)} ms`],
      ['`.zmetadata`, first byte (first request)', `${fixed(biggest.zmetadataMs, 1)} ms`],
      ['first chunk (random key), first byte', `${fixed(biggest.firstChunkMs, 1)} ms`],
      ['RSS after those two requests', `${biggest.idleRss} MiB`],
    ];
    if (loaded) {
      rowsOut.push([`random chunks, ${loaded.conns} connections`, `${fixed(loaded.rps)} req/s, p99 ${fixed(loaded.p99, 2)} ms, ${loaded.errors} errors`]);
      rowsOut.push(['peak RSS while serving random chunks', `${loaded.rss} MiB`]);
    }
    out.push(table(['measure', 'value'], rowsOut), '');
  }

  const growChunk = [...new Set(load.filter((row) => row.group === 'grow-chunk').map((row) => row.size ?? 0))].sort((a, b) => a - b);
  const growCatalog = load.filter((row) => row.group === 'grow-catalog').sort((a, b) => (a.datasets ?? 0) - (b.datasets ?? 0));
  const growRefs = load.filter((row) => row.group === 'grow-refs').sort((a, b) => (a.chunks ?? 0) - (b.chunks ?? 0));
  if (growChunk.length + growCatalog.length + growRefs.length > 0) {
    out.push('## How cost grows', '');
  }
  if (growChunk.length > 0) {
    out.push(
      `### Chunk size (random keys of one ${env.BENCH_GROWTH_MIB ?? '64'} MiB file of random bytes cut into chunks, no compressor; 16 connections; strato ${workers} workers, nginx as many)`,
      '',
    );
    out.push(
      table(
        ['chunk', 'nginx req/s', 'strato req/s', '×nginx', 'strato MB/s', 'nginx CPU µs/req', 'strato CPU µs/req', 'strato p99 ms', 'strato RSS MiB'],
        growChunk.map((size) => {
          const nginx = load.find((row) => row.group === 'grow-chunk' && row.label === 'nginx' && row.size === size);
          const strato = load.find((row) => row.group === 'grow-chunk' && row.label === 'strato' && row.size === size);
          return [
            bytesLabel(size),
            fixed(nginx?.rps),
            fixed(strato?.rps),
            times(ratio(strato?.rps, nginx?.rps)),
            fixed(strato?.mbps),
            us(nginx),
            us(strato),
            fixed(strato?.p99, 2),
            fixed(strato?.rss),
          ];
        }),
      ),
      '',
    );
  }
  if (growCatalog.length > 0) {
    out.push(
      '### Catalog size (N datasets of 16 × 50 KB chunks each; 16 connections; 1 process)',
      '',
      'First chunk: the first request after it listens. First touches: one chunk of every dataset, each once (every dataset opens its views then), swept 16 at a time. ' +
        'Steady: then random chunks of random datasets, every dataset already touched (the figure of the target).',
      '',
    );
    const base = cpuUsPerRequest(growCatalog[0]);
    const touchOf = (row: LoadRow) => load.find((t) => t.group === 'grow-catalog-touch' && t.datasets === row.datasets);
    out.push(
      table(
        [
          'datasets',
          'start → listening ms',
          'first chunk ms',
          'idle RSS MiB',
          'first touches req/s',
          'first touch CPU µs/req',
          'first touch ×steady',
          'steady req/s',
          'steady CPU µs/req',
          'steady ×smallest',
          'steady p99 ms',
          'peak RSS MiB',
        ],
        growCatalog.map((row) => {
          const touch = touchOf(row);
          return [
            (row.datasets ?? 0).toLocaleString('en-US'),
            fixed(row.listenMs),
            fixed(row.firstMs, 1),
            fixed(row.idleRss),
            fixed(touch?.rps),
            us(touch),
            times(ratio(cpuUsPerRequest(touch), cpuUsPerRequest(row))),
            fixed(row.rps),
            us(row),
            times(ratio(cpuUsPerRequest(row), base)),
            fixed(row.p99, 2),
            fixed(Math.max(row.rss, touch?.rss ?? 0)),
          ];
        }),
      ),
      '',
    );
  }
  if (growRefs.length > 0) {
    out.push('### Reference set size (parquet references to the 2.3 MB days, random chunks; 16 connections; 1 process)', '');
    out.push(
      table(
        ['chunks', 'start → listening ms', '.zmetadata first byte ms', 'first chunk ms', 'idle RSS MiB', 'req/s', 'CPU µs/req', 'p99 ms', 'peak RSS MiB'],
        growRefs.map((row) => {
          const cold = parquet.find((p) => p.chunks === row.chunks);
          return [
            (row.chunks ?? 0).toLocaleString('en-US'),
            fixed(cold?.listenMs),
            fixed(cold?.zmetadataMs, 1),
            fixed(cold?.firstChunkMs, 1),
            fixed(cold?.idleRss),
            fixed(row.rps),
            us(row),
            fixed(row.p99, 2),
            fixed(row.rss),
          ];
        }),
      ),
      '',
    );
  }

  if (xarray.length > 0) {
    out.push('## xarray client', '');
    out.push(
      '`/usr/bin/python3` (Debian xarray, zarr 2, fsspec/aiohttp): `xr.open_dataset(url, engine="zarr", consolidated=True)` then ' +
        '`ds.tas.isel(time=slice(0, N)).values`; wall time includes opening. Mean: a check that every contender served the same values ' +
        '(the processed view is bit-rounded, so it differs in the last digits).',
      '',
    );
    const nginx = xarray.find((row) => row.label === 'nginx static');
    out.push(
      table(
        ['contender', 'time steps', 'wall s', 'decoded MB/s', '×nginx time', 'mean K'],
        xarray.map((row) => [
          row.label,
          String(row.steps),
          fixed(row.seconds, 2),
          fixed(row.decoded_mb / row.seconds),
          nginx ? fixed(row.seconds / nginx.seconds, 2) : '–',
          fixed(row.mean, 4),
        ]),
      ),
      '',
    );
  }

  const errors = [...load, ...soak].reduce((sum, row) => sum + row.errors, 0);
  if (errors > 0) out.push(`**${errors} failed requests in this run** (non-2xx or socket errors): the figures above count only answered ones.`, '');
  const measured = f.targets.filter((target) => target.met !== undefined);
  if (measured.length > 0) {
    out.push('## Targets (issue #14)', '');
    out.push(
      table(
        ['target', 'measured', ''],
        measured.map((target) => [target.target, target.measured, target.met ? 'met' : 'MISSED']),
      ),
      '',
    );
    out.push(`${measured.filter((target) => target.met).length} of ${measured.length} met.`, '');
  }
  if (env.BENCH_ELAPSED !== undefined) out.push(`Total bench time: ${env.BENCH_ELAPSED} s.`, '');
  return out.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: report RESULTS_JSONL\n');
    process.exit(2);
  }
  process.stdout.write(render(parseRows(readFileSync(file, 'utf8')), process.env));
}
