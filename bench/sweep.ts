/**
 * Fetches every key of a list exactly once, CONCURRENCY requests at a time: the cold pass of a
 * cache (each chunk computed once), which a time-bounded random-key load (wrk) cannot promise.
 *
 *   node bench/.build/bench/sweep.js BASE_URL KEYS_FILE [--concurrency 16]
 *
 * BASE_URL ends where the key starts (http://127.0.0.1:8000/datasets/tas/zarr/). Prints one JSON
 * line: requests, errors (non-2xx and failed requests), seconds, req/s, MB/s of response bytes,
 * p50 and p99 latency in ms, bytes received in all, and this client's own CPU ms.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
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

/** GET `url`: its status and the bytes of its body (read and dropped). */
function get(agent: Agent, url: string): Promise<{ status: number; received: number }> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (response) => {
      let received = 0;
      response.on('data', (piece: Buffer) => {
        received += piece.byteLength;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, received }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** The value below which `fraction` of the sorted values lie (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] as number;
}

async function sweep(base: string, keys: readonly string[], concurrency: number): Promise<SweepResult> {
  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  let next = 0;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  // node:http over kept-alive connections, bodies counted and dropped: fetch() copied every body
  // into an ArrayBuffer and cost this client ~4 ms of CPU per 1.7 MB chunk, CPU the server it
  // measures (on the same cores) then lacked
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) });
  const client = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      const sent = performance.now();
      try {
        const { status, received } = await get(agent, base + key);
        if (status < 200 || status > 299) errors++;
        bytes += received;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, client));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
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
    clientCpuMs: Math.round((cpu.user + cpu.system) / 1000),
  };
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
