import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { guarded, type Codec, type CodecConfig } from './codec.js';
import { CodecOptions } from './options.js';

/** numcodecs Zlib: a zlib stream (RFC 1950), `level` 0..9 (default 1). */
export function zlibCodec(config: CodecConfig): Codec {
  const options = new CodecOptions(config);
  const level = options.integer('level', 1, -1, 9);
  options.done();
  return {
    config,
    encode: (data) => guarded('zlib', 'compress', () => asBytes(deflateSync(data, { level }))),
    decode: (data) => guarded('zlib', 'decompress', () => asBytes(inflateSync(data))),
  };
}

/** numcodecs GZip: a gzip stream (RFC 1952; several members are concatenated), `level` 0..9 (default 1). */
export function gzipCodec(config: CodecConfig): Codec {
  const options = new CodecOptions(config);
  const level = options.integer('level', 1, -1, 9);
  options.done();
  return {
    config,
    encode: (data) => guarded('gzip', 'compress', () => asBytes(gzipSync(data, { level }))),
    decode: (data) => guarded('gzip', 'decompress', () => asBytes(gunzipSync(data))),
  };
}

/** A plain Uint8Array over a Buffer's bytes (no copy). */
export function asBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
