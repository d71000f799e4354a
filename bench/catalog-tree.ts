/**
 * The catalog tree (/catalog/kerchunk, /catalog/zarr) of a large catalog: first byte of the
 * root's documents (cold: the first request after start or after a registration builds the
 * tree index and the document; warm: cached), walking down to one dataset, and the server's RSS.
 *
 *   npm run build && npx vite-node bench/catalog-tree.ts -- [--datasets 10000] [--repeat 20] [--keep DIR]
 *   (or: npx tsc -p bench/tsconfig.json && node bench/.build/bench/catalog-tree.js [...])
 *
 * Writes a catalog of N small JSON reference sets (ids `model{m}.exp{e}.r{i}.{realm}`, four
 * levels; each with CF-like attributes and three arrays over one shared data file) into a
 * temporary directory, serves it with the built CLI (dist/cli/cli.js, admin API on), and prints
 * one JSON line with every figure. Uses only node's own modules: it measures strato as built.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL(import.meta.url.includes('/.build/') ? '../../../' : '../', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'cli.js');
const TOKEN = 'bench-admin-token-0123456789abcdef';

const { values } = parseArgs({
  options: { datasets: { type: 'string', default: '10000' }, repeat: { type: 'string', default: '20' }, keep: { type: 'string' } },
});
const COUNT = Number(values.datasets);
const REPEAT = Number(values.repeat);

const zarray = (shape: number[], chunks: number[], dtype: string) =>
  JSON.stringify({ zarr_format: 2, shape, chunks, dtype, compressor: null, filters: null, fill_value: null, order: 'C' });

function datasetId(i: number): string {
  return `model${i % 10}.exp${Math.floor(i / 10) % 25}.r${i}.${i % 2 === 0 ? 'atmos' : 'ocean'}`;
}

function referenceSet(i: number): string {
  const attrs = {
    Conventions: 'CF-1.8',
    title: `Synthetic run ${i} of the catalog-tree benchmark`,
    institution: 'strato bench',
    source: 'bench/catalog-tree.ts',
    history: '2026-01-01T00:00:00Z generated',
    frequency: 'day',
    experiment_id: `exp${Math.floor(i / 10) % 25}`,
    variant_label: `r${i}i1p1f1`,
  };
  return JSON.stringify({
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format": 2}',
      '.zattrs': JSON.stringify(attrs),
      'time/.zarray': zarray([8], [8], '<f8'),
      'time/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time'], units: 'days since 2000-01-01', calendar: 'standard', standard_name: 'time' }),
      'time/0': ['../data/values.bin', 0, 64],
      'x/.zarray': zarray([16], [16], '<f4'),
      'x/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'], units: 'm' }),
      'x/0': ['../data/values.bin', 64, 64],
      'tas/.zarray': zarray([8, 16], [4, 16], '<f4'),
      'tas/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time', 'x'], units: 'K', standard_name: 'air_temperature', long_name: 'Near-surface air temperature' }),
      'tas/0.0': ['../data/values.bin', 128, 256],
      'tas/1.0': ['../data/values.bin', 384, 256],
    },
  });
}

async function makeCatalog(dir: string): Promise<string> {
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'refs'), { recursive: true });
  await writeFile(join(dir, 'data', 'values.bin'), Buffer.alloc(640, 7));
  const lines: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    await writeFile(join(dir, 'refs', `d${i}.json`), referenceSet(i));
    lines.push(`  ${datasetId(i)}: {refs: refs/d${i}.json}`);
  }
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, `datasets:\n${lines.join('\n')}\nsources:\n  allow: [data/]\n`);
  await writeFile(join(dir, 'refs', 'extra.json'), referenceSet(COUNT));
  return catalog;
}

async function serve(catalog: string): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'serve', '--catalog', catalog, '--port', '0', '--log-level', 'error'], {
    env: { ...process.env, STRATO_ADMIN_TOKEN: TOKEN, STRATO_ADMIN_RATE: '1000', STRATO_ADMIN_BURST: '1000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`strato exited with ${code}`)));
  });
  return { child, url, startMs: performance.now() - started };
}

/** Milliseconds to the response headers (first byte) and to the last byte, and the body size. */
function timed(url: string, method = 'GET', body?: string): Promise<{ status: number; firstByteMs: number; totalMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    const req = request(url, { method, headers, agent: false }, (res) => {
      const firstByteMs = performance.now() - started;
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, firstByteMs, totalMs: performance.now() - started, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU time (user + system) the server has used so far, in ms (clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A request timed as `timed` does, with the server's CPU time spent meanwhile. */
async function cold(pid: number, url: string, method = 'GET', body?: string) {
  const before = await cpuMs(pid);
  const answer = await timed(url, method, body);
  return { ...answer, firstByteMs: round(answer.firstByteMs), totalMs: round(answer.totalMs), serverCpuMs: (await cpuMs(pid)) - before };
}

async function rssMiB(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
  return { rss: Math.round(field('VmRSS')), peak: Math.round(field('VmHWM')) };
}

/** Waits until /health answers in under 20 ms three times in a row; the milliseconds it took. */
async function settle(url: string): Promise<number> {
  const started = performance.now();
  for (let quick = 0; quick < 3; ) {
    quick = (await timed(`${url}/health`)).totalMs < 20 ? quick + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Math.round(performance.now() - started);
}

const round = (ms: number) => Math.round(ms * 100) / 100;
function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return round(sorted[Math.floor(sorted.length / 2)] as number);
}

async function warm(url: string): Promise<{ firstByteMs: number; totalMs: number }> {
  const first: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const answer = await timed(url);
    first.push(answer.firstByteMs);
    total.push(answer.totalMs);
  }
  return { firstByteMs: median(first), totalMs: median(total) };
}

const dir = values.keep ?? (await mkdtemp(join(tmpdir(), 'strato-bench-tree-')));
try {
  const madeAt = performance.now();
  const catalog = await makeCatalog(dir);
  const makeMs = performance.now() - madeAt;
  const { child, url, startMs } = await serve(catalog);
  const pid = child.pid as number;
  try {
    // the server reloads its catalog once right after the start (catalog-watch.ts): measure after it
    const settleMs = await settle(url);
    const rssBefore = await rssMiB(pid);
    const result: Record<string, unknown> = { datasets: COUNT, makeCatalogMs: Math.round(makeMs), serverStartMs: Math.round(startMs), settleMs, rssAfterStartMiB: rssBefore.rss };
    for (const face of ['kerchunk', 'zarr']) {
      const root = `${url}/catalog/${face}`;
      const dataset = datasetId(COUNT - 1)
        .split('.')
        .join('/');
      result[face] = {
        // the first request of the face after start: builds the tree index (first face only) and the document
        rootZmetadataCold: await cold(pid, `${root}/.zmetadata`),
        rootZmetadataWarm: await warm(`${root}/.zmetadata`),
        rootZarrJsonCold: await cold(pid, `${root}/zarr.json`),
        rootZarrJsonWarm: await warm(`${root}/zarr.json`),
        rootIndexCold: await cold(pid, `${root}/`),
        rootIndexWarm: await warm(`${root}/`),
        datasetZmetadataCold: await cold(pid, `${root}/${dataset}/.zmetadata`),
        chunkCold: await cold(pid, `${root}/${dataset}/tas/0.0`),
        rssMiB: await rssMiB(pid),
      };
    }
    // a registration makes a new catalog version: the next root request rebuilds the index and the document
    const register = (id: string) => cold(pid, `${url}/admin/datasets`, 'POST', JSON.stringify({ id, refs: 'refs/extra.json' }));
    result.registration = await register('model0.exp0.extra.atmos');
    // at once: the catalog watcher's own reload of the written file (all 10,000 entries) runs meanwhile
    result.afterRegistrationAtOnce = {
      rootZmetadataCold: await cold(pid, `${url}/catalog/kerchunk/.zmetadata`),
      rootZmetadataWarm: await warm(`${url}/catalog/kerchunk/.zmetadata`),
    };
    await register('model0.exp0.extra2.atmos');
    // once that reload is over: the tree's own cost for a new version
    await settle(url);
    result.afterRegistrationSettled = {
      rootZmetadataCold: await cold(pid, `${url}/catalog/kerchunk/.zmetadata`),
      rootZarrJsonCold: await cold(pid, `${url}/catalog/kerchunk/zarr.json`),
    };
    result.loadAverage = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    result.rssEndMiB = await rssMiB(pid);
    console.log(JSON.stringify(result));
  } finally {
    child.kill('SIGTERM');
  }
} finally {
  if (!values.keep) await rm(dir, { recursive: true, force: true });
}
