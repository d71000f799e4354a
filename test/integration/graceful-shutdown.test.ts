import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/** The source object the slow dataset's only chunk lies in. */
const BLOB = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 31 + 7) % 251);
const SOURCE_DELAY_MS = 2_000;

/**
 * A loopback http source that answers range reads only after SOURCE_DELAY_MS (HEAD at once), and
 * tells the test when a range read arrived (so SIGTERM is sent while the request is in flight).
 */
class SlowSource {
  private readonly server: Server;
  private arrivals: Array<() => void> = [];
  origin = '';

  constructor(delayMs: number) {
    this.server = createServer((request, response) => {
      const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
      if (request.method === 'HEAD' || !match) {
        response.writeHead(200, { 'content-length': BLOB.length, etag: '"blob-1"' });
        response.end(request.method === 'HEAD' ? undefined : BLOB);
        return;
      }
      for (const arrived of this.arrivals.splice(0)) arrived();
      const start = Number(match[1]);
      const end = Number(match[2]);
      const timer = setTimeout(() => {
        response.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${BLOB.length}`, etag: '"blob-1"' });
        response.end(BLOB.subarray(start, end + 1));
      }, delayMs);
      response.on('close', () => clearTimeout(timer));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves when the next range read arrives. */
  nextRead(): Promise<void> {
    return new Promise((resolve) => this.arrivals.push(resolve));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A catalog with one dataset whose single chunk (all of BLOB, uint8) is read from the slow source. */
async function slowCatalog(dir: string, origin: string): Promise<string> {
  const zarray = { zarr_format: 2, shape: [BLOB.length], chunks: [BLOB.length], dtype: '|u1', compressor: null, filters: null, fill_value: 0, order: 'C' };
  const refs = {
    version: 1,
    refs: {
      '.zgroup': JSON.stringify({ zarr_format: 2 }),
      'v/.zarray': JSON.stringify(zarray),
      'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
      'v/0': [`${origin}/blob.bin`, 0, BLOB.length],
    },
  };
  await writeFile(join(dir, 'slow.json'), JSON.stringify(refs));
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, `datasets:\n  slow: {refs: slow.json}\nsources:\n  allow: ["${origin}/"]\n`);
  return catalog;
}

/** Whether a new TCP connection to `url`'s port is refused. */
function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function exited(server: SpawnedServer): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = server.process;
  if (child.exitCode !== null) return Promise.resolve({ code: child.exitCode, signal: null });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let dir: string;
let source: SlowSource;
let catalog: string;
const spawned: SpawnedServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-shutdown-'));
  source = new SlowSource(SOURCE_DELAY_MS);
  await source.start();
  catalog = await slowCatalog(dir, source.origin);
});
afterAll(async () => {
  for (const server of spawned) await server.stop();
  await source?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  { name: 'one process', args: [] as string[] },
  { name: '--workers 2', args: ['--workers', '2'] },
])('SIGTERM with a request in flight ($name)', ({ args }) => {
  it('finishes the request with all its bytes, refuses new connections, and exits 0 before the deadline', async () => {
    const server = await spawnServer(catalog, ['--log-level', 'info', ...args], { STRATO_DRAIN_SECONDS: '8' });
    spawned.push(server);
    // an idle keep-alive connection must not hold the shutdown up
    expect((await fetch(`${server.url}/health`)).status).toBe(200);

    const arrived = source.nextRead();
    const pending = fetch(`${server.url}/datasets/slow/kerchunk/v/0`).then(async (response) => ({
      status: response.status,
      body: new Uint8Array(await response.arrayBuffer()),
    }));
    await arrived;
    const signalled = Date.now();
    server.process.kill('SIGTERM');
    const exit = exited(server);

    await sleep(500);
    expect(await refused(server.url)).toBe(true);

    const { status, body } = await pending;
    expect(status).toBe(200);
    expect(body.byteLength).toBe(BLOB.length);
    expect(Buffer.compare(Buffer.from(body), Buffer.from(BLOB))).toBe(0);

    expect(await exit).toEqual({ code: 0, signal: null });
    // the request took SOURCE_DELAY_MS; nothing waited for the 8 s drain deadline
    expect(Date.now() - signalled).toBeLessThan(SOURCE_DELAY_MS + 3_000);
    expect(server.stderr()).toContain('shutting down');
  }, 30_000);
});

describe('SIGTERM with a request slower than the drain deadline', () => {
  it('cuts the request at the deadline and still exits 0', async () => {
    const slower = new SlowSource(20_000);
    await slower.start();
    const catalogDir = await mkdtemp(join(tmpdir(), 'strato-shutdown-slower-'));
    try {
      const server = await spawnServer(await slowCatalog(catalogDir, slower.origin), ['--log-level', 'info'], { STRATO_DRAIN_SECONDS: '1' });
      spawned.push(server);
      const arrived = slower.nextRead();
      const pending = fetch(`${server.url}/datasets/slow/kerchunk/v/0`).then(
        (response) => response.arrayBuffer().then(() => 'answered'),
        () => 'cut',
      );
      await arrived;
      const signalled = Date.now();
      server.process.kill('SIGTERM');
      expect(await exited(server)).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalled).toBeLessThan(4_000);
      expect(await pending).toBe('cut');
      expect(server.stderr()).toContain('drain deadline');
    } finally {
      await slower.stop();
      await rm(catalogDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('exits at once on a second signal', async () => {
    const slower = new SlowSource(20_000);
    await slower.start();
    const catalogDir = await mkdtemp(join(tmpdir(), 'strato-shutdown-twice-'));
    try {
      const server = await spawnServer(await slowCatalog(catalogDir, slower.origin), ['--log-level', 'info'], { STRATO_DRAIN_SECONDS: '30' });
      spawned.push(server);
      const arrived = slower.nextRead();
      const pending = fetch(`${server.url}/datasets/slow/kerchunk/v/0`).then(
        () => 'answered',
        () => 'cut',
      );
      await arrived;
      const signalled = Date.now();
      server.process.kill('SIGTERM');
      await sleep(300);
      server.process.kill('SIGTERM');
      expect((await exited(server)).code).toBe(1);
      expect(Date.now() - signalled).toBeLessThan(3_000);
      expect(await pending).toBe('cut');
    } finally {
      await slower.stop();
      await rm(catalogDir, { recursive: true, force: true });
    }
  }, 30_000);
});
