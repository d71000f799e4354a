import { type Codec, type CodecConfig, CodecError } from './codec.js';
import { CodecOptions } from './options.js';

/**
 * Fletcher-32 as HDF5 computes it (H5_checksum_fletcher32) and numcodecs.Fletcher32 (≥ 0.12.1)
 * copies: 16-bit words read big-endian, an odd last byte as the high byte of a word, sums folded
 * every 360 words; result `sum2 << 16 | sum1`.
 */
export function fletcher32(data: Uint8Array): number {
  const words = data.length >>> 1;
  let sum1 = 0;
  let sum2 = 0;
  let p = 0;
  for (let left = words; left > 0; ) {
    const block = Math.min(left, 360);
    left -= block;
    for (let end = p + 2 * block; p < end; p += 2) {
      sum1 += ((data[p] as number) << 8) | (data[p + 1] as number);
      sum2 += sum1;
    }
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  if (data.length & 1) {
    sum1 += (data[data.length - 1] as number) << 8;
    sum2 += sum1;
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  return ((sum2 << 16) | sum1) >>> 0;
}

/**
 * numcodecs Fletcher32, which is what HDF5 writes for its fletcher32 filter (and kerchunk maps it
 * to): the data followed by its 4-byte little-endian checksum. Decoding verifies and strips it.
 */
export function fletcher32Codec(config: CodecConfig): Codec {
  new CodecOptions(config).done();
  return {
    config,
    encode: async (data) => {
      const out = new Uint8Array(data.length + 4);
      out.set(data);
      new DataView(out.buffer).setUint32(data.length, fletcher32(data), true);
      return out;
    },
    decode: async (data) => {
      if (data.length < 4) throw new CodecError('fletcher32', `${data.length} bytes cannot hold the 4-byte checksum`);
      const body = data.subarray(0, data.length - 4);
      const stored = new DataView(data.buffer, data.byteOffset + body.length, 4).getUint32(0, true);
      const computed = fletcher32(body);
      if (stored !== computed) {
        throw new CodecError('fletcher32', `checksum mismatch: the data sums to 0x${hex(computed)}, the stored checksum is 0x${hex(stored)} (corrupt chunk?)`);
      }
      return body;
    },
  };
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
