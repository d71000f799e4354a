import { deflateSync, gunzipSync, gzipSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { type Codec, type CodecConfig, type CodecContext, CodecError, guarded } from './codec.js';
import { nativeCodecs } from './native.js';
import { CodecOptions } from './options.js';
import { uninitialisedBytes } from './spare-bytes.js';

/** numcodecs Zlib: a zlib stream (RFC 1950), `level` 0..9 (default 1). */
export function zlibCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const level = options.integer('level', 1, -1, 9);
  options.done();
  return {
    config,
    encode: (data) => guarded('zlib', 'compress', () => asBytes(deflateSync(data, { level }))),
    decode: (data) => guarded('zlib', 'decompress', () => inflateZlib(data, context.maxDecodedBytes)),
  };
}

/**
 * A zlib stream, inflated by libdeflate into one buffer of the chunk's size where the addon has
 * it (native/inflate.c); a stream libdeflate refuses, or that does not end where the input ends,
 * goes to node:zlib, whose answer (its bytes, or its error) is the reference either way.
 */
function inflateZlib(data: Uint8Array, limit: number | undefined): Uint8Array {
  if (nativeCodecs?.hasLibdeflate && limit !== undefined && limit <= ONE_PIECE_BYTES) {
    const out = uninitialisedBytes(limit);
    const written = nativeCodecs.inflateZlib(data, out);
    if (written >= 0) return written === limit ? out : out.slice(0, written);
    if (written === -2) throw new CodecError('zlib', `corrupt data: decompresses to more than the ${limit} bytes this chunk may hold`);
  }
  return inflateBounded('zlib', inflateSync, data, limit);
}

/** numcodecs GZip: a gzip stream (RFC 1952; several members are concatenated), `level` 0..9 (default 1). */
export function gzipCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const level = options.integer('level', 1, -1, 9);
  options.done();
  return {
    config,
    encode: (data) => guarded('gzip', 'compress', () => asBytes(gzipSync(data, { level }))),
    decode: (data) => guarded('gzip', 'decompress', () => inflateBounded('gzip', gunzipSync, data, context.maxDecodedBytes)),
  };
}

/** Output pieces no larger than this are allocated whole, in one piece (see inflateBounded). */
const ONE_PIECE_BYTES = 64 * 1024 * 1024;

/**
 * Inflates with node:zlib's `maxOutputLength`, which stops the inflater as soon as its output
 * passes the limit. A limit up to 64 MiB (a chunk's decoded size) is also the output piece size:
 * a chunk inflates into one buffer of its size, not into 16 KiB pieces joined by a copy (the
 * piece is allocated, not written, before the stream says how much it holds).
 */
function inflateBounded(codecId: string, inflate: (data: Uint8Array, options: ZlibOptions) => Buffer, data: Uint8Array, limit: number | undefined): Uint8Array {
  if (limit === undefined) return asBytes(inflate(data, {}));
  try {
    // maxOutputLength must be ≥ 1, chunkSize ≥ 64; a 0-byte chunk is checked after
    const options: ZlibOptions = { maxOutputLength: Math.max(1, limit) };
    if (limit >= 64 && limit <= ONE_PIECE_BYTES) options.chunkSize = limit;
    const out = inflate(data, options);
    if (out.byteLength > limit) throw new RangeError('output too large');
    return asBytes(out);
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CodecError(codecId, `corrupt data: decompresses to more than the ${limit} bytes this chunk may hold`, { cause: error });
    }
    throw error;
  }
}

/** A plain Uint8Array over a Buffer's bytes (no copy). */
export function asBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
