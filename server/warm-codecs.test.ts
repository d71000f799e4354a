import { describe, expect, it } from 'vitest';
import { type ChunkCodecs, inlineCodecs } from '../kerchunk/codecs/codec-pool.js';
import { warmCodecs } from './warm-codecs.js';

describe('warmCodecs', () => {
  it('round-trips each common codec once per thread and once here', async () => {
    const seen: string[] = [];
    const counting: ChunkCodecs = {
      encode: (raw, meta, options) => {
        seen.push(`encode ${meta.compressor?.id}`);
        return inlineCodecs.encode(raw, meta, options);
      },
      decode: async (bytes, meta, options) => {
        const decoded = await inlineCodecs.decode(bytes, meta, options);
        seen.push(`decode ${meta.compressor?.id} ${decoded.byteLength}`);
        return decoded;
      },
      close: async () => undefined,
    };
    await warmCodecs(counting, 2);
    for (const id of ['blosc', 'zstd', 'zlib']) {
      expect(seen.filter((line) => line === `encode ${id}`)).toHaveLength(3);
      expect(seen.filter((line) => line === `decode ${id} ${64 * 1024 * 4}`)).toHaveLength(3);
    }
  });

  it('never fails start-up: a codec that throws is skipped', async () => {
    const broken: ChunkCodecs = {
      encode: async () => {
        throw new Error('no such codec');
      },
      decode: async () => {
        throw new Error('no such codec');
      },
      close: async () => undefined,
    };
    await expect(warmCodecs(broken, 4)).resolves.toBeUndefined();
  });
});
