/**
 * Renders the results of one `npm run bench` (JSON lines written by bench/run.sh) as one
 * Markdown document: the machine and the command, the load table with ratios to nginx, the
 * 10-million-chunk parquet cold start, the xarray client times, and the targets met or missed.
 *
 *   node bench/.build/bench/report.js RESULTS_JSONL
 *
 * The machine and command come from the environment run.sh sets (BENCH_*). Prints the document.
 */
import { readFileSync } from 'node:fs';

interface LoadRow {
  readonly section: 'load' | 'soak';
  readonly label: string;
  readonly conns: number;
  readonly requests: number;
  readonly rps: number;
  readonly mbps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly cpu: number;
  readonly rss: number;
}

interface DataRow {
  readonly section: 'data';
  readonly days: number;
  readonly chunkMib: number;
  readonly decodedChunkBytes: number;
  readonly warmKeys: number;
}

interface ParquetRow {
  readonly section: 'parquet';
  readonly chunks: number;
  readonly recordFiles: number;
  readonly generateSeconds: number | null;
  readonly listenMs: number;
  readonly zmetadataMs: number;
  readonly zmetadataBytes: number;
  readonly firstChunkMs: number;
  readonly idleRss: number;
  readonly workers: number;
}

interface XarrayRow {
  readonly section: 'xarray';
  readonly label: string;
  readonly steps: number;
  readonly seconds: number;
  readonly decoded_mb: number;
  readonly mean: number;
}

type Row = LoadRow | DataRow | ParquetRow | XarrayRow;

const NGINX = 'nginx static';
const RAW = 'strato /kerchunk';
const COLD = 'strato /zarr cold';
const WARM = 'strato /zarr warm';
const PARQUET = 'parquet refs /kerchunk';

function readRows(file: string): Row[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Row);
}

function fixed(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function render(rows: readonly Row[], env: NodeJS.ProcessEnv): string {
  const load = rows.filter((row): row is LoadRow => row.section === 'load');
  const soak = rows.filter((row): row is LoadRow => row.section === 'soak');
  const data = rows.find((row): row is DataRow => row.section === 'data');
  const parquet = rows.find((row): row is ParquetRow => row.section === 'parquet');
  const xarray = rows.filter((row): row is XarrayRow => row.section === 'xarray');
  const decodedChunk = data?.decodedChunkBytes ?? 1440 * 721 * 4;
  const nginxAt = (conns: number) => load.find((row) => row.label === NGINX && row.conns === conns);
  const find = (label: string, conns?: number) => load.find((row) => row.label === label && (conns === undefined || row.conns === conns));

  const out: string[] = [];
  out.push('# strato benchmark results', '');
  out.push(`Command: \`${env.BENCH_COMMAND ?? 'npm run bench'}\`  `);
  out.push(`Date: ${env.BENCH_DATE ?? new Date().toISOString()}  `);
  out.push(`Machine: ${env.BENCH_NPROC ?? '?'} cores (${env.BENCH_CPU ?? 'unknown CPU'}), ${env.BENCH_MEMORY ?? '?'} RAM, ${env.BENCH_KERNEL ?? ''}  `);
  out.push(`Software: node ${env.BENCH_NODE ?? process.version}, ${env.BENCH_NGINX ?? 'nginx'}, ${env.BENCH_WRK ?? 'wrk'}, strato ${env.BENCH_STRATO ?? ''}  `);
  out.push(`Load average before the run: ${env.BENCH_LOADAVG ?? '?'} (everything runs on this machine: wrk, the xarray client and the servers share its cores)`, '');
  if (data) {
    out.push(
      `Data: ${data.days} days of 1440×721 float32 (0.25°), NetCDF4 zlib+shuffle, one chunk per day: ${fixed(data.chunkMib)} MiB of chunk bytes, ` +
        `${fixed(decodedChunk / 1e6, 2)} MB decoded per chunk. Each load run: wrk, random chunk keys, ${env.BENCH_DURATION ?? '?'}; ` +
        `strato with ${env.BENCH_WORKERS ?? '?'} worker processes, nginx with \`worker_processes auto\`.`,
      '',
    );
  }

  if (load.length > 0) {
    out.push('## Chunk throughput', '');
    out.push(
      'req/s and MB/s as the client received them; decoded MB/s = chunks per second × decoded chunk size; ' +
        "server CPU = utime+stime of all the contender's processes over the run (100 % = one core); RSS = peak over the run, all processes; " +
        "×nginx = req/s over nginx's at the same connection count.",
      '',
    );
    const loadRows = load.map((row) => {
      const nginx = nginxAt(row.conns);
      const ratio = nginx && nginx.rps > 0 && row.label !== PARQUET ? fixed(row.rps / nginx.rps, 2) : '–';
      return [
        row.label,
        String(row.conns),
        fixed(row.rps),
        fixed(row.mbps),
        fixed((row.rps * decodedChunk) / 1e6),
        fixed(row.p50, 2),
        fixed(row.p99, 2),
        String(row.errors),
        fixed(row.cpu),
        String(row.rss),
        ratio,
      ];
    });
    out.push(table(['contender', 'conns', 'req/s', 'MB/s', 'decoded MB/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU %', 'RSS MiB', '×nginx'], loadRows), '');
    if (data && (find(COLD) || find(WARM))) {
      out.push(
        `\`${COLD}\`: every chunk key once (${data.days} requests, each chunk decoded, bit-rounded to 10 mantissa bits, blosc-lz4 encoded); ` +
          `\`${WARM}\`: random keys among the first ${data.warmKeys} days (what fits the encoded-chunk cache of each worker), after a warm-up run.`,
        '',
      );
    }
  }
  for (const row of soak) {
    out.push(
      `Soak: ${row.label}, ${row.conns} connections for ${env.BENCH_SOAK ?? '?'}: ${row.requests} requests, ${row.errors} errors, ` +
        `${fixed(row.rps)} req/s, p50 ${fixed(row.p50, 2)} ms, p99 ${fixed(row.p99, 2)} ms, peak RSS ${row.rss} MiB.`,
      '',
    );
  }

  if (parquet) {
    const load10m = find(PARQUET);
    out.push(`## ${parquet.chunks.toLocaleString('en-US')} parquet chunk references, cold start`, '');
    out.push(
      `${parquet.chunks.toLocaleString('en-US')} chunk references in ${parquet.recordFiles} record files (fsspec layout, ZSTD, written by strato's own writer` +
        `${parquet.generateSeconds === null ? ', reused from an earlier run' : ` in ${fixed(parquet.generateSeconds, 1)} s`}); ` +
        `a catalog with only this dataset; strato with ${parquet.workers} process; time from the first request's start to its first byte (curl), on a fresh connection.`,
      '',
    );
    const rowsOut: string[][] = [
      ['process start → listening', `${fixed(parquet.listenMs)} ms`],
      ['`.zmetadata`, first byte (first request)', `${fixed(parquet.zmetadataMs, 1)} ms (${parquet.zmetadataBytes} bytes)`],
      ['first chunk (random key), first byte', `${fixed(parquet.firstChunkMs, 1)} ms`],
      ['RSS after start and those two requests', `${parquet.idleRss} MiB`],
    ];
    if (load10m) {
      rowsOut.push([
        `random chunks, ${load10m.conns} connections, ${env.BENCH_DURATION ?? ''}`,
        `${fixed(load10m.rps)} req/s, p99 ${fixed(load10m.p99, 2)} ms, ${load10m.errors} errors`,
      ]);
      rowsOut.push(['peak RSS while serving random chunks', `${load10m.rss} MiB`]);
    }
    out.push(table(['measure', 'value'], rowsOut), '');
  }

  if (xarray.length > 0) {
    out.push('## xarray client', '');
    out.push(
      '`/usr/bin/python3` (Debian xarray, zarr 2, fsspec/aiohttp): `xr.open_dataset(url, engine="zarr", consolidated=True)` then ' +
        '`ds.tas.isel(time=slice(0, N)).values`; wall time includes opening. Mean: a check that every contender served the same values ' +
        '(the processed view is bit-rounded, so it differs in the last digits).',
      '',
    );
    const nginx = xarray.find((row) => row.label === NGINX);
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

  const checks: string[][] = [];
  const check = (target: string, measured: string, met: boolean | undefined) => {
    if (met !== undefined) checks.push([target, measured, met ? 'met' : 'MISSED']);
  };
  const raw16 = find(RAW, 16);
  const nginx16 = nginxAt(16);
  const ratio16 = raw16 && nginx16 ? raw16.rps / nginx16.rps : undefined;
  check('raw ≥ 0.8 × nginx at 16 connections', ratio16 === undefined ? '–' : `${fixed(ratio16, 2)} ×`, ratio16 === undefined ? undefined : ratio16 >= 0.8);
  check(
    `.zmetadata of the ${parquet ? parquet.chunks.toLocaleString('en-US') : ''}-chunk parquet < 100 ms from cold start`,
    parquet ? `${fixed(parquet.zmetadataMs, 1)} ms (${fixed(parquet.listenMs)} ms to listen before it)` : '–',
    parquet ? parquet.zmetadataMs < 100 : undefined,
  );
  const load10m = find(PARQUET);
  check('RSS < 300 MB serving random chunks of it', load10m ? `${load10m.rss} MiB` : '–', load10m ? load10m.rss * 1.048576 < 300 : undefined);
  const cold = find(COLD);
  const coldDecoded = cold ? (cold.rps * decodedChunk) / 1e6 : undefined;
  check(
    'processed ≥ 200 MB/s decoded (cold: every chunk computed)',
    coldDecoded === undefined ? '–' : `${fixed(coldDecoded)} MB/s`,
    coldDecoded === undefined ? undefined : coldDecoded >= 200,
  );
  const warm16 = find(WARM, 16);
  const warmRatio = warm16 && raw16 ? warm16.rps / raw16.rps : undefined;
  check('processed warm ≥ 0.8 × raw (16 connections)', warmRatio === undefined ? '–' : `${fixed(warmRatio, 2)} ×`, warmRatio === undefined ? undefined : warmRatio >= 0.8);
  const soaked = soak[0];
  check(
    `${soaked?.conns ?? 64} connections for ${env.BENCH_SOAK ?? '60s'}: zero errors, p99 < 50 ms (cached chunks)`,
    soaked ? `${soaked.errors} errors, p99 ${fixed(soaked.p99, 2)} ms` : '–',
    soaked ? soaked.errors === 0 && soaked.p99 < 50 : undefined,
  );
  if (checks.length > 0) out.push('## Targets', '', table(['target', 'measured', ''], checks), '');
  if (env.BENCH_ELAPSED !== undefined) out.push(`Total bench time: ${env.BENCH_ELAPSED} s.`, '');
  return out.join('\n');
}

const [file] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: report RESULTS_JSONL\n');
  process.exit(2);
}
process.stdout.write(render(readRows(file), process.env));
