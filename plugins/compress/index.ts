import { codecFromConfig } from '../../kerchunk/codecs/index.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import type { ZarrArrayMetadata } from '../../kerchunk/zarr-metadata.js';
import type { StratoPlugin } from '../../server/plugin.js';
import { ProcessingConfigError } from '../../server/stage.js';

type CompressorConfig = NonNullable<ZarrArrayMetadata['compressor']>;

/**
 * The processed view's compressor when `processing.compressor` does not name one: Blosc with
 * LZ4 and byte shuffle inside Blosc (no numcodecs `shuffle` filter, which GDAL 3.6 rejects).
 */
export const DEFAULT_COMPRESSOR: CompressorConfig = { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 };

/**
 * `processing.compressor: {id: ..., ...}` (numcodecs config) or `null` for none: the compressor
 * the processed view encodes with; filters are always null (chunks hold plain values).
 */
export const compressPlugin: StratoPlugin = {
  name: 'compress',
  version: '1.0.0',
  stage: {
    key: 'compressor',
    configure(setting) {
      const compressor = parseCompressor(setting);
      return () => ({ metadata: (meta) => ({ ...meta, compressor, filters: null }) });
    },
  },
};

function parseCompressor(setting: JsonValue | undefined): CompressorConfig | null {
  if (setting === undefined) return DEFAULT_COMPRESSOR;
  if (setting === null || setting === 'none') return null;
  if (typeof setting !== 'object' || Array.isArray(setting) || typeof setting.id !== 'string') {
    throw new ProcessingConfigError('"processing.compressor" must be a numcodecs config such as {id: zlib, level: 1}, or null');
  }
  try {
    codecFromConfig(setting);
  } catch (error) {
    throw new ProcessingConfigError(`"processing.compressor": ${(error as Error).message}`);
  }
  return setting as CompressorConfig;
}
