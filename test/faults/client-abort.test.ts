import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';
import { makeSourceCatalog } from './source-files.js';

/**
 * A client that leaves costs nothing more: its source read is cancelled. The origin answers HEAD
 * (size and version) but never sends the bytes of a GET; the source timeout is far away (20 s),
 * so only the client's abort can close the origin's socket quickly.
 */
interface Pending {
  readonly path: string;
  closedAt?: number;
}
const gets: Pending[] = [];

function silentOrigin(): Server {
  return createServer((request, response) => {
    if (request.method === 'HEAD') {
      response.writeHead(200, { 'content-length': 64, etag: '"silent-1"', 'accept-ranges': 'bytes' }).end();
      return;
    }
    const pending: Pending = { path: request.url ?? '' };
    gets.push(pending);
    request.socket.once('close', () => {
      pending.closedAt = Date.now();
    });
    // never answers
  });
}

let origin: Server;
let dir: string;
let server: SpawnedServer;

beforeAll(async () => {
  origin = silentOrigin();
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/silent.bin`;
  let catalog: string;
  ({ dir, catalog } = await makeSourceCatalog([], { remote: url }, '  http: {timeout_ms: 20000, retries: 0}\n'));
  server = await spawnServer(catalog, ['--log-level', 'error']);
});
afterAll(async () => {
  await server?.stop();
  origin?.closeAllConnections();
  await new Promise<void>((resolve) => origin?.close(() => resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('a client that leaves cancels its source read', () => {
  it.each([
    ['raw view', '/datasets/remote/kerchunk/v/1'],
    ['processed view', '/datasets/remote/zarr/v/2'],
  ])('%s', async (_, path) => {
    const before = gets.length;
    const client = new AbortController();
    const answer = fetch(`${server.url}${path}`, { signal: client.signal }).catch((error: Error) => error.name);
    expect(await until(() => gets.length > before, 5000)).toBe(true);
    const read = gets[gets.length - 1] as Pending;
    const abortedAt = Date.now();
    client.abort();
    expect(await answer).toBe('AbortError');
    expect(await until(() => read.closedAt !== undefined, 5000)).toBe(true);
    expect((read.closedAt as number) - abortedAt).toBeLessThan(2000);
    // and the server goes on serving
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
