import { type Codec, type CodecConfig, type CodecContext, CodecError, checkDecodedSize, guarded, UnsupportedCodecError } from './codec.js';
import { CodecOptions } from './options.js';
import { asBytes } from './zlib.js';
import { zstdFrames } from './zstd-frame.js';

/** A zstd implementation: native (zstd-napi, built from source) or numcodecs' wasm. */
export interface ZstdBackend {
  readonly name: 'zstd-napi' | 'numcodecs-wasm';
  compress(data: Uint8Array, level: number, checksum: boolean): Promise<Uint8Array>;
  /**
   * Decodes one or more frames, with or without a content size. With `limit`, output beyond
   * `limit` bytes is refused (a CodecError) without being allocated.
   */
  decompress(data: Uint8Array, limit?: number): Promise<Uint8Array>;
}

interface NativeZstdModule {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number; checksumFlag?: boolean }): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
}

/** zstd-napi's thin binding: ZSTD_decompress into a buffer the caller sized. */
interface NativeZstdBinding {
  decompress(dst: Uint8Array, src: Uint8Array): number;
}

/** The window a wasm decode of frames without a content size may allocate beyond the chunk. */
const WASM_WINDOW_SLACK = 8 * 1024 * 1024;
/** What the sum of block bounds may exceed the limit by (the last compressed block's slack). */
const BLOCK_SLACK = 128 * 1024;

const backends = new Map<string, Promise<ZstdBackend>>();

/**
 * The zstd backend: zstd-napi when it is installed and loads (an optional dependency), else the
 * wasm build of the numcodecs package. `prefer: 'wasm'` forces the fallback (tests, benchmarks).
 */
export function zstdBackend(prefer: 'native' | 'wasm' = 'native'): Promise<ZstdBackend> {
  let backend = backends.get(prefer);
  if (!backend) {
    backend = prefer === 'native' ? loadNative().catch(() => loadWasm()) : loadWasm();
    backends.set(prefer, backend);
  }
  return backend;
}

async function loadNative(): Promise<ZstdBackend> {
  // Computed specifiers: the package is optional, so its types may be missing at compile time.
  const specifier = 'zstd-napi';
  const native = (await import(specifier)) as NativeZstdModule;
  const bindingSpecifier = 'zstd-napi/binding.js';
  const loaded = (await import(bindingSpecifier)) as { default?: NativeZstdBinding } & NativeZstdBinding;
  const binding = typeof loaded.decompress === 'function' ? loaded : (loaded.default as NativeZstdBinding);
  native.decompress(native.compress(new Uint8Array(1))); // fails early when the addon does not load
  if (binding.decompress(new Uint8Array(1), native.compress(new Uint8Array(1))) !== 1) throw new Error('zstd-napi binding does not decompress');
  return {
    name: 'zstd-napi',
    compress: async (data, level, checksum) => asBytes(native.compress(data, { compressionLevel: level, checksumFlag: checksum })),
    decompress: async (data, limit) => {
      if (limit === undefined) return asBytes(native.decompress(data));
      const frames = zstdFrames(data);
      checkContentSize(frames.contentSize, limit);
      // ZSTD_decompress into a buffer of the allowed size: content beyond it fails
      // ("Destination buffer is too small") instead of growing anything.
      const out = new Uint8Array(Math.min(limit, frames.bound));
      let written: number;
      try {
        written = binding.decompress(out, data);
      } catch (error) {
        if (error instanceof Error && /too small/i.test(error.message)) {
          throw new CodecError('zstd', `corrupt data: decompresses to more than ${out.byteLength} bytes (its headers and the ${limit}-byte chunk allow no more)`, { cause: error });
        }
        throw error;
      }
      return written === out.byteLength ? out : out.slice(0, written);
    },
  };
}

async function loadWasm(): Promise<ZstdBackend> {
  const { default: Zstd } = await import('numcodecs/zstd');
  return {
    name: 'numcodecs-wasm',
    compress: async (data, level, checksum) => {
      if (checksum) throw new UnsupportedCodecError('zstd', 'checksum=true needs zstd-napi (the wasm build cannot write checksums)');
      return new Zstd(level).encode(data);
    },
    decompress: async (data, limit) => {
      if (limit !== undefined) {
        // The wasm build sizes its output from the content size, or grows it while streaming
        // (with a window buffer) when there is none: bound both from the headers first.
        const frames = zstdFrames(data);
        checkContentSize(frames.contentSize, limit);
        if (frames.contentSize === undefined) {
          if (frames.bound > limit + BLOCK_SLACK) {
            throw new CodecError(
              'zstd',
              `corrupt data: frames without a content size whose blocks may decode to ${frames.bound} bytes, more than the ${limit} bytes this chunk may hold`,
            );
          }
          if (frames.window > limit + WASM_WINDOW_SLACK) {
            throw new CodecError('zstd', `cannot decompress: a frame without a content size asks for a ${frames.window}-byte window (zstd-napi decodes it)`);
          }
        }
      }
      let decoded: Uint8Array;
      try {
        decoded = await new Zstd().decode(data);
      } catch (error) {
        // The wasm build throws a bare pointer-like value; name the failure.
        throw new Error(error instanceof Error ? error.message : `corrupt zstd data (${String(error)})`);
      }
      // frames without a content size were bounded by their blocks, within BLOCK_SLACK of the limit
      checkDecodedSize('zstd', decoded.byteLength, limit);
      return decoded;
    },
  };
}

function checkContentSize(contentSize: number | undefined, limit: number): void {
  if (contentSize !== undefined) checkDecodedSize('zstd', contentSize, limit, 'frame header says it holds');
}

/**
 * numcodecs Zstd: one zstd frame, `level` (default 1; ≤ 0 means zstd's default), `checksum`
 * (default false). Decoding refuses output beyond `context.maxDecodedBytes` before allocating it.
 */
export function zstdCodec(config: CodecConfig, prefer: 'native' | 'wasm' = 'native', context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const level = options.integer('level', 1, -131072, 22);
  const checksum = options.boolean('checksum', false);
  options.done();
  return {
    config,
    encode: (data) => guarded('zstd', 'compress', async () => (await zstdBackend(prefer)).compress(data, level, checksum)),
    decode: (data) => guarded('zstd', 'decompress', async () => (await zstdBackend(prefer)).decompress(data, context.maxDecodedBytes)),
  };
}
