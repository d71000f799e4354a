import { itemsize } from '../dtype.js';
import {
  type BlockCompressor,
  type BlockDecompressor,
  isNativeBloscCompressor,
  isNativelyReadable,
  nativeBlockCompressor,
  nativeBlockDecompressor,
  readBloscFrame,
  writeBloscFrame,
} from './blosc-frame.js';
import { type Codec, type CodecConfig, type CodecContext, CodecError, checkDecodedSize, guarded } from './codec.js';
import { CodecOptions } from './options.js';

const CNAMES = ['blosclz', 'lz4', 'lz4hc', 'zlib', 'zstd'] as const;
/** Compressor codes in the blosc header flags (bits 5..7). */
const CODES: Record<number, string> = { 0: 'blosclz', 1: 'lz4/lz4hc', 2: 'snappy', 3: 'zlib', 4: 'zstd' };
const HEADER = 16;

/** What the 16-byte header of a blosc 1 frame says. */
export interface BloscHeader {
  readonly version: number;
  readonly flags: number;
  readonly typesize: number;
  readonly nbytes: number;
  readonly blocksize: number;
  readonly cbytes: number;
  /** Compressor name from the flags. */
  readonly compressor: string;
}

/** The header of a blosc frame, or a CodecError saying why the bytes are not one. */
export function bloscHeader(data: Uint8Array): BloscHeader {
  if (data.byteLength < HEADER) throw new CodecError('blosc', `corrupt data: ${data.byteLength} bytes are shorter than a blosc header`);
  const view = new DataView(data.buffer, data.byteOffset, HEADER);
  const header = {
    version: view.getUint8(0),
    flags: view.getUint8(2),
    typesize: view.getUint8(3),
    nbytes: view.getUint32(4, true),
    blocksize: view.getUint32(8, true),
    cbytes: view.getUint32(12, true),
    compressor: CODES[view.getUint8(2) >> 5] ?? 'unknown',
  };
  if (header.version < 1 || header.version > 2) throw new CodecError('blosc', `corrupt data: blosc format version ${header.version}`);
  if (header.typesize === 0) throw new CodecError('blosc', 'corrupt data: typesize 0');
  if (header.cbytes > data.byteLength || header.cbytes < HEADER) {
    throw new CodecError('blosc', `corrupt data: header says ${header.cbytes} compressed bytes, got ${data.byteLength}`);
  }
  if (header.compressor === 'unknown' || header.compressor === 'snappy') {
    throw new CodecError('blosc', `cannot decompress: compressor ${header.compressor} (flags ${header.flags}) is not built in`);
  }
  const memcpyed = (header.flags & 0x2) !== 0;
  if (memcpyed && header.cbytes !== header.nbytes + HEADER) {
    throw new CodecError('blosc', `corrupt data: uncompressed frame of ${header.nbytes} bytes has ${header.cbytes} bytes`);
  }
  if (!memcpyed && header.nbytes > 0) {
    if (header.blocksize === 0 || header.blocksize > header.nbytes) {
      throw new CodecError('blosc', `corrupt data: block size ${header.blocksize} for ${header.nbytes} bytes`);
    }
    checkBlockTable(data, header);
  }
  return header;
}

/** Every block of a compressed frame starts with an int32 stream length. */
const LEAST_BYTES_PER_BLOCK = 4;

/**
 * A compressed frame's block table: one int32 start offset per block after the header, each
 * pointing past the table and inside the frame, and room for each block's stream length.
 * A frame claiming many blocks must carry them: c-blosc sizes its work from the header alone.
 */
function checkBlockTable(data: Uint8Array, header: BloscHeader): void {
  const blocks = Math.ceil(header.nbytes / header.blocksize);
  const tableEnd = HEADER + 4 * blocks;
  if (tableEnd + LEAST_BYTES_PER_BLOCK * blocks > header.cbytes) {
    throw new CodecError('blosc', `corrupt data: ${blocks} blocks of ${header.blocksize} bytes cannot fit in ${header.cbytes} compressed bytes`);
  }
  const view = new DataView(data.buffer, data.byteOffset, header.cbytes);
  for (let b = 0; b < blocks; b++) {
    const start = view.getInt32(HEADER + 4 * b, true);
    if (start < tableEnd || start + 4 > header.cbytes) {
      throw new CodecError('blosc', `corrupt data: block ${b} starts at ${start}, outside the ${header.cbytes}-byte frame`);
    }
  }
}

/** Native block decompressors by header compressor name, loaded once. */
const blockDecompressors = new Map<string, Promise<BlockDecompressor | undefined>>();

function blockDecompressor(compressor: string): Promise<BlockDecompressor | undefined> {
  let found = blockDecompressors.get(compressor);
  if (!found) {
    found = nativeBlockDecompressor(compressor);
    blockDecompressors.set(compressor, found);
  }
  return found;
}

/**
 * numcodecs Blosc (c-blosc 1 frames): `cname` blosclz, lz4, lz4hc, zlib, zstd; `clevel` 0..9;
 * `shuffle` 0 none, 1 byte, 2 bit, -1 auto (bit for 1-byte elements, else byte); `blocksize`
 * 0 = automatic. Decoding reads any of these from the frame: frames without bit shuffle with
 * checked block decompressors (readBloscFrame: each block must decode to exactly its size;
 * blosclz with strato's own checked decoder, native/blosclz.c or blosclz.ts), bit-shuffled ones
 * with numcodecs' wasm build after their streams were checked the same way (the wasm build does
 * not report a block that fails to decode). Either way the header is checked first (bloscHeader)
 * and a frame claiming more than `context.maxDecodedBytes` is refused before anything is allocated.
 * Encoding lz4, zlib and zstd without bit shuffle writes frames with native block compressors
 * (blosc-frame.ts; lz4 wholly in C where the addon is built), with the data's own typesize; the
 * rest runs on the wasm build, which always uses a typesize of 4 (valid frames for every reader;
 * 8- and 2-byte data compress a bit worse).
 */
export function bloscCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const cname = options.string('cname', 'lz4', CNAMES);
  const clevel = options.integer('clevel', 5, 0, 9);
  let shuffle = options.integer('shuffle', 1, -1, 2);
  const blocksize = options.integer('blocksize', 0, 0, 2 ** 31 - 1);
  const configuredTypesize = options.integer('typesize', 0, 0, 255);
  options.ignore('nthreads');
  options.done();
  const elementBytes = context.dtype !== undefined ? itemsize(context.dtype) : undefined;
  if (shuffle === -1) shuffle = elementBytes === 1 ? 2 : 1;
  const typesize = elementBytes ?? (configuredTypesize || 4);
  // made on first use: a chain is built per chunk, most never need the wasm build
  let wasmCodec: Promise<{ encode(data: Uint8Array): Promise<Uint8Array>; decode(data: Uint8Array): Promise<Uint8Array> }> | undefined;
  const wasm = () => (wasmCodec ??= import('numcodecs/blosc').then(({ default: Blosc }) => new Blosc(clevel, cname, shuffle, blocksize)));
  let nativeCompressor: Promise<BlockCompressor | undefined> | undefined;
  const native = () => (nativeCompressor ??= shuffle !== 2 && isNativeBloscCompressor(cname) ? nativeBlockCompressor(cname, clevel) : Promise.resolve(undefined));
  return {
    config,
    encode: (data) =>
      guarded('blosc', 'compress', async () => {
        const compress = await native();
        if (!compress || !isNativeBloscCompressor(cname)) return (await wasm()).encode(data);
        return writeBloscFrame(data, { compressor: cname, compress, clevel, shuffle: shuffle === 1, typesize, blocksize });
      }),
    decode: (data) =>
      guarded('blosc', 'decompress', async () => {
        const header = bloscHeader(data);
        // numcodecs' wasm allocates what the header says before reading a block: check it first
        checkDecodedSize('blosc', header.nbytes, context.maxDecodedBytes, 'header says it holds');
        const frame = header.cbytes === data.byteLength ? data : data.subarray(0, header.cbytes);
        if (header.nbytes === 0) return new Uint8Array(0);
        if ((header.flags & 0x2) !== 0) return frame.slice(HEADER, HEADER + header.nbytes);
        const decompress = await blockDecompressor(header.compressor);
        if (decompress && isNativelyReadable(header.flags)) return readBloscFrame(frame, header, decompress);
        // the wasm build does not report a block that fails to decode (it returns uninitialised
        // memory): check the streams natively first where a native decompressor exists
        if (decompress) readBloscFrame(frame, header, decompress, true);
        const decoded = await (await wasm()).decode(frame);
        if (decoded.byteLength !== header.nbytes) {
          throw new CodecError('blosc', `corrupt data: decoded ${decoded.byteLength} bytes, the header says ${header.nbytes}`);
        }
        return decoded;
      }),
  };
}
