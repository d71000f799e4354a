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

/** Makes the codec of one configuration (`{"id": ..., options}`); throws UnsupportedCodecError for options it does not handle. */
export type CodecFactory = (config: CodecConfig, context: CodecContext) => Codec;

const BUILT_IN: Readonly<Record<string, CodecFactory>> = {
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

/** Codec factories by numcodecs id: the built-in ones and those registered (zarrita's registry idea). */
const FACTORIES = new Map<string, CodecFactory>(Object.entries(BUILT_IN));

/** The codec ids codecFromConfig knows. */
export function supportedCodecs(): string[] {
  return [...FACTORIES.keys()];
}

/**
 * Adds a codec for a numcodecs id this thread does not know yet (an id is never replaced). A
 * running server decodes in worker threads: register through the codec pool's
 * `registerCodecModule`, which registers the same module in every thread.
 */
export function registerCodec(id: string, factory: CodecFactory): void {
  if (FACTORIES.has(id)) throw new Error(`codec "${id}" is already registered`);
  FACTORIES.set(id, factory);
}

/** Registers the `codec` export (a CodecFactory) of an ES module under `id` in this thread. */
export async function registerCodecModule(id: string, moduleUrl: string): Promise<void> {
  if (FACTORIES.has(id)) throw new Error(`codec "${id}" is already registered`);
  const module = (await import(moduleUrl)) as { codec?: unknown };
  if (typeof module.codec !== 'function') throw new TypeError(`${moduleUrl} does not export a "codec" factory function`);
  registerCodec(id, module.codec as CodecFactory);
}

/**
 * The codec of a numcodecs configuration (`{"id": "blosc", "cname": "lz4", ...}`). Throws
 * UnsupportedCodecError, naming the id, for unknown ids and for options it does not handle.
 * `context.maxDecodedBytes` bounds what decode may return (refused with a CodecError).
 */
export function codecFromConfig(config: JsonValue, context: CodecContext = {}): Codec {
  if (typeof config !== 'object' || config === null || Array.isArray(config) || typeof config.id !== 'string') {
    throw new UnsupportedCodecError(String(JSON.stringify(config)), 'a codec configuration is an object with a string "id"');
  }
  const factory = FACTORIES.get(config.id);
  if (!factory) throw new UnsupportedCodecError(config.id, `supported codecs: ${supportedCodecs().join(', ')}`);
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
