import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';
import { get, makeSourceCatalog, sourceBytes } from './source-files.js';

/**
 * An http(s) source that misbehaves on demand, behind a running strato: it stops answering
 * (504 + Retry-After after the catalog's `sources.http.timeout_ms`), resets the connection mid-body
 * or sends a short body (502), answers 503 (503 + Retry-After). After each fault, a local dataset
 * still serves, and when the source behaves again its dataset serves the right bytes.
 */
type Mode = 'good' | 'silent' | 'reset' | 'short' | 'unavailable';
let mode: Mode = 'good';
const BYTES = sourceBytes('remote');

/** Serves BYTES by Range, or misbehaves as `mode` says. */
function origin(): Server {
  return createServer((request, response) => {
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
    const [start, end] = range ? [Number(range[1]), Math.min(Number(range[2]), BYTES.length - 1)] : [0, BYTES.length - 1];
    const body = BYTES.subarray(start, end + 1);
    const headers = { 'content-type': 'application/octet-stream', etag: '"remote-1"', 'accept-ranges': 'bytes' };
    if (request.method === 'HEAD') {
      response.writeHead(200, { ...headers, 'content-length': BYTES.length }).end();
      return;
    }
    switch (mode) {
      case 'silent':
        return; // never answers; the socket stays open
      case 'unavailable':
        response.writeHead(503, { 'retry-after': '1' }).end('busy');
        return;
      case 'reset':
        response.writeHead(206, { ...headers, 'content-length': body.length, 'content-range': `bytes ${start}-${end}/${BYTES.length}` });
        response.write(body.subarray(0, 3), () => response.socket?.resetAndDestroy());
        return;
      case 'short':
        response.writeHead(206, { ...headers, 'content-length': body.length, 'content-range': `bytes ${start}-${end}/${BYTES.length}` });
        response.write(body.subarray(0, 5), () => response.socket?.end());
        return;
      default:
        response.writeHead(range ? 206 : 200, { ...headers, 'content-length': body.length, ...(range ? { 'content-range': `bytes ${start}-${end}/${BYTES.length}` } : {}) });
        response.end(body);
    }
  });
}

let source: Server;
let dir: string;
let server: SpawnedServer;
const seen: Array<{ mode: Mode; status: number; retryAfter: string | null; ms: number }> = [];

beforeAll(async () => {
  source = origin();
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(source.address() as AddressInfo).port}/remote.bin`;
  ({ dir } = await makeSourceCatalog(['local'], { remote: url }, '  http: {timeout_ms: 600, retries: 1}\n'));
  server = await spawnServer(join(dir, 'catalog.yaml'), ['--log-level', 'error']);
});
afterAll(async () => {
  await server?.stop();
  source?.closeAllConnections();
  await new Promise<void>((resolve) => (source ? source.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
  console.log(`http faults: ${JSON.stringify(seen)}`);
});

async function expectServes(id: string, bytes: Uint8Array): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const response = await get(`${server.url}/datasets/${id}/kerchunk/v/${i}`);
    expect(response.status, `${id} v/${i}`).toBe(200);
    expect(Buffer.from(response.body).equals(Buffer.from(bytes.subarray(i * 16, i * 16 + 16))), `${id} v/${i}`).toBe(true);
  }
}

async function underFault(fault: Mode, status: number, retryAfter: boolean): Promise<void> {
  mode = 'good';
  await expectServes('remote', BYTES);
  mode = fault;
  const started = Date.now();
  const response = await get(`${server.url}/datasets/remote/kerchunk/v/2`);
  seen.push({ mode: fault, status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - started });
  expect(response.status, fault).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/problem\+json/);
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  if (retryAfter) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  await expectServes('local', sourceBytes('local')); // unaffected, also while the source misbehaves
  mode = 'good';
  await expectServes('remote', BYTES);
  expect(server.process.exitCode).toBeNull();
}

describe('http sources that misbehave', { timeout: 60_000 }, () => {
  it('never answers: 504 with Retry-After, within the configured timeout and retries', async () => {
    await underFault('silent', 504, true);
    expect(seen.at(-1)!.ms).toBeLessThan(8_000);
  });
  it('resets the connection mid-body: 502', async () => {
    await underFault('reset', 502, false);
  });
  it('sends fewer bytes than it declared: 502', async () => {
    await underFault('short', 502, false);
  });
  it('answers 503: 503 with Retry-After', async () => {
    await underFault('unavailable', 503, true);
  });
});
