import { guarded, UnsupportedCodecError, type Codec, type CodecConfig } from './codec.js';
import { CodecOptions } from './options.js';
import { asBytes } from './zlib.js';

/** A zstd implementation: native (zstd-napi, built from source) or numcodecs' wasm. */
export interface ZstdBackend {
  readonly name: 'zstd-napi' | 'numcodecs-wasm';
  compress(data: Uint8Array, level: number, checksum: boolean): Promise<Uint8Array>;
  /** Decodes one or more frames, with or without a content size. */
  decompress(data: Uint8Array): Promise<Uint8Array>;
}

interface NativeZstdModule {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number; checksumFlag?: boolean }): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
}

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
  // A computed specifier: the package is optional, so its types may be missing at compile time.
  const specifier = 'zstd-napi';
  const native = (await import(specifier)) as NativeZstdModule;
  native.decompress(native.compress(new Uint8Array(1))); // fails early when the addon does not load
  return {
    name: 'zstd-napi',
    compress: async (data, level, checksum) => asBytes(native.compress(data, { compressionLevel: level, checksumFlag: checksum })),
    decompress: async (data) => asBytes(native.decompress(data)),
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
    decompress: async (data) => {
      try {
        return await new Zstd().decode(data);
      } catch (error) {
        // The wasm build throws a bare pointer-like value; name the failure.
        throw new Error(error instanceof Error ? error.message : `corrupt zstd data (${String(error)})`);
      }
    },
  };
}

/** numcodecs Zstd: one zstd frame, `level` (default 1; ≤ 0 means zstd's default), `checksum` (default false). */
export function zstdCodec(config: CodecConfig, prefer: 'native' | 'wasm' = 'native'): Codec {
  const options = new CodecOptions(config);
  const level = options.integer('level', 1, -131072, 22);
  const checksum = options.boolean('checksum', false);
  options.done();
  return {
    config,
    encode: (data) => guarded('zstd', 'compress', async () => (await zstdBackend(prefer)).compress(data, level, checksum)),
    decode: (data) => guarded('zstd', 'decompress', async () => (await zstdBackend(prefer)).decompress(data)),
  };
}
