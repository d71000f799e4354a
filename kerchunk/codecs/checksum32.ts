import { crc32 } from 'node:zlib';
import { type Codec, type CodecConfig, CodecError } from './codec.js';
import { CodecOptions } from './options.js';

/** Adler-32 (RFC 1950). */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  // Reduce every 5552 bytes (zlib's NMAX) so the sums stay small integers.
  for (let p = 0; p < data.length; ) {
    const end = Math.min(p + 5552, data.length);
    for (; p < end; p++) {
      a += data[p] as number;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * numcodecs CRC32 and Adler32 (`checksum32`): a 4-byte little-endian checksum *before* the data
 * (unlike Fletcher32, which appends). Decoding verifies and strips it.
 */
export function checksum32Codec(config: CodecConfig): Codec {
  new CodecOptions(config).done();
  const id = config.id;
  const sum = id === 'crc32' ? (data: Uint8Array) => crc32(data) >>> 0 : adler32;
  return {
    config,
    encode: async (data) => {
      const out = new Uint8Array(data.length + 4);
      new DataView(out.buffer).setUint32(0, sum(data), true);
      out.set(data, 4);
      return out;
    },
    decode: async (data) => {
      if (data.length < 4) throw new CodecError(id, `${data.length} bytes cannot hold the 4-byte checksum`);
      const stored = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
      const body = data.subarray(4);
      const computed = sum(body);
      if (stored !== computed) throw new CodecError(id, `checksum mismatch: computed ${computed}, stored ${stored} (corrupt chunk?)`);
      return body;
    },
  };
}
