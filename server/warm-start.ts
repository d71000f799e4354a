import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { parseCatalog } from '../catalog/catalog-file.js';
import { DatasetRegistry } from '../catalog/registry.js';
import type { ChunkCodecs } from '../kerchunk/codecs/codec-pool.js';
import type { ZarrArrayMetadata } from '../kerchunk/zarr-metadata.js';
import { DiskChunkCache } from '../views/disk-chunk-cache.js';
import { createServerApp, type ServerApp } from './app.js';
import type { StratoConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics } from './metrics.js';
import type { StratoPlugin } from './plugin.js';

/** Side of the warm-up array's square chunks: 256 × 256 float32, 256 KiB decoded (large enough for the codec threads). */
const SIDE = 256;
/** Time steps (chunks) of the warm-up array. */
const STEPS = 2;

export interface WarmStartOptions {
  /** The server's codec pool (warmed with it: its threads serve the real requests later). */
  readonly codecs: ChunkCodecs;
  /** The built-in plugins only (a catalog's own plugins are not run on made-up data). */
  readonly plugins: readonly StratoPlugin[];
  readonly config: StratoConfig;
  readonly version: string;
  /** Whether the real server has a disk tier: the warm-up app then gets one too, in its temporary directory. */
  readonly diskCache: boolean;
  /** Told at debug how long warming took, or why it failed. */
  readonly logger?: Logger;
}

/**
 * Serves a few requests of a made-up dataset (a temporary directory: one NetCDF-like file of
 * zlib + shuffle float32 chunks, its references, and a processed view of keepbits=10 +
 * blosc-lz4) from a throwaway app on a loopback port, then lets everything go. A fresh process
 * then answers its first real chunks as fast as later ones: the request path (node:http, hono,
 * the request frame, store routes), the file source, the processed view and the codec pool's
 * hand-off have run once, so they are compiled, and their first-use allocations are made.
 * Nothing of the real catalog is read, cached or counted (its own registry, metrics and caches).
 * Failures are ignored: warming is an optimisation, never a reason not to start.
 * Resolves to the milliseconds it took.
 */
export async function warmServingPath(options: WarmStartOptions): Promise<number> {
  const started = performance.now();
  let dir: string | undefined;
  let registry: DatasetRegistry | undefined;
  let server: Server | undefined;
  let failure: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), 'strato-warm-'));
    const catalogFile = await writeDataset(dir, options.codecs);
    registry = await DatasetRegistry.open(parseCatalog(CATALOG, catalogFile), { servesProtected: true });
    const diskCache = options.diskCache ? await DiskChunkCache.open({ dir: join(dir, 'cache'), maxBytes: 64 * 1024 * 1024 }) : undefined;
    const served = createServerApp({
      registry,
      plugins: options.plugins,
      logger: createLogger('silent'),
      version: options.version,
      config: options.config,
      codecs: options.codecs,
      metrics: createMetrics({ processMetrics: false }),
      decodedCacheBytes: 16 * 1024 * 1024,
      encodedCacheBytes: 16 * 1024 * 1024,
      diskCache,
    });
    server = await listenLoopback(served);
    const { port } = server.address() as AddressInfo;
    // twice: a second request for the same key is what the fast lane answers
    for (const path of [...WARM_PATHS, ...WARM_PATHS]) await get(port, path);
  } catch (error) {
    failure = (error as Error).message; // a cold first request, then
  } finally {
    if (server) await new Promise((resolve) => server?.close(resolve));
    await registry?.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  const ms = Math.round(performance.now() - started);
  if (failure === undefined) options.logger?.debug('request path warmed', { ms });
  else options.logger?.debug('request path not warmed', { ms, error: failure });
  return ms;
}

/** Builds the app's route matchers (hono builds them on the first request), with no request counted. */
export function warmRoutes(app: Hono): void {
  try {
    app.router.match('GET', '/datasets/warm/zarr/.zmetadata');
  } catch {
    // built on the first request, then
  }
}

const CATALOG = `datasets:
  warm:
    refs: refs/refs.json
    processing: {keepbits: 10, compressor: {id: blosc, cname: lz4, clevel: 5, shuffle: 1}}
sources:
  allow: [data/]
`;

/** What a client does first: the consolidated metadata, chunks of both views, a conditional request. */
const WARM_PATHS = ['/datasets/warm/zarr/.zmetadata', '/datasets/warm/zarr/v/0.0.0', '/datasets/warm/kerchunk/v/1.0.0', '/datasets/warm/zarr/v/1.0.0'];

/** Writes the made-up dataset into `dir`; returns the catalog file's path (not written: parsed from CATALOG). */
async function writeDataset(dir: string, codecs: ChunkCodecs): Promise<string> {
  const source: ZarrArrayMetadata = {
    zarr_format: 2,
    shape: [STEPS, SIDE, SIDE],
    chunks: [1, SIDE, SIDE],
    dtype: '<f4',
    compressor: { id: 'zlib', level: 4 },
    filters: [{ id: 'shuffle', elementsize: 4 }],
    fill_value: null,
    order: 'C',
  };
  const refs: Record<string, unknown> = {
    '.zgroup': JSON.stringify({ zarr_format: 2 }),
    'v/.zarray': JSON.stringify(source),
    'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time', 'lat', 'lon'], units: 'K' }),
  };
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (let step = 0; step < STEPS; step++) {
    const values = new Float32Array(SIDE * SIDE);
    for (let i = 0; i < values.length; i++) values[i] = 250 + ((i * 7 + step) % 1021) / 9.7;
    const encoded = await codecs.encode(new Uint8Array(values.buffer), source);
    refs[`v/${step}.0.0`] = ['../data/warm.bin', offset, encoded.byteLength];
    pieces.push(encoded);
    offset += encoded.byteLength;
  }
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'refs'));
  await writeFile(join(dir, 'data', 'warm.bin'), Buffer.concat(pieces));
  await writeFile(join(dir, 'refs', 'refs.json'), JSON.stringify({ version: 1, refs }));
  return join(dir, 'catalog.yaml');
}

/** The app as the real server runs it: its fast lane in front, the app's own listener behind. */
function listenLoopback({ app, listener }: ServerApp): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(listener(getRequestListener(app.fetch)));
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** One GET on a fresh connection, its body read to the end. */
function get(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`warm-up ${path}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
