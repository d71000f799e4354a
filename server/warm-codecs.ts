import { promisify } from 'node:util';
import { constants, deflate } from 'node:zlib';
import type { ChunkCodecs } from '../kerchunk/codecs/codec-pool.js';
import type { ZarrArrayMetadata } from '../kerchunk/zarr-metadata.js';

/** 256 KiB of float32: above the size that goes to a codec thread. */
const VALUES = 64 * 1024;

/**
 * 4 MiB of float32: the size class of common chunks (a daily 0.25° global grid is 1440 × 721 ×
 * 4 bytes, 4.15 MB; 1024 × 1024 float32 is this size). A codec thread's native scratch grows to
 * the largest chunk it has met and stays: the inflated stream before it is unshuffled (written
 * whole here, so paged in), the blosc frame and its shuffled block. A fresh process's first real
 * chunk of this size or smaller finds them ready; a larger one grows them, as before.
 */
const LARGE_VALUES = 1024 * 1024;

/** The codecs a fresh process meets first: the processed view's blosc-lz4 and zstd, NetCDF's zlib + shuffle. */
const WARM_CODECS: ReadonlyArray<Pick<ZarrArrayMetadata, 'compressor' | 'filters'>> = [
  { compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 }, filters: null },
  { compressor: { id: 'zstd', level: 3 }, filters: null },
  { compressor: { id: 'zlib', level: 4 }, filters: [{ id: 'shuffle', elementsize: 4 }] },
];

/** A NetCDF4 source chunk (HDF5 shuffle, then deflate) and the processed view's blosc-lz4. */
const NETCDF_SOURCE = WARM_CODECS[2] as Pick<ZarrArrayMetadata, 'compressor' | 'filters'>;
const PROCESSED_TARGET = WARM_CODECS[0] as Pick<ZarrArrayMetadata, 'compressor' | 'filters'>;

function float32Array(values: number, codec: Pick<ZarrArrayMetadata, 'compressor' | 'filters'>): ZarrArrayMetadata {
  return { zarr_format: 2, shape: [values], chunks: [values], dtype: '<f4', fill_value: null, order: 'C', ...codec } as ZarrArrayMetadata;
}

/**
 * Runs one encode and decode of each common codec on every codec thread (`threads` jobs at
 * once, which the pool spreads over its idle threads) and on this one, so a fresh process
 * answers its first chunks as fast as later ones: modules loaded, WebAssembly compiled, code
 * warmed, buffers grown. Then every thread makes one large chunk (LARGE_VALUES) the processed
 * view's way: a NetCDF4 chunk decoded, then encoded as blosc-lz4. Failures are ignored (a codec
 * missing here fails its requests later).
 */
export async function warmCodecs(codecs: ChunkCodecs, threads: number): Promise<void> {
  // made on libuv's pool while the small chunks go (4 KiB: the chunk is zeros)
  const largeStream = deflateAsync(new Uint8Array(LARGE_VALUES * 4), { level: 9, strategy: constants.Z_RLE }).catch(() => undefined);
  const values = new Float32Array(VALUES);
  for (let i = 0; i < VALUES; i++) values[i] = 280 + 10 * Math.sin(i / 97);
  const raw = new Uint8Array(values.buffer);
  await Promise.all(
    WARM_CODECS.map(async (codec) => {
      const meta = float32Array(VALUES, codec);
      await Promise.all(
        Array.from({ length: Math.max(1, threads) + 1 }, async () => {
          try {
            await codecs.decode(await codecs.encode(raw.slice(), meta), meta);
          } catch {
            // not this codec, then
          }
        }),
      );
    }),
  );
  const stream = await largeStream;
  if (stream) await warmLargeChunks(codecs, Math.max(1, threads), stream);
  // the warm-up's 4 MiB output arrays would be kept for reuse, and most archives' chunks are of
  // another size: 4 MiB per thread held for nothing (the 10M-chunk parquet bench's RSS bound)
  await codecs.dropSpares?.().catch(() => undefined);
}

const deflateAsync = promisify(deflate);

/**
 * One large chunk per thread (`stream`: its zlib stream, of zeros), decoded and then encoded,
 * each step `threads` jobs at once so that every thread has one. What it costs, measured on 2
 * threads: 12–20 ms of CPU, and ~4 MiB held per thread (the native scratch; the decoded chunk's
 * array is dropped after, see warmCodecs).
 */
async function warmLargeChunks(codecs: ChunkCodecs, threads: number, stream: Uint8Array): Promise<void> {
  try {
    const source = float32Array(LARGE_VALUES, NETCDF_SOURCE);
    const target = float32Array(LARGE_VALUES, PROCESSED_TARGET);
    const decoded = await Promise.all(Array.from({ length: threads }, () => codecs.decode(new Uint8Array(stream), source, { transfer: true })));
    await Promise.all(decoded.map((chunk) => codecs.encode(chunk, target, { transfer: true })));
  } catch {
    // cold scratch, then: the first large chunk grows it
  }
}
