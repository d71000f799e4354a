import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * Bounded load on loopback: 64 connections for 30 s against the built CLI on the fixtures, a mix
 * of good chunk keys (raw and processed views, v2 and v3), metadata, missing keys, unsatisfiable
 * and malformed ranges, bad ids and unknown datasets. Every answer must be the status the same
 * request got alone before the load (no 5xx, nothing else), with no socket errors or timeouts,
 * and the server's RSS after the run within 20% of its RSS after a warm-up.
 *
 * The server runs with a 128 MiB old-space heap, as a replica should: without a cap V8 grows the
 * heap lazily (RSS climbed 156 → 417 MiB over 4 runs with the same live data, flat at ~130 MiB
 * with the cap), which says nothing about leaks; with it, a leak shows as growth past the cap's
 * plateau or as the process dying out of memory.
 */
const CONNECTIONS = 64;
const SECONDS = 30;
const WARMUP_SECONDS = 10;

const MIX: ReadonlyArray<{ path: string; headers?: Record<string, string>; method?: string }> = [
  { path: '/datasets/basic/kerchunk/tas/0.0.0' },
  { path: '/datasets/basic/kerchunk/tas/1.1.1', headers: { range: 'bytes=0-99' } },
  { path: '/datasets/basic-parquet/kerchunk/tas/c/1/0/1' },
  { path: '/datasets/basic/zarr/tas/0.0.0' },
  { path: '/datasets/templated/zarr/ta/0.0.0.0' },
  { path: '/datasets/basic/kerchunk/.zmetadata' },
  { path: '/datasets/templated-parquet/zarr/zarr.json' },
  { path: '/datasets/basic/kerchunk/tas/.zarray' }, // (no HEAD: autocannon's parser then waits for a body)
  { path: '/datasets/basic/kerchunk/tas/99.0.0' }, // outside the grid
  { path: '/datasets/basic/kerchunk/nope/0.0' }, // no such array
  { path: '/datasets/basic/kerchunk/tas/0.0.0', headers: { range: 'bytes=99999999-' } }, // unsatisfiable
  { path: '/datasets/basic/kerchunk/tas/0.0.0', headers: { range: 'bytes=5-1' } }, // reversed
  { path: '/datasets/basic/kerchunk/tas/0.0.0', headers: { range: 'bytes=0-1,4-5' } }, // multi-range
  { path: '/datasets/bad%20id!/kerchunk/.zmetadata' },
  { path: '/datasets/no-such-dataset/zarr/.zmetadata' },
  { path: '/datasets/basic/kerchunk/tas/0.0.0.0.0.0.0' }, // wrong arity
  { path: '/datasets/basic/kerchunk/..%2F..%2Fetc%2Fpasswd' },
  { path: '/stac/search?limit=abc' },
  { path: '/health' },
];

const HEAP_MIB = 128;

let fixtures: Fixtures;
let server: SpawnedServer;
beforeAll(async () => {
  fixtures = await makeFixtures();
  server = await spawnServer(fixtures.catalog, ['--log-level', 'warn'], { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}` });
});
afterAll(async () => {
  await server?.stop();
});

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

describe('mixed load', () => {
  it(`${CONNECTIONS} connections for ${SECONDS} s: only the statuses each request gets alone, no errors, RSS flat`, {
    timeout: 120_000 + Number(process.env.LOAD_EXTRA_ROUNDS ?? 0) * 40_000,
  }, async () => {
    const pid = server.process.pid!;

    // What each request answers on its own: the expected status under load.
    const expected = new Map<number, number>();
    for (const [i, request] of MIX.entries()) {
      const response = await fetch(`${server.url}${request.path}`, { method: request.method ?? 'GET', headers: request.headers ?? {} });
      await response.arrayBuffer();
      expect(response.status, request.path).toBeLessThan(500);
      expected.set(i, response.status);
    }
    expect([...expected.values()].filter((s) => s === 200 || s === 206).length).toBeGreaterThanOrEqual(7);

    const unexpected = new Map<string, number>();
    const requests = MIX.map((request, i) => ({
      method: request.method ?? 'GET',
      path: request.path,
      headers: request.headers ?? {},
      onResponse: (status: number) => {
        if (status !== expected.get(i)) {
          const what = `${request.path} ${JSON.stringify(request.headers ?? {})}: ${expected.get(i)} → ${status}`;
          unexpected.set(what, (unexpected.get(what) ?? 0) + 1);
        }
      },
    }));

    // Warm-up (caches fill, JIT, pools, the heap grows to its working size), then the measured run.
    const atStart = rssBytes(pid);
    await autocannon({ url: server.url, connections: CONNECTIONS, duration: WARMUP_SECONDS, requests });
    const before = rssBytes(pid);
    const result = await autocannon({ url: server.url, connections: CONNECTIONS, duration: SECONDS, timeout: 10, requests });
    const after = rssBytes(pid);
    const trail: number[] = [];
    for (let round = 0; round < Number(process.env.LOAD_EXTRA_ROUNDS ?? 0); round++) {
      await autocannon({ url: server.url, connections: CONNECTIONS, duration: SECONDS, requests });
      trail.push(Math.round(rssBytes(pid) / 2 ** 20));
    }

    const byStatus = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]));
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    console.log(
      `mixed load: ${result.requests.total} requests in ${SECONDS} s (${Math.round(result.requests.average)}/s), by status ${JSON.stringify(byStatus)}, ` +
        `errors ${result.errors}, timeouts ${result.timeouts}, latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms max ${result.latency.max} ms, ` +
        `RSS at start ${mib(atStart)} MiB, after warm-up ${mib(before)} MiB, after ${mib(after)} MiB${trail.length ? `, further rounds ${trail.join(' ')} MiB` : ''}; unexpected ${JSON.stringify(Object.fromEntries(unexpected))}`,
    );
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(Object.fromEntries(unexpected)).toEqual({});
    expect(Object.keys(byStatus).filter((status) => Number(status) >= 500)).toEqual([]);
    expect(result.requests.total).toBeGreaterThan(1000);
    expect(Math.abs(after - before) / before).toBeLessThan(0.2);
    expect(server.process.exitCode).toBeNull();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
