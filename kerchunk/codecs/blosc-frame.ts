import { deflateSync, inflateSync } from 'node:zlib';
import { blosclzDecompressJs } from './blosclz.js';
import { CodecError } from './codec.js';
import { nativeCodecs } from './native.js';
import { shuffleBytes, unshuffleBytesJs } from './shuffle.js';
import { uninitialisedBytes } from './spare-bytes.js';

/**
 * Writes c-blosc 1 frames with native block compressors (lz4-napi, zstd-napi, node:zlib): the
 * frame layout every c-blosc 1.x / 2.x reader accepts, without the numcodecs wasm build (whose
 * lz4 encoder runs at a fifth of native speed).
 *
 * Layout written: the 16-byte header (format version 2, flags, typesize, nbytes, blocksize,
 * cbytes), one little-endian int32 start offset per block, then each block as one stream
 * (the "don't split" flag 0x10 is set): an int32 compressed length and the compressed bytes,
 * or the block's bytes as they are when compressing does not make them smaller (length = block
 * length, which readers copy). A block is byte-shuffled on its own before compression; the bytes
 * of a trailing partial element stay in place. When the frame would not be smaller than the
 * data, the data is stored after the header with the "memcpyed" flag (0x02).
 *
 * LZ4 frames are written wholly in C where the addon is built (native/addon.c bloscLz4Frame):
 * as c-blosc 1.x writes them (its block size, each byte plane of a block its own stream), with
 * liblz4 where the build linked it, so they are numcodecs' frames byte for byte.
 */

const HEADER_BYTES = 16;
const FORMAT_VERSION = 2;
const FLAG_SHUFFLE = 0x01;
const FLAG_MEMCPYED = 0x02;
const FLAG_DONT_SPLIT = 0x10;

/** Compressor codes of the header flags (bits 5..7) and the block compressors behind them. */
export type BloscBlockCompressorName = 'lz4' | 'zlib' | 'zstd';
const COMPRESSOR_CODES: Readonly<Record<BloscBlockCompressorName, number>> = { lz4: 1, zlib: 3, zstd: 4 };

/** Compresses one block; returns the raw stream bytes the frame format expects for its cname. */
export type BlockCompressor = (block: Uint8Array) => Uint8Array;

export interface BloscFrameOptions {
  readonly compressor: BloscBlockCompressorName;
  readonly compress: BlockCompressor;
  /** 0: store the data as they are (blosc's clevel 0). */
  readonly clevel: number;
  /** Byte shuffle with lanes of `typesize` bytes. */
  readonly shuffle: boolean;
  readonly typesize: number;
  /** Block length in bytes (rounded down to whole elements); 0 = automatic. */
  readonly blocksize: number;
  /** false: never the native frame writer (tests compare it with this module's own). Default true. */
  readonly useNative?: boolean;
}

/** c-blosc's cache size its block sizes start from, and its limits on splitting blocks into byte planes. */
const L1_BYTES = 32 * 1024;
const MAX_SPLITS = 16;
const MIN_BUFFERSIZE = 128;

/**
 * The block size c-blosc 1.x (compute_blocksize, 1.21) picks when none is asked for: 32 KiB
 * scaled by the level (¼ at 0 … ×8 at 6–9), twice that for the strong codecs (zlib, zstd); a
 * writer that splits blocks into byte planes (`splits`: strato's C LZ4 writer, like c-blosc's
 * lz4) takes typesize times that (the planes at most 256 KiB, the block 64 KiB to 1 MiB). Never
 * more than the data, whole elements.
 */
export function automaticBlocksize(nbytes: number, clevel: number, compressor: BloscBlockCompressorName, typesize: number, splits = false): number {
  if (nbytes < typesize) return Math.max(1, nbytes);
  let size = nbytes;
  if (nbytes >= L1_BYTES) {
    const strong = compressor !== 'lz4';
    const scale = [0.25, 0.5, 1, 2, 4, 4, 8, 8, 8, strong ? 16 : 8][Math.min(9, Math.max(0, clevel))] as number;
    size = L1_BYTES * (strong ? 2 : 1) * scale;
  }
  if (splits && clevel > 0 && typesize <= MAX_SPLITS && size / typesize >= MIN_BUFFERSIZE) {
    size = Math.min(1024 * 1024, Math.max(64 * 1024, Math.min(size, 256 * 1024) * typesize));
  }
  size = Math.min(size, nbytes);
  return size > typesize ? size - (size % typesize) : size;
}

/** One blosc 1 frame holding `data`. */
export function writeBloscFrame(data: Uint8Array, options: BloscFrameOptions): Uint8Array {
  const nbytes = data.byteLength;
  const typesize = Math.min(255, Math.max(1, options.typesize));
  if (options.clevel === 0) return memcpyedFrame(data, typesize, options.compressor);
  // the whole frame in C (native/addon.c: as c-blosc makes it, LZ4 by liblz4 where linked)
  const native = options.compressor === 'lz4' && nativeCodecs !== undefined && options.useNative !== false;
  if (!native && nbytes < typesize * 16) return memcpyedFrame(data, typesize, options.compressor);
  const requested = options.blocksize > 0 ? options.blocksize : automaticBlocksize(nbytes, options.clevel, options.compressor, typesize, native);
  const blocksize = nbytes < typesize ? 1 : Math.min(nbytes, Math.max(typesize, requested - (requested % typesize)));
  if (native && nativeCodecs) return nativeCodecs.bloscLz4Frame(data, typesize, blocksize, options.shuffle, options.clevel);
  const blocks = Math.ceil(nbytes / blocksize);
  const streams: Uint8Array[] = [];
  let cbytes = HEADER_BYTES + 4 * blocks;
  for (let b = 0; b < blocks; b++) {
    const block = data.subarray(b * blocksize, Math.min(nbytes, (b + 1) * blocksize));
    const prepared = options.shuffle && typesize > 1 ? shuffleBlock(block, typesize) : block;
    const compressed = options.compress(prepared);
    const stream = compressed.byteLength > 0 && compressed.byteLength < block.byteLength ? compressed : prepared;
    streams.push(stream);
    cbytes += 4 + stream.byteLength;
    if (cbytes >= nbytes + HEADER_BYTES) return memcpyedFrame(data, typesize, options.compressor);
  }
  const frame = new Uint8Array(cbytes);
  const view = new DataView(frame.buffer);
  const flags = (COMPRESSOR_CODES[options.compressor] << 5) | FLAG_DONT_SPLIT | (options.shuffle && typesize > 1 ? FLAG_SHUFFLE : 0);
  writeHeader(view, flags, typesize, nbytes, blocksize, cbytes);
  let at = HEADER_BYTES + 4 * blocks;
  streams.forEach((stream, b) => {
    view.setInt32(HEADER_BYTES + 4 * b, at, true);
    view.setInt32(at, stream.byteLength, true);
    frame.set(stream, at + 4);
    at += 4 + stream.byteLength;
  });
  return frame;
}

function memcpyedFrame(data: Uint8Array, typesize: number, compressor: BloscBlockCompressorName): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + data.byteLength);
  writeHeader(new DataView(frame.buffer), (COMPRESSOR_CODES[compressor] << 5) | FLAG_MEMCPYED, typesize, data.byteLength, data.byteLength, frame.byteLength);
  frame.set(data, HEADER_BYTES);
  return frame;
}

function writeHeader(view: DataView, flags: number, typesize: number, nbytes: number, blocksize: number, cbytes: number): void {
  view.setUint8(0, FORMAT_VERSION);
  view.setUint8(1, 1);
  view.setUint8(2, flags);
  view.setUint8(3, typesize);
  view.setUint32(4, nbytes, true);
  view.setUint32(8, blocksize, true);
  view.setUint32(12, cbytes, true);
}

/** Blosc's per-block shuffle: whole elements shuffled, the bytes of a partial element copied (as shuffleBytes does). */
function shuffleBlock(block: Uint8Array, typesize: number): Uint8Array {
  return shuffleBytes(block, typesize);
}

interface Lz4Module {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Uint8Array): Buffer;
}
interface ZstdModule {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number }): Uint8Array;
}
interface ZstdBindingModule {
  decompress(dst: Uint8Array, src: Uint8Array): number;
}

/**
 * The native block compressor for `cname` at `clevel`, or undefined when the native library is
 * not installed (the caller falls back to the wasm build). lz4-napi prefixes its blocks with the
 * uncompressed length; blosc stores plain LZ4 blocks, so the prefix is dropped.
 */
export async function nativeBlockCompressor(cname: string, clevel: number): Promise<BlockCompressor | undefined> {
  switch (cname) {
    case 'lz4': {
      const lz4 = await optionalModule<Lz4Module>('lz4-napi');
      if (!lz4) return undefined;
      return (block) => {
        const out = lz4.compressSync(Buffer.from(block.buffer, block.byteOffset, block.byteLength));
        return new Uint8Array(out.buffer, out.byteOffset + 4, out.byteLength - 4);
      };
    }
    case 'zstd': {
      const zstd = await optionalModule<ZstdModule>('zstd-napi');
      if (!zstd) return undefined;
      // c-blosc's mapping of its 1..9 levels onto zstd's 1..22
      const level = clevel >= 9 ? 22 : clevel * 2 - 1;
      return (block) => zstd.compress(block, { compressionLevel: level });
    }
    case 'zlib':
      return (block) => {
        const out = deflateSync(block, { level: clevel });
        return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      };
    default:
      return undefined;
  }
}

async function optionalModule<T>(name: string): Promise<T | undefined> {
  try {
    const loaded = (await import(name)) as T & { default?: T };
    return loaded;
  } catch {
    return undefined;
  }
}

export function isNativeBloscCompressor(cname: string): cname is BloscBlockCompressorName {
  return cname === 'lz4' || cname === 'zlib' || cname === 'zstd';
}

/**
 * Decompresses one blosc block stream into exactly `out.byteLength` bytes (never more: every
 * decompressor is given that capacity), or throws. Returns `out` or its own array of that size.
 */
export type BlockDecompressor = (stream: Uint8Array, out: Uint8Array) => Uint8Array;

/**
 * The native block decompressor for a blosc header's compressor ('lz4/lz4hc', 'zlib', 'zstd'),
 * or undefined (blosclz, or the native library is not installed: the caller uses the wasm build).
 */
export async function nativeBlockDecompressor(compressor: string): Promise<BlockDecompressor | undefined> {
  switch (compressor) {
    case 'lz4/lz4hc': {
      const lz4 = await optionalModule<Lz4Module>('lz4-napi');
      if (!lz4) return undefined;
      // lz4-napi reads a 4-byte size prefix and refuses output beyond it
      return (stream, out) => {
        const prefixed = new Uint8Array(4 + stream.byteLength);
        new DataView(prefixed.buffer).setUint32(0, out.byteLength, true);
        prefixed.set(stream, 4);
        return lz4.uncompressSync(prefixed);
      };
    }
    case 'zstd': {
      const loaded = await optionalModule<ZstdBindingModule & { default?: ZstdBindingModule }>('zstd-napi/binding.js');
      const binding = loaded && typeof loaded.decompress === 'function' ? loaded : loaded?.default;
      if (!binding) return undefined;
      return (stream, out) => {
        const written = binding.decompress(out, stream);
        return written === out.byteLength ? out : out.subarray(0, written);
      };
    }
    case 'zlib':
      return (stream, out) => inflateSync(stream, { maxOutputLength: Math.max(1, out.byteLength) });
    case 'blosclz':
      return blosclzBlockDecompressor();
    default:
      return undefined;
  }
}

/** blosclz streams: the checked native decoder, or its JavaScript twin. */
export function blosclzBlockDecompressor(useNative = true): BlockDecompressor {
  const decode = nativeCodecs && useNative ? nativeCodecs.blosclzDecompress : blosclzDecompressJs;
  return (stream, out) => {
    const written = decode(stream, out);
    if (written < 0) throw new Error('corrupt blosclz stream');
    return written === out.byteLength ? out : out.subarray(0, written);
  };
}

const FLAG_BITSHUFFLE = 0x04;

/** What readBloscFrame needs of a checked header (see bloscHeader in blosc.ts). */
export interface BloscFrameHeader {
  readonly flags: number;
  readonly typesize: number;
  readonly nbytes: number;
  readonly blocksize: number;
  readonly cbytes: number;
}

/**
 * Whether readBloscFrame can decode frames with these flags. Bit-shuffled frames need the wasm
 * build for the bit unshuffle: readBloscFrame only checks their streams (`checkOnly`).
 */
export function isNativelyReadable(flags: number): boolean {
  return (flags & FLAG_BITSHUFFLE) === 0;
}

/**
 * Decodes a compressed (not memcpyed) blosc 1 frame whose header was checked (block table
 * inside the frame, nbytes within the caller's limit) with a native block decompressor. Every
 * stream must decode to exactly its share of the block, as c-blosc requires; nothing larger is
 * ever allocated than the header's nbytes (plus one block for unshuffling). `checkOnly`: decode
 * the streams but leave them shuffled (for frames whose unshuffle is left to another decoder).
 */
export function readBloscFrame(frame: Uint8Array, header: BloscFrameHeader, decompress: BlockDecompressor, checkOnly = false): Uint8Array {
  const { nbytes, blocksize, typesize, flags, cbytes } = header;
  const corrupt = (detail: string): CodecError => new CodecError('blosc', `corrupt data: ${detail}`);
  const view = new DataView(frame.buffer, frame.byteOffset, cbytes);
  // every byte is written below (a block decodes to exactly its size, or the frame is refused)
  const out = uninitialisedBytes(nbytes);
  const shuffled = !checkOnly && (flags & FLAG_SHUFFLE) !== 0 && typesize > 1;
  const dontSplit = (flags & FLAG_DONT_SPLIT) !== 0;
  const blocks = Math.ceil(nbytes / blocksize);
  const scratch = shuffled ? new Uint8Array(blocksize) : undefined;
  for (let b = 0; b < blocks; b++) {
    const leftover = b === blocks - 1 && nbytes % blocksize !== 0;
    const bsize = leftover ? nbytes % blocksize : blocksize;
    const target = out.subarray(b * blocksize, b * blocksize + bsize);
    const work = scratch ? scratch.subarray(0, bsize) : target;
    const splits = !dontSplit && typesize <= MAX_SPLITS && bsize / typesize >= MIN_BUFFERSIZE && !leftover ? typesize : 1;
    const neblock = Math.floor(bsize / splits);
    if (neblock * splits !== bsize) throw corrupt(`block ${b} of ${bsize} bytes does not split into ${splits} streams`);
    let at = view.getInt32(HEADER_BYTES + 4 * b, true);
    for (let s = 0; s < splits; s++) {
      if (at + 4 > cbytes) throw corrupt(`block ${b} runs past the ${cbytes}-byte frame`);
      const length = view.getInt32(at, true);
      at += 4;
      if (length < 0 || at + length > cbytes) throw corrupt(`block ${b} stream of ${length} bytes runs past the ${cbytes}-byte frame`);
      const stream = frame.subarray(at, at + length);
      const dest = work.subarray(s * neblock, (s + 1) * neblock);
      if (length === neblock) {
        dest.set(stream);
      } else {
        let decoded: Uint8Array;
        try {
          decoded = decompress(stream, dest);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new CodecError('blosc', `corrupt data: block ${b} does not decompress to its ${neblock} bytes: ${message}`, { cause: error });
        }
        if (decoded.byteLength !== neblock) throw corrupt(`block ${b} decompressed to ${decoded.byteLength} bytes, not ${neblock}`);
        if (decoded !== dest) dest.set(decoded);
      }
      at += length;
    }
    if (scratch) unshuffleInto(work, target, typesize);
  }
  return out;
}

/** Unshuffles a block's bytes into `target` (same length; a partial element's bytes copied). */
function unshuffleInto(work: Uint8Array, target: Uint8Array, typesize: number): void {
  if (nativeCodecs) nativeCodecs.unshuffle(work, target, typesize);
  else target.set(unshuffleBytesJs(work, typesize));
}
