import { describe, expect, it } from 'vitest';
import { type ChunkCodecs, inlineCodecs } from '../kerchunk/codecs/codec-pool.js';
import { warmCodecs } from './warm-codecs.js';

/** Inline codecs that note every job: `encode <codec> <input bytes>`, `decode <codec> <output bytes>`. */
function counting(): { seen: string[]; codecs: ChunkCodecs } {
  const seen: string[] = [];
  const codecs: ChunkCodecs = {
    encode: (raw, meta, options) => {
      seen.push(`encode ${meta.compressor?.id} ${raw.byteLength}`);
      return inlineCodecs.encode(raw, meta, options);
    },
    decode: async (bytes, meta, options) => {
      const decoded = await inlineCodecs.decode(bytes, meta, options);
      seen.push(`decode ${meta.compressor?.id} ${decoded.byteLength}`);
      return decoded;
    },
    transcode: (stored, plan, options) => {
      seen.push(`transcode ${plan.source.compressor?.id} ${plan.target.compressor?.id}`);
      return inlineCodecs.transcode(stored, plan, options);
    },
    close: async () => undefined,
    dropSpares: async () => {
      seen.push('drop spares');
    },
  };
  return { seen, codecs };
}

const SMALL = 64 * 1024 * 4;
const LARGE = 4 * 1024 * 1024;

describe('warmCodecs', () => {
  it('round-trips each common codec once per thread and once here', async () => {
    const { seen, codecs } = counting();
    await warmCodecs(codecs, 2);
    for (const id of ['blosc', 'zstd', 'zlib']) {
      expect(seen.filter((line) => line === `encode ${id} ${SMALL}`)).toHaveLength(3);
      expect(seen.filter((line) => line === `decode ${id} ${SMALL}`)).toHaveLength(3);
    }
  });

  it('then makes one 4 MiB chunk per thread the processed view’s way: a NetCDF4 chunk decoded, encoded as blosc', async () => {
    const { seen, codecs } = counting();
    await warmCodecs(codecs, 3);
    const large = seen.filter((line) => line.endsWith(` ${LARGE}`));
    expect(large).toEqual([...Array(3).fill(`decode zlib ${LARGE}`), ...Array(3).fill(`encode blosc ${LARGE}`)]);
    // after the small ones: the large chunk is the last thing each thread did, then its output array is let go
    expect(seen.slice(-7)).toEqual([...large, 'drop spares']);
  });

  it('with no codec threads, the large chunk is made once (on this thread)', async () => {
    const { seen, codecs } = counting();
    await warmCodecs(codecs, 0);
    expect(seen.filter((line) => line.endsWith(` ${LARGE}`))).toEqual([`decode zlib ${LARGE}`, `encode blosc ${LARGE}`]);
  });

  it('never fails start-up: a codec that throws is skipped', async () => {
    const broken: ChunkCodecs = {
      encode: async () => {
        throw new Error('no such codec');
      },
      decode: async () => {
        throw new Error('no such codec');
      },
      transcode: async () => {
        throw new Error('no such codec');
      },
      close: async () => undefined,
    };
    await expect(warmCodecs(broken, 4)).resolves.toBeUndefined();
  });
});
