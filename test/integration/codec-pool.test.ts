import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { CodecPool as CodecPoolType } from '../../kerchunk/codecs/codec-pool.js';
import type { TranscodePlan, transcodeChunk } from '../../kerchunk/codecs/transcode.js';
import type { ZarrArrayMetadata } from '../../kerchunk/zarr-metadata.js';
import { repoRoot } from '../helpers/server.js';

/** The built codec pool runs real worker threads (the compiled worker module exists in dist/). */
async function builtPool(size: number): Promise<CodecPoolType> {
  const module = (await import(`${repoRoot}dist/kerchunk/codecs/codec-pool.js`)) as { CodecPool: new (size: number) => CodecPoolType };
  return new module.CodecPool(size);
}

/** The same job on this thread (the built module, as the pool's). */
async function inlineTranscode(stored: Uint8Array, plan: TranscodePlan): Promise<Uint8Array> {
  const module = (await import(`${repoRoot}dist/kerchunk/codecs/transcode.js`)) as { transcodeChunk: typeof transcodeChunk };
  return module.transcodeChunk(stored, plan);
}

const meta: ZarrArrayMetadata = {
  zarr_format: 2,
  shape: [256, 1024],
  chunks: [256, 1024],
  dtype: '<f4',
  compressor: { id: 'zlib', level: 1 },
  filters: null,
  fill_value: null,
  order: 'C',
};

describe('CodecPool (worker threads)', () => {
  it('decodes and encodes in workers, equal to inline results', async () => {
    const pool = await builtPool(2);
    try {
      expect(pool.size).toBe(2);
      const values = Float32Array.from({ length: 256 * 1024 }, (_, i) => Math.sin(i / 100));
      const raw = new Uint8Array(values.buffer);
      const compressed = new Uint8Array(deflateSync(raw));
      const decoded = await Promise.all([1, 2, 3, 4].map(() => pool.decode(compressed, meta)));
      for (const result of decoded) expect(Buffer.from(result).equals(Buffer.from(raw))).toBe(true);
      const encoded = await pool.encode(raw, meta);
      expect(Buffer.from(await pool.decode(encoded, meta)).equals(Buffer.from(raw))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('rejects corrupt chunks with the codec error, and keeps working', async () => {
    const pool = await builtPool(1);
    try {
      const garbage = new Uint8Array(100_000).fill(7);
      await expect(pool.decode(garbage, meta)).rejects.toThrow(/zlib/);
      const raw = new Uint8Array(256 * 1024 * 4);
      expect((await pool.decode(await pool.encode(raw, meta), meta)).byteLength).toBe(raw.byteLength);
    } finally {
      await pool.close();
    }
  });

  it('moves a handed-over whole buffer to the worker (detached here), and copies a view into a larger one', async () => {
    const pool = await builtPool(1);
    try {
      const values = Float32Array.from({ length: 256 * 1024 }, (_, i) => Math.cos(i / 50));
      const expected = Buffer.from(values.buffer.slice(0));
      const compressed = new Uint8Array(deflateSync(expected));
      const handed = compressed.slice();
      expect(Buffer.from(await pool.decode(handed, meta, { transfer: true })).equals(expected)).toBe(true);
      expect(handed.byteLength).toBe(0);

      const larger = new Uint8Array(compressed.byteLength + 16);
      larger.set(compressed, 8);
      const view = larger.subarray(8, 8 + compressed.byteLength);
      expect(Buffer.from(await pool.decode(view, meta, { transfer: true })).equals(expected)).toBe(true);
      expect(larger.byteLength).toBe(compressed.byteLength + 16);

      const raw = new Uint8Array(values.buffer);
      const encoded = await pool.encode(raw, meta, { transfer: true });
      expect(raw.byteLength).toBe(0);
      expect(Buffer.from(await pool.decode(encoded, meta)).equals(expected)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('transcodes in a thread (the input moved, the decoded chunk never here) to the bytes of the inline codecs; a bad plan fails alone', async () => {
    const pool = await builtPool(1);
    try {
      const values = Float32Array.from({ length: 256 * 1024 }, (_, i) => 280 + 20 * Math.sin(i / 100));
      const stored = new Uint8Array(deflateSync(new Uint8Array(values.buffer)));
      const target: ZarrArrayMetadata = { ...meta, compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 } };
      const plan = { source: meta, target, steps: [{ kind: 'bitround' as const, keepbits: 10, fillValue: null }] };
      const expected = Buffer.from(await inlineTranscode(stored.slice(), plan));
      const handed = stored.slice();
      const results = await Promise.all([pool.transcode(handed, plan, { transfer: true }), pool.transcode(stored, plan), pool.transcode(stored, plan)]);
      expect(handed.byteLength).toBe(0);
      for (const result of results) expect(Buffer.from(result).equals(expected)).toBe(true);
      const bad = { ...plan, steps: [{ kind: 'constructor' }] } as unknown as typeof plan;
      await expect(pool.transcode(stored, bad)).rejects.toThrow(/unknown value step/);
      await expect(pool.transcode(new Uint8Array(100_000).fill(7), plan)).rejects.toThrow(/zlib/);
      expect(Buffer.from(await pool.transcode(stored, plan)).equals(expected)).toBe(true);
      // spares dropped (every thread answers), then the work goes on
      await pool.dropSpares();
      expect(pool.pendingJobs).toBe(0);
      expect(Buffer.from(await pool.transcode(stored, plan)).equals(expected)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('drops jobs still waiting for a thread once their request is aborted; the rest finish, the pool keeps working', async () => {
    const pool = await builtPool(1);
    try {
      const values = Float32Array.from({ length: 256 * 1024 }, (_, i) => Math.sin(i / 100));
      const compressed = new Uint8Array(deflateSync(new Uint8Array(values.buffer)));
      const request = new AbortController();
      const jobs = Array.from({ length: 12 }, () =>
        pool.decode(compressed, meta, { signal: request.signal }).then(
          () => 'done',
          (error: Error) => error.name,
        ),
      );
      expect(pool.pendingJobs).toBe(12); // two on the thread, ten waiting
      request.abort();
      const outcomes = await Promise.all(jobs);
      expect(outcomes.filter((o) => o === 'done').length).toBeLessThanOrEqual(2);
      expect(outcomes.filter((o) => o === 'AbortError').length).toBeGreaterThanOrEqual(10);
      expect(pool.pendingJobs).toBe(0);
      await expect(pool.decode(compressed, meta, { signal: request.signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect((await pool.decode(compressed, meta)).byteLength).toBe(values.byteLength);
    } finally {
      await pool.close();
    }
  });

  it('decodes with a codec registered as a module, in the threads and inline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strato-codec-module-'));
    const module = join(dir, 'reverse-codec.mjs');
    // a toy codec: the stored bytes are the decoded bytes reversed
    await writeFile(module, 'export const codec = (config) => ({ config, encode: async (d) => d.slice().reverse(), decode: async (d) => d.slice().reverse() });\n');
    const pool = await builtPool(1);
    try {
      await pool.registerCodecModule('reverse-test', pathToFileURL(module).href);
      const big: ZarrArrayMetadata = { ...meta, compressor: { id: 'reverse-test' } };
      const raw = Uint8Array.from({ length: 256 * 1024 * 4 }, (_, i) => i % 251);
      const stored = raw.slice().reverse();
      expect(Buffer.from(await pool.decode(stored, big)).equals(Buffer.from(raw))).toBe(true); // a thread (1 MiB)
      const small: ZarrArrayMetadata = { ...big, shape: [4], chunks: [4] };
      expect(Array.from(await pool.decode(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), small))).toEqual([
        16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
      ]); // inline
      await expect(pool.decode(stored, { ...big, compressor: { id: 'not-registered' } })).rejects.toThrow(/not-registered/);
    } finally {
      await pool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
