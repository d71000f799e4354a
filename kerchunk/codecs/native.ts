import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

/**
 * strato's native codec kernels (native/*.c, built by node-gyp during `npm ci` into
 * build/Release/strato_native.node): byte shuffle, blosc LZ4 frames, float32 bit rounding, a
 * checked blosclz decoder, zlib inflate by libdeflate and LZ4 blocks by liblz4 where the build
 * found them.
 * Each has a JavaScript twin that stays the reference (tests prove them equal bit for bit) and the
 * fallback: when the addon was not built (or STRATO_NATIVE=0), everything runs in JavaScript and
 * the main thread says so once.
 */
export interface NativeCodecs {
  /** Byte shuffle of `src` into `dst` (same length, not overlapping): whole `size`-byte elements; a partial tail is copied. */
  shuffle(src: Uint8Array, dst: Uint8Array, size: number): void;
  /** The inverse of shuffle. */
  unshuffle(src: Uint8Array, dst: Uint8Array, size: number): void;
  /** One LZ4 block (no size prefix), by the LZ4 bloscLz4Frame uses; `own`: by strato's own compressor even where liblz4 is linked. */
  lz4Compress(src: Uint8Array, own?: boolean): Uint8Array;
  /** A blosc 1 frame of LZ4 blocks, laid out as writeBloscFrame lays it out (blocksize final: a multiple of typesize, ≤ data length). */
  bloscLz4Frame(data: Uint8Array, typesize: number, blocksize: number, shuffle: boolean, clevel: number): Uint8Array;
  /** float32 bit rounding (bitround.ts round32Js) of whole words, src → dst (the same bytes or apart); keep: a word left as it is, or -1. */
  bitround32(src: Uint8Array, dst: Uint8Array, maskbits: number, keepNaN: boolean, keep: number): void;
  /** Whether inflateZlib has libdeflate (linked when the build found libdeflate-dev). */
  readonly hasLibdeflate: boolean;
  /** Whether bloscLz4Frame's blocks come from liblz4 (linked when the build found liblz4-dev), as c-blosc's do. */
  readonly hasLiblz4: boolean;
  /** The LZ4 that makes bloscLz4Frame's blocks: "liblz4 1.9.4" (its version), or "strato" (native/lz4.c). */
  readonly lz4Implementation: string;
  /**
   * Inflates one zlib stream into `out`: bytes written; -1 refused or not ending where the input
   * ends (ask node:zlib), -2 more than `out` holds, -3 no libdeflate. `unshuffle` > 1: the stream
   * holds byte-shuffled elements of that size (HDF5's shuffle filter, then deflate), unshuffled
   * into `out` through the thread's scratch when they fill it exactly; else -4 (`out` unusable).
   */
  inflateZlib(stream: Uint8Array, out: Uint8Array, unshuffle?: number): number;
  /** Decodes one blosclz stream into `out`: the bytes written, or -1 for a corrupt stream (nothing outside `out` is touched). */
  blosclzDecompress(stream: Uint8Array, out: Uint8Array): number;
  /**
   * Adds `change` bytes (may be negative) to the external memory V8 counts for this thread's heap;
   * returns the new count. Absent from addons built before it.
   */
  adjustExternalMemory?(change: number): number;
}

/**
 * The path of one of strato's Node-API addons (`strato_native.node`, `strato_sendfile.node`):
 * build/Release under the package root, searched upwards from this module (sources or dist/).
 */
export function nativeAddonPath(file: string): string | undefined {
  const relative = join('build', 'Release', file);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function load(): NativeCodecs | undefined {
  if (process.env.STRATO_NATIVE === '0') return undefined;
  const path = nativeAddonPath('strato_native.node');
  let reason = 'build/Release/strato_native.node is missing (run `npm rebuild` or `npx node-gyp rebuild`)';
  if (path) {
    try {
      return createRequire(import.meta.url)(path) as NativeCodecs;
    } catch (error) {
      reason = `it does not load: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (isMainThread) process.emitWarning(`native codecs unavailable, byte shuffle and blosc run in JavaScript: ${reason}`, { code: 'STRATO_NATIVE' });
  return undefined;
}

/** The native kernels, or undefined (JavaScript fallback). */
export const nativeCodecs: NativeCodecs | undefined = load();

/**
 * Which code makes the bytes of the encoders whose output depends on it (blosc LZ4 frames: liblz4
 * and its version, strato's own LZ4, or the JavaScript writer with lz4-napi). Two builds that could
 * encode the same chunk differently never share a processed chunk's ETag or disk-tier entry: the
 * processed view puts this into every chunk's identity.
 */
export const encoderImplementation: string = nativeCodecs ? `native, lz4: ${nativeCodecs.lz4Implementation ?? 'strato'}` : 'javascript';
