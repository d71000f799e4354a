import { type Codec, type CodecConfig, type CodecContext, CodecError, checkDecodedSize, guarded } from './codec.js';
import { CodecOptions } from './options.js';

/** Largest chunk numcodecs' LZ4 framing handles (its 32-bit size header, as in the wasm build). */
const MAX_SIZE = 0x7e000000;

/**
 * numcodecs LZ4: a 4-byte little-endian uncompressed size, then one LZ4 block
 * (`acceleration`, default 1). Runs on the numcodecs package's wasm build, which allocates what
 * the size header says: a header above `context.maxDecodedBytes` is refused before that.
 */
export function lz4Codec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const acceleration = options.integer('acceleration', 1, -(2 ** 31), 2 ** 31 - 1);
  options.done();
  const codec = import('numcodecs/lz4').then(({ default: LZ4 }) => new LZ4(acceleration));
  return {
    config,
    encode: (data) =>
      guarded('lz4', 'compress', async () => {
        if (data.byteLength > MAX_SIZE) throw new CodecError('lz4', `cannot compress ${data.byteLength} bytes (at most ${MAX_SIZE})`);
        return (await codec).encode(data);
      }),
    decode: (data) =>
      guarded('lz4', 'decompress', async () => {
        if (data.byteLength < 4) throw new CodecError('lz4', `${data.byteLength} bytes are too short for the size header`);
        const size = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
        if (size > MAX_SIZE) throw new CodecError('lz4', `corrupt data: size header says ${size} bytes`);
        checkDecodedSize('lz4', size, context.maxDecodedBytes, 'size header says');
        // an LZ4 block expands at most 255-fold (plus a few bytes): a larger claim is a lie
        if (size > (data.byteLength - 4) * 255 + 16) {
          throw new CodecError('lz4', `corrupt data: size header says ${size} bytes, more than ${data.byteLength - 4} compressed bytes can hold`);
        }
        const decoded = await (await codec).decode(data);
        if (decoded.byteLength !== size) {
          throw new CodecError('lz4', `corrupt data: decoded ${decoded.byteLength} bytes, the header says ${size}`);
        }
        return decoded;
      }),
  };
}
