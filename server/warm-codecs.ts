import type { ChunkCodecs } from '../kerchunk/codecs/codec-pool.js';
import type { ZarrArrayMetadata } from '../kerchunk/zarr-metadata.js';

/** 256 KiB of float32: above the size that goes to a codec thread. */
const VALUES = 64 * 1024;

/** The codecs a fresh process meets first: the processed view's blosc-lz4 and zstd, NetCDF's zlib + shuffle. */
const WARM_CODECS: ReadonlyArray<Pick<ZarrArrayMetadata, 'compressor' | 'filters'>> = [
  { compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 }, filters: null },
  { compressor: { id: 'zstd', level: 3 }, filters: null },
  { compressor: { id: 'zlib', level: 4 }, filters: [{ id: 'shuffle', elementsize: 4 }] },
];

/**
 * Runs one encode and decode of each common codec on every codec thread (`threads` jobs at
 * once, which the pool spreads over its idle threads) and on this one, so a fresh process
 * answers its first chunks as fast as later ones: modules loaded, WebAssembly compiled, code
 * warmed, buffers grown. Failures are ignored (a codec missing here fails its requests later).
 */
export async function warmCodecs(codecs: ChunkCodecs, threads: number): Promise<void> {
  const values = new Float32Array(VALUES);
  for (let i = 0; i < VALUES; i++) values[i] = 280 + 10 * Math.sin(i / 97);
  const raw = new Uint8Array(values.buffer);
  await Promise.all(
    WARM_CODECS.map(async (codec) => {
      const meta = { zarr_format: 2, shape: [VALUES], chunks: [VALUES], dtype: '<f4', fill_value: null, order: 'C', ...codec } as ZarrArrayMetadata;
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
}
