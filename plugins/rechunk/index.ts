import type { JsonValue } from '../../kerchunk/reference.js';
import type { StratoPlugin } from '../../server/plugin.js';
import { ProcessingConfigError, type StageArray, type StageStep } from '../../server/stage.js';

/**
 * `processing.chunks: {dim: length}` — the processed view's chunk length along each named
 * dimension (-1: the whole dimension); other dimensions keep the source chunking. Target chunks
 * merge or split source chunks; edge chunks are padded with the fill value, as Zarr requires.
 */
export const rechunkPlugin: StratoPlugin = {
  name: 'rechunk',
  version: '1.0.0',
  stage: {
    key: 'chunks',
    configure(setting) {
      const lengths = parseChunkLengths(setting);
      if (Object.keys(lengths).length === 0) return () => undefined;
      return (array: StageArray): StageStep | undefined => {
        if (!array.dims.some((dim) => dim in lengths)) return undefined;
        return {
          metadata: (meta) => ({
            ...meta,
            chunks: array.dims.map((dim, d) => {
              const wanted = lengths[dim];
              const size = array.shape[d] as number;
              if (wanted === undefined) return meta.chunks[d] as number;
              return Math.max(1, wanted === -1 ? size : Math.min(wanted, size));
            }),
          }),
        };
      };
    },
  },
};

function parseChunkLengths(setting: JsonValue | undefined): Record<string, number> {
  if (setting === undefined || setting === null) return {};
  if (typeof setting !== 'object' || Array.isArray(setting)) {
    throw new ProcessingConfigError('"processing.chunks" must map dimension names to chunk lengths');
  }
  const lengths: Record<string, number> = {};
  for (const [dim, length] of Object.entries(setting)) {
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || (length < 1 && length !== -1)) {
      throw new ProcessingConfigError(`"processing.chunks.${dim}" must be a positive integer or -1 (the whole dimension)`);
    }
    lengths[dim] = length;
  }
  return lengths;
}
