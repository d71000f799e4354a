/**
 * Fetches every key of a list exactly once, CONCURRENCY requests at a time: the cold pass of a
 * cache (each chunk computed once), which a time-bounded random-key load (wrk) cannot promise.
 *
 *   node bench/.build/bench/sweep.js BASE_URL KEYS_FILE [--concurrency 16]
 *
 * BASE_URL ends where the key starts (http://127.0.0.1:8000/datasets/tas/zarr/). Prints one JSON
 * line: requests, errors (non-2xx and failed requests), seconds, req/s, MB/s of response bytes,
 * p50 and p99 latency in ms, bytes received in all, and this client's own CPU ms.
 *
 * The requests are made by curl (`--parallel`, bodies to /dev/null): the client shares the two
 * cores with the server it measures, and costs it as little as it can. Per 1.7 MB chunk curl
 * spent 0.33 ms of CPU, node:http 1.1–1.3 ms, fetch() 3.4 ms (warm kb10-lz4, 365 days, 16 at a time).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface SweepResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly mbps: number;
  readonly p50: number;
  readonly p99: number;
  readonly bytes: number;
  /** This client's own CPU over the sweep (user + system, ms): it shares the machine with the server. */
  readonly clientCpuMs: number;
}

/** A URL as a value of curl's config file (double-quoted, `\\` and `"` escaped). */
function configValue(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** Seconds of a `times` field (`0m1.234s`). */
function timesSeconds(field: string): number {
  const match = /^(\d+)m([\d.]+)s$/.exec(field);
  if (!match) throw new Error(`unexpected \`times\` output: ${field}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

async function sweep(base: string, keys: readonly string[], concurrency: number): Promise<SweepResult> {
  const dir = mkdtempSync(join(tmpdir(), 'strato-sweep-'));
  try {
    const config = join(dir, 'curl.cfg');
    writeFileSync(config, keys.map((key) => `url = ${configValue(base + key)}\noutput = "/dev/null"\n`).join(''));
    // one line per transfer; then bash's `times`: its children's user and system CPU (curl's)
    const script = 'curl --silent --no-progress-meter --parallel --parallel-max "$1" --config "$2" --write-out "%{http_code} %{size_download} %{time_total}\\n"; times';
    const started = performance.now();
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('bash', ['-c', script, 'sweep', String(Math.max(1, concurrency)), config], { stdio: ['ignore', 'pipe', 'inherit'] });
      const parts: Buffer[] = [];
      child.stdout.on('data', (part: Buffer) => parts.push(part));
      child.on('error', reject);
      child.on('close', () => resolve(Buffer.concat(parts).toString('utf8')));
    });
    const seconds = (performance.now() - started) / 1000;
    const lines = output.trim().split('\n');
    const children = (lines.pop() ?? '').trim().split(/\s+/);
    lines.pop(); // bash's own times
    const clientCpu = timesSeconds(children[0] ?? '') + timesSeconds(children[1] ?? '');
    const latencies: number[] = [];
    let errors = keys.length - lines.length;
    let bytes = 0;
    for (const line of lines) {
      const [status, size, total] = line.split(' ').map(Number);
      if (status === undefined || status < 200 || status > 299) errors++;
      bytes += size ?? 0;
      latencies.push((total ?? 0) * 1000);
    }
    latencies.sort((a, b) => a - b);
    return {
      requests: keys.length,
      errors,
      seconds: round(seconds, 3),
      rps: round(keys.length / seconds, 1),
      mbps: round(bytes / 1048576 / seconds, 1),
      p50: round(percentile(latencies, 0.5), 2),
      p99: round(percentile(latencies, 0.99), 2),
      bytes,
      clientCpuMs: Math.round(clientCpu * 1000),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The value below which `fraction` of the sorted values lie (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] as number;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { concurrency: { type: 'string', default: '16' } }, allowPositionals: true });
  const [base, keysFile] = positionals;
  if (base === undefined || keysFile === undefined) throw new Error('usage: sweep BASE_URL KEYS_FILE [--concurrency N]');
  const concurrency = Number(values.concurrency);
  if (!Number.isSafeInteger(concurrency) || concurrency <= 0) throw new Error(`--concurrency must be a positive integer, got ${values.concurrency}`);
  const keys = readFileSync(keysFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
  process.stdout.write(`${JSON.stringify(await sweep(base, keys, concurrency))}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`sweep: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
