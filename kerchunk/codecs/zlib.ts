import { deflateSync, gunzipSync, gzipSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { type Codec, type CodecConfig, type CodecContext, CodecError, guarded } from './codec.js';
import { CodecOptions } from './options.js';

/** numcodecs Zlib: a zlib stream (RFC 1950), `level` 0..9 (default 1). */
export function zlibCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const level = options.integer('level', 1, -1, 9);
  options.done();
  return {
    config,
    encode: (data) => guarded('zlib', 'compress', () => asBytes(deflateSync(data, { level }))),
    decode: (data) => guarded('zlib', 'decompress', () => inflateBounded('zlib', inflateSync, data, context.maxDecodedBytes)),
  };
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

/**
 * Inflates with node:zlib's `maxOutputLength`, which stops the inflater as soon as its output
 * passes the limit (the output is collected in small pieces, never allocated at full size).
 */
function inflateBounded(codecId: string, inflate: (data: Uint8Array, options: ZlibOptions) => Buffer, data: Uint8Array, limit: number | undefined): Uint8Array {
  if (limit === undefined) return asBytes(inflate(data, {}));
  try {
    // maxOutputLength must be ≥ 1; a 0-byte chunk is checked after
    const out = inflate(data, { maxOutputLength: Math.max(1, limit) });
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
