import { CodecError, guarded, type Codec, type CodecConfig, type CodecContext } from './codec.js';
import { itemsize } from './element-type.js';
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
  if (!memcpyed && header.nbytes > 0 && (header.blocksize === 0 || header.blocksize > header.nbytes)) {
    throw new CodecError('blosc', `corrupt data: block size ${header.blocksize} for ${header.nbytes} bytes`);
  }
  return header;
}

/**
 * numcodecs Blosc (c-blosc 1 frames) on the numcodecs package's wasm build: `cname` blosclz, lz4,
 * lz4hc, zlib, zstd; `clevel` 0..9; `shuffle` 0 none, 1 byte, 2 bit, -1 auto (bit for 1-byte
 * elements, else byte); `blocksize` 0 = automatic. Decoding reads any of these from the frame.
 * The wasm build always compresses with a typesize of 4 (shuffle lanes of 4 bytes): frames stay
 * valid for every reader, but 8-byte and 2-byte data compress somewhat worse than with numcodecs.
 */
export function bloscCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const cname = options.string('cname', 'lz4', CNAMES);
  const clevel = options.integer('clevel', 5, 0, 9);
  let shuffle = options.integer('shuffle', 1, -1, 2);
  const blocksize = options.integer('blocksize', 0, 0, 2 ** 31 - 1);
  // Zarr v3 style configurations carry the typesize; the wasm build cannot use it (see above).
  options.integer('typesize', 0, 0, 255);
  options.ignore('nthreads');
  options.done();
  if (shuffle === -1) shuffle = (context.dtype !== undefined ? itemsize(context.dtype) : undefined) === 1 ? 2 : 1;
  const codec = import('numcodecs/blosc').then(({ default: Blosc }) => new Blosc(clevel, cname, shuffle, blocksize));
  return {
    config,
    encode: (data) => guarded('blosc', 'compress', async () => (await codec).encode(data)),
    decode: (data) =>
      guarded('blosc', 'decompress', async () => {
        const header = bloscHeader(data);
        const frame = header.cbytes === data.byteLength ? data : data.subarray(0, header.cbytes);
        if (header.nbytes === 0) return new Uint8Array(0);
        const decoded = await (await codec).decode(frame);
        if (decoded.byteLength !== header.nbytes) {
          throw new CodecError('blosc', `corrupt data: decoded ${decoded.byteLength} bytes, the header says ${header.nbytes}`);
        }
        return decoded;
      }),
  };
}
