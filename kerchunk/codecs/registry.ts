import type { JsonValue } from '../reference.js';
import { astypeCodec } from './astype.js';
import { bitroundCodec } from './bitround.js';
import { bloscCodec } from './blosc.js';
import { checksum32Codec } from './checksum32.js';
import { type Codec, type CodecConfig, type CodecContext, checkDecodedSize, guarded, UnsupportedCodecError } from './codec.js';
import { deltaCodec } from './delta.js';
import { fixedScaleOffsetCodec } from './fixed-scale-offset.js';
import { fletcher32Codec } from './fletcher32.js';
import { lz4Codec } from './lz4.js';
import { shuffleCodec } from './shuffle.js';
import { gzipCodec, zlibCodec } from './zlib.js';
import { zstdCodec } from './zstd.js';

type Factory = (config: CodecConfig, context: CodecContext) => Codec;

const FACTORIES: Readonly<Record<string, Factory>> = {
  zlib: zlibCodec,
  gzip: gzipCodec,
  zstd: (config, context) => zstdCodec(config, 'native', context),
  blosc: bloscCodec,
  lz4: lz4Codec,
  shuffle: shuffleCodec,
  delta: deltaCodec,
  fixedscaleoffset: fixedScaleOffsetCodec,
  astype: astypeCodec,
  bitround: bitroundCodec,
  fletcher32: fletcher32Codec,
  crc32: checksum32Codec,
  adler32: checksum32Codec,
};

/** The codec ids codecFromConfig knows. */
export const SUPPORTED_CODECS: readonly string[] = Object.keys(FACTORIES);

/**
 * The codec of a numcodecs configuration (`{"id": "blosc", "cname": "lz4", ...}`). Throws
 * UnsupportedCodecError, naming the id, for unknown ids and for options it does not handle.
 * `context.maxDecodedBytes` bounds what decode may return (refused with a CodecError).
 */
export function codecFromConfig(config: JsonValue, context: CodecContext = {}): Codec {
  if (typeof config !== 'object' || config === null || Array.isArray(config) || typeof config.id !== 'string') {
    throw new UnsupportedCodecError(String(JSON.stringify(config)), 'a codec configuration is an object with a string "id"');
  }
  const factory = Object.hasOwn(FACTORIES, config.id) ? FACTORIES[config.id] : undefined;
  if (!factory) throw new UnsupportedCodecError(config.id, `supported codecs: ${SUPPORTED_CODECS.join(', ')}`);
  const codec = factory(config as CodecConfig, context);
  const id = config.id;
  const limit = context.maxDecodedBytes;
  return {
    config: codec.config,
    encode: (data) => codec.encode(data),
    // Every codec checks its output size before allocating it; this checks again afterwards, and
    // turns whatever a decoder throws (a RangeError of a typed array, a wasm abort) into a CodecError.
    decode: (data) =>
      guarded(id, 'decode', async () => {
        const out = await codec.decode(data);
        checkDecodedSize(id, out.byteLength, limit);
        return out;
      }),
  };
}
