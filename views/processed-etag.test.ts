import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatasetEntry } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import { datasetValues } from '../kerchunk/array-reader.js';
import { inlineCodecs } from '../kerchunk/codecs/codec-pool.js';
import { parseJsonReferences } from '../kerchunk/json-references.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { Sources } from '../kerchunk/sources/sources.js';
import { defaultPlugins } from '../server/default-plugins.js';
import type { ProcessingStage } from '../server/stage.js';
import { EncodedChunkCache, ProcessedView } from './processed-view.js';
import { RawView } from './raw-view.js';

// Processed chunks are tagged from what they are made of (references, source versions, the
// view's configuration), never by hashing their bytes: the tag must still change whenever the
// bytes could, and stay the same when nothing they depend on changed.
let dir: string;
let sources: Sources;
const stages = defaultPlugins.flatMap((plugin): ProcessingStage[] => (plugin.stage ? [plugin.stage] : []));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-etag-'));
  // revalidateMs 0: a rewritten file is noticed at the next read
  sources = await Sources.create({ allow: [dir], baseDir: dir, file: { revalidateMs: 0 } });
});
afterAll(async () => {
  await sources?.close();
  await rm(dir, { recursive: true, force: true });
});

/** v: 8 float32 in 2 source chunks of 4, from `data.bin`; the processed view re-chunks to 8. */
function dataset(processing: JsonValue = { chunks: { x: 8 } }, offsets: [number, number] = [0, 16]): Dataset {
  const refs = {
    version: 1,
    refs: {
      '.zgroup': '{"zarr_format":2}',
      'v/.zarray': JSON.stringify({ zarr_format: 2, shape: [8], chunks: [4], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' }),
      'v/.zattrs': '{"_ARRAY_DIMENSIONS":["x"]}',
      'v/0': ['data.bin', offsets[0], 16],
      'v/1': ['data.bin', offsets[1], 16],
    },
  };
  const entry = { id: 'd', processing } as DatasetEntry;
  return { id: 'd', entry, references: parseJsonReferences(JSON.stringify(refs), 'd.json'), referenceBase: dir };
}

function view(d: Dataset, cache = new EncodedChunkCache(1 << 20)): ProcessedView {
  return new ProcessedView({ dataset: d, values: datasetValues(d, sources), stages, raw: new RawView(d, sources), cache, sources, codecs: inlineCodecs });
}

async function tagOf(v: ProcessedView): Promise<string> {
  const body = await v.chunk('v/0');
  if (!body) throw new Error('no chunk');
  return body.etag;
}

describe('processed chunk ETags', () => {
  it('are strong, stable for the same inputs, and change with the references, the processing and the source file', async () => {
    await writeFile(join(dir, 'data.bin'), Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).buffer));
    const first = await tagOf(view(dataset()));
    expect(first).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(await tagOf(view(dataset()))).toBe(first);
    // another reference (the second source chunk moved)
    expect(await tagOf(view(dataset(undefined, [0, 32])))).not.toBe(first);
    // another processing block
    expect(await tagOf(view(dataset({ chunks: { x: 8 }, keepbits: 4 })))).not.toBe(first);
    // the source file rewritten (new size and mtime): new tag, and the new bytes, not cached old ones
    const cache = new EncodedChunkCache(1 << 20);
    const before = await view(dataset(), cache).chunk('v/0');
    await writeFile(join(dir, 'data.bin'), Buffer.from(new Float32Array([8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0]).buffer));
    await utimes(join(dir, 'data.bin'), new Date(), new Date(Date.now() + 5000));
    const after = await view(dataset(), cache).chunk('v/0');
    expect(after?.etag).not.toBe(before?.etag);
    const bytes = await after?.read(0, after.size);
    expect(Buffer.from(bytes as Uint8Array).equals(Buffer.from((await before?.read(0, before.size)) as Uint8Array))).toBe(false);
  });

  it('differ between encoder implementations (native LZ4 or not): bytes that may differ never share a tag', async () => {
    await writeFile(join(dir, 'data.bin'), Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer));
    const native = await view(dataset()).chunk('v/0');
    process.env.STRATO_NATIVE = '0';
    vi.resetModules();
    try {
      const fresh = await import('./processed-view.js');
      const { inlineCodecs: jsCodecs } = await import('../kerchunk/codecs/codec-pool.js');
      const { decodeChunk } = await import('../kerchunk/codecs/chunk.js');
      const d = dataset();
      const js = await new fresh.ProcessedView({
        dataset: d,
        values: datasetValues(d, sources),
        stages,
        raw: new RawView(d, sources),
        cache: new fresh.EncodedChunkCache(1 << 20),
        sources,
        codecs: jsCodecs,
      }).chunk('v/0');
      expect(js?.etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
      expect(js?.etag).not.toBe(native?.etag);
      // the same values either way
      const meta = { zarr_format: 2 as const, shape: [8], chunks: [8], dtype: '<f4', fill_value: null, order: 'C' as const, filters: null };
      const values = async (body: typeof js) => {
        const bytes = (await body?.read(0, body.size)) as Uint8Array;
        const compressor = { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 };
        return Buffer.from(await decodeChunk(bytes, { ...meta, compressor }));
      };
      expect((await values(js)).equals(await values(native))).toBe(true);
    } finally {
      delete process.env.STRATO_NATIVE;
      vi.resetModules();
    }
  });
});
