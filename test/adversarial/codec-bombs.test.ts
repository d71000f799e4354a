import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bloscForgedHeader, bloscLyingBlock, bloscZeros, deflatedZeros, GiB, lz4LyingPrefix, MiB, zstdRleBomb } from '../../kerchunk/codecs/fixtures/bombs.js';
import { underAttack } from '../helpers/hostile.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * Issue #13 F5: decompression bombs. Each dataset declares a 20×50 float32 chunk (4000 bytes) whose
 * stored bytes decode, or claim to decode, to hundreds of MiB or GiB. A real server (the built
 * CLI, with its codec worker pool) must refuse each one on every face that decodes (processed
 * view, OPeNDAP, plot) with a 502 quickly, without blocking its event loop or growing its memory,
 * and keep serving; the raw view serves the stored bytes as they are.
 */
const LAT = 20;
const LON = 50;
const CHUNK_BYTES = LAT * LON * 4;

interface Bomb {
  readonly id: string;
  readonly compressor: unknown;
  readonly filters?: unknown[];
  readonly dtype?: string;
  bytes(): Promise<Uint8Array>;
}

const BOMBS: Bomb[] = [
  { id: 'zlib', compressor: { id: 'zlib', level: 1 }, bytes: () => deflatedZeros(1 * GiB, 'zlib') },
  { id: 'gzip', compressor: { id: 'gzip', level: 1 }, bytes: () => deflatedZeros(512 * MiB, 'gzip') },
  // 32 KiB → 1 GiB, inline on the main thread before (input < 64 KiB)
  { id: 'zstd-content-size', compressor: { id: 'zstd', level: 1 }, bytes: async () => zstdRleBomb(GiB, true) },
  // 98 KiB → 3 GiB, in a worker before (input ≥ 64 KiB)
  { id: 'zstd-streamed', compressor: { id: 'zstd', level: 1 }, bytes: async () => zstdRleBomb(3 * GiB, false) },
  // 64 bytes whose header claims ~2 GB
  { id: 'blosc-forged', compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 }, bytes: async () => bloscForgedHeader() },
  { id: 'blosc-lz4', compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 }, bytes: () => bloscZeros(512 * MiB, 'lz4') },
  { id: 'blosc-zstd-lying', compressor: { id: 'blosc', cname: 'zstd', clevel: 5, shuffle: 1 }, bytes: () => bloscLyingBlock('zstd', CHUNK_BYTES) },
  { id: 'lz4-lying', compressor: { id: 'lz4' }, bytes: () => lz4LyingPrefix(MiB, GiB) },
  { id: 'shuffle', compressor: null, filters: [{ id: 'shuffle', elementsize: 4 }], bytes: async () => new Uint8Array(16 * MiB) },
  {
    id: 'delta',
    compressor: null,
    dtype: '<f8',
    filters: [{ id: 'delta', dtype: '<f8', astype: '|i1' }],
    bytes: async () => new Uint8Array(8 * MiB), // 64 MiB once decoded
  },
  {
    id: 'fixedscaleoffset',
    compressor: { id: 'zstd', level: 1 },
    dtype: '<f8',
    filters: [{ id: 'fixedscaleoffset', dtype: '<f8', astype: '|u1', scale: 10, offset: 0 }],
    bytes: async () => zstdRleBomb(GiB, true), // 1 GiB of u1 → 8 GiB of f8
  },
];

const FACES: ReadonlyArray<readonly [string, (id: string) => string]> = [
  ['processed view', (id) => `/datasets/${id}/zarr/tas/0.0`],
  ['OPeNDAP', (id) => `/datasets/${id}/opendap.dods?tas`],
  ['plot', (id) => `/datasets/${id}/plot/tas.png`],
];

const zattrs = (dims: string[], attrs: Record<string, unknown> = {}) => JSON.stringify({ _ARRAY_DIMENSIONS: dims, ...attrs });
const coordinate = (values: number[]) => `base64:${Buffer.from(Float32Array.from(values).buffer).toString('base64')}`;

let dir: string;
let server: SpawnedServer;
const sizes = new Map<string, number>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-bombs-'));
  await mkdir(join(dir, 'data'));
  const datasets: string[] = [];
  for (const bomb of BOMBS) {
    const bytes = await bomb.bytes();
    sizes.set(bomb.id, bytes.byteLength);
    await writeFile(join(dir, 'data', `${bomb.id}.bin`), bytes);
    const dtype = bomb.dtype ?? '<f4';
    const table = {
      version: 1,
      refs: {
        '.zgroup': '{"zarr_format":2}',
        'lat/.zarray': JSON.stringify({ zarr_format: 2, shape: [LAT], chunks: [LAT], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' }),
        'lat/.zattrs': zattrs(['lat'], { units: 'degrees_north', standard_name: 'latitude' }),
        'lat/0': coordinate(Array.from({ length: LAT }, (_, i) => -90 + 9 * i)),
        'lon/.zarray': JSON.stringify({ zarr_format: 2, shape: [LON], chunks: [LON], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' }),
        'lon/.zattrs': zattrs(['lon'], { units: 'degrees_east', standard_name: 'longitude' }),
        'lon/0': coordinate(Array.from({ length: LON }, (_, i) => 7.2 * i)),
        'tas/.zarray': JSON.stringify({
          zarr_format: 2,
          shape: [LAT, LON],
          chunks: [LAT, LON],
          dtype,
          compressor: bomb.compressor,
          filters: bomb.filters ?? null,
          fill_value: null,
          order: 'C',
        }),
        'tas/.zattrs': zattrs(['lat', 'lon'], { units: 'K' }),
        'tas/0.0': [`data/${bomb.id}.bin`, 0, bytes.byteLength],
      },
    };
    await writeFile(join(dir, `${bomb.id}.json`), JSON.stringify(table));
    datasets.push(`  ${bomb.id}: {refs: ${bomb.id}.json}`);
  }
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, `datasets:\n${datasets.join('\n')}\nsources:\n  allow: [data/]\n`);
  server = await spawnServer(catalog, ['--log-level', 'error']);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('F5: decompression bombs are refused on every decoding face', () => {
  for (const bomb of BOMBS) {
    it.each(FACES)(`${bomb.id}: %s is a 502, fast, with the server responsive and its memory flat`, async (face, path) => {
      const report = await underAttack(
        server.url,
        async () => {
          const response = await fetch(`${server.url}${path(bomb.id)}`);
          return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
        },
        { pid: server.process.pid, pollMs: 50 },
      );
      const { status, type, text } = report.result;
      console.log(
        `F5 ${bomb.id} (${sizes.get(bomb.id)} bytes stored) ${face}: ${status} in ${report.elapsedMs.toFixed(0)} ms, ` +
          `worst /health ${report.worstHealthMs.toFixed(0)} ms, RSS +${report.rssGrowthMiB.toFixed(0)} MiB`,
      );
      expect(status).toBe(502);
      if (face === 'OPeNDAP') {
        expect(text).toMatch(/^Error \{/);
      } else {
        expect(type).toContain('application/problem+json');
        expect((JSON.parse(text) as { status: number }).status).toBe(502);
      }
      expect(report.elapsedMs).toBeLessThan(2000);
      expect(report.worstHealthMs).toBeLessThan(1000);
      expect(report.rssGrowthMiB).toBeLessThan(200);
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      await health.arrayBuffer();
    });
  }

  it('the raw view serves the stored bytes, not decoded', async () => {
    for (const bomb of BOMBS) {
      const response = await fetch(`${server.url}/datasets/${bomb.id}/kerchunk/tas/0.0`);
      expect(response.status, bomb.id).toBe(200);
      expect((await response.arrayBuffer()).byteLength, bomb.id).toBe(sizes.get(bomb.id));
    }
  });

  it('the server still answers, and serves the good arrays of the bombed datasets', async () => {
    for (const bomb of BOMBS) {
      const lat = await fetch(`${server.url}/datasets/${bomb.id}/zarr/lat/0`);
      expect(lat.status, bomb.id).toBe(200);
      await lat.arrayBuffer();
    }
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});
