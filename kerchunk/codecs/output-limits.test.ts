import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { decodeChunk, decodeLimits, encodeChunk } from './chunk.js';
import { type CodecConfig, CodecError } from './codec.js';
import type { CodecPool } from './codec-pool.js';
import { bloscForgedHeader, bloscLyingBlock, bloscZeros, deflatedZeros, GiB, lz4LyingPrefix, lz4Zeros, MiB, zstdRleBomb } from './fixtures/bombs.js';
import { codecFromConfig } from './registry.js';
import { zstdBackend, zstdCodec } from './zstd.js';

/** 1000 float32 values: a 4000-byte chunk. */
const meta = (over: Partial<ZarrArrayMetadata> = {}): ZarrArrayMetadata => ({
  zarr_format: 2,
  shape: [1000],
  chunks: [1000],
  dtype: '<f4',
  compressor: null,
  filters: null,
  fill_value: null,
  order: 'C',
  ...over,
});
const CHUNK = 4000;

/** Memory a decode may add while refusing a bomb. */
const MAX_GROWTH = 64 * MiB;

/**
 * Runs `decode`, which must reject with a CodecError saying the output is beyond the chunk's
 * limit, quickly and without allocating: resident memory and ArrayBuffer memory grow < 64 MiB.
 */
async function refused(decode: () => Promise<Uint8Array>, message: RegExp = /may hold|allow no more|more than/): Promise<CodecError> {
  const before = process.memoryUsage();
  const started = performance.now();
  const error = await decode().then(
    (out) => new Error(`decoded ${out.byteLength} bytes instead of refusing`),
    (e: unknown) => e,
  );
  const elapsed = performance.now() - started;
  const after = process.memoryUsage();
  // by name: the pool tests get the built module's CodecError class
  expect((error as Error).name).toBe('CodecError');
  expect((error as Error).message).toMatch(message);
  expect(elapsed).toBeLessThan(1000);
  expect(after.rss - before.rss).toBeLessThan(MAX_GROWTH);
  expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(MAX_GROWTH);
  return error as CodecError;
}

describe('F5: decoders refuse output beyond the chunk size', () => {
  it('zlib: 512 MiB of zeros in a 4000-byte chunk', async () => {
    const bomb = await deflatedZeros(512 * MiB, 'zlib');
    await refused(() => decodeChunk(bomb, meta({ compressor: { id: 'zlib', level: 1 } })));
  });

  it('gzip: 512 MiB of zeros in a 4000-byte chunk', async () => {
    const bomb = await deflatedZeros(512 * MiB, 'gzip');
    await refused(() => decodeChunk(bomb, meta({ compressor: { id: 'gzip', level: 1 } })));
  });

  it('zstd with a frame content size: 32 KiB claiming 1 GiB (native and wasm)', async () => {
    const bomb = zstdRleBomb(GiB, true);
    expect(bomb.byteLength).toBeLessThan(33 * 1024);
    await refused(() => decodeChunk(bomb, meta({ compressor: { id: 'zstd', level: 1 } })), /frame header says it holds 1073741824 bytes/);
    await refused(() => zstdCodec({ id: 'zstd' }, 'wasm', { maxDecodedBytes: CHUNK }).decode(bomb), /frame header says/);
  });

  it('zstd without a frame content size: 32 KiB of RLE blocks making 1 GiB (native and wasm)', async () => {
    const bomb = zstdRleBomb(GiB, false);
    await refused(() => decodeChunk(bomb, meta({ compressor: { id: 'zstd', level: 1 } })));
    await refused(() => zstdCodec({ id: 'zstd' }, 'native', { maxDecodedBytes: CHUNK }).decode(bomb));
    await refused(() => zstdCodec({ id: 'zstd' }, 'wasm', { maxDecodedBytes: CHUNK }).decode(bomb));
    // 3 GiB in 98 KiB: the worker case of the finding
    await refused(() => zstdCodec({ id: 'zstd' }, 'native', { maxDecodedBytes: 64 * 1024 }).decode(zstdRleBomb(3 * GiB, false)));
  });

  it('blosc: a forged 64-byte frame whose header claims ~2 GB', async () => {
    const bomb = bloscForgedHeader();
    expect(bomb.byteLength).toBe(64);
    await refused(() => decodeChunk(bomb, meta({ compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 } })), /header says it holds 2130706432 bytes/);
  });

  it.each(['lz4', 'zstd', 'zlib'] as const)('blosc: a real %s frame of 256 MiB of zeros in a 4000-byte chunk', async (cname) => {
    const bomb = await bloscZeros(256 * MiB, cname);
    await refused(() => decodeChunk(bomb, meta({ compressor: { id: 'blosc', cname, clevel: 5, shuffle: 1 } })), /header says it holds 268435456 bytes/);
  });

  it.each(['lz4', 'zstd', 'zlib'] as const)('blosc: a real %s block inflating past what its header claims is a CodecError', async (cname) => {
    const bomb = await bloscLyingBlock(cname, CHUNK);
    const error = await decodeChunk(bomb, meta({ compressor: { id: 'blosc', cname, clevel: 5, shuffle: 1 } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodecError);
  });

  it.each(['lz4', 'zstd', 'zlib'] as const)('blosc: a bit-shuffled %s block inflating past its header is a CodecError, not wasm memory', async (cname) => {
    const bomb = await bloscLyingBlock(cname, CHUNK, true);
    expect((bomb[2] as number) & 0x04).toBe(0x04);
    const error = await decodeChunk(bomb, meta({ compressor: { id: 'blosc', cname, clevel: 5, shuffle: 2 } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodecError);
  });

  it('blosc: a header claiming more blocks than the frame holds', async () => {
    const bomb = bloscForgedHeader(CHUNK);
    new DataView(bomb.buffer).setUint32(8, 16, true); // 250 blocks of 16 bytes in a 64-byte frame
    await refused(() => decodeChunk(bomb, meta({ compressor: { id: 'blosc' } })), /250 blocks/);
  });

  it('lz4: a size prefix lying about 1 GiB, and an honest one of 64 MiB', async () => {
    const lying = await lz4LyingPrefix(MiB, GiB);
    await refused(() => decodeChunk(lying, meta({ compressor: { id: 'lz4' } })), /size header says 1073741824 bytes/);
    const honest = await lz4Zeros(64 * MiB);
    await refused(() => decodeChunk(honest, meta({ compressor: { id: 'lz4' } })), /size header says 67108864 bytes/);
    // a prefix no LZ4 block of this length can fill, within the limit
    const small = await lz4LyingPrefix(100, 1_000_000);
    await refused(() => codecFromConfig({ id: 'lz4' }, { maxDecodedBytes: 2_000_000 }).decode(small), /more than \d+ compressed bytes can hold/);
  });

  it('shuffle, delta, fixedscaleoffset, astype: oversize input', async () => {
    const input = new Uint8Array(128 * MiB);
    await refused(() => decodeChunk(input, meta({ filters: [{ id: 'shuffle', elementsize: 4 }] })));
    const bytes = input.subarray(0, 32 * MiB); // 8 bytes decoded per byte stored
    const f8 = (filters: CodecConfig[]) => meta({ dtype: '<f8', filters });
    await refused(() => decodeChunk(bytes, f8([{ id: 'delta', dtype: '<f8', astype: '<i1' }])));
    await refused(() => decodeChunk(bytes, f8([{ id: 'fixedscaleoffset', dtype: '<f8', astype: '|u1', scale: 10, offset: 0 }])));
    await refused(() => decodeChunk(bytes, f8([{ id: 'astype', encode_dtype: '|u1', decode_dtype: '<f8' }])));
    // each on its own, with a limit
    await refused(() => codecFromConfig({ id: 'shuffle', elementsize: 4 }, { maxDecodedBytes: CHUNK }).decode(input));
    await refused(() => codecFromConfig({ id: 'delta', dtype: '<f8', astype: '<i1' }, { maxDecodedBytes: CHUNK }).decode(bytes));
  });

  it('every registered codec, used with a limit, refuses output past it', async () => {
    const raw = new Uint8Array(Float32Array.from({ length: 2000 }, (_, i) => i).buffer); // 8000 bytes
    const configs: CodecConfig[] = [
      { id: 'zlib', level: 1 },
      { id: 'gzip', level: 1 },
      { id: 'zstd', level: 1 },
      { id: 'lz4' },
      { id: 'blosc', cname: 'lz4' },
      { id: 'blosc', cname: 'zstd', shuffle: 2 },
      { id: 'blosc', cname: 'blosclz' },
      { id: 'shuffle', elementsize: 4 },
      { id: 'delta', dtype: '<f4' },
      { id: 'fixedscaleoffset', dtype: '<f4', scale: 1, offset: 0 },
      { id: 'astype', encode_dtype: '<f4', decode_dtype: '<f4' },
      { id: 'bitround', keepbits: 10 },
      { id: 'fletcher32' },
      { id: 'crc32' },
      { id: 'adler32' },
    ];
    for (const config of configs) {
      const encoded = await codecFromConfig(config, { dtype: '<f4' }).encode(raw);
      const fits = await codecFromConfig(config, { dtype: '<f4', maxDecodedBytes: raw.byteLength }).decode(encoded);
      expect(fits.byteLength, config.id).toBe(raw.byteLength);
      const error = await codecFromConfig(config, { dtype: '<f4', maxDecodedBytes: raw.byteLength - 4 })
        .decode(encoded)
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(config)).toBeInstanceOf(CodecError);
    }
  });
});

describe('decode limits', () => {
  it('carry the chunk size back through the filters', () => {
    expect(decodeLimits(meta({ compressor: { id: 'zlib' } }))).toEqual([4000]);
    expect(
      decodeLimits(
        meta({
          dtype: '<f8',
          filters: [
            { id: 'fixedscaleoffset', dtype: '<f8', astype: '<i2', scale: 100, offset: 0 },
            { id: 'shuffle', elementsize: 2 },
          ],
          compressor: { id: 'zlib' },
        }),
      ),
    ).toEqual([8000, 2000, 2000]);
    expect(decodeLimits(meta({ filters: [{ id: 'delta', dtype: '<f4', astype: '<f8' }, { id: 'fletcher32' }], compressor: null }))).toEqual([4000, 8000, 8004]);
    expect(decodeLimits(meta({ filters: [{ id: 'astype', encode_dtype: '|u1', decode_dtype: '<f4' }] }))).toEqual([4000, 1000]);
    expect(decodeLimits(meta({ dtype: '|O' }))).toBeUndefined();
  });

  it('chunks that fit still decode, with every filter chain (numcodecs-interop covers the formats)', async () => {
    const raw = new Uint8Array(Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 100).buffer);
    const metas = [
      meta({ compressor: { id: 'zstd', level: 3 } }),
      meta({ compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 } }),
      meta({
        filters: [{ id: 'fixedscaleoffset', dtype: '<f4', astype: '<i2', scale: 100, offset: 0 }, { id: 'shuffle', elementsize: 2 }, { id: 'crc32' }],
        compressor: { id: 'lz4' },
      }),
      meta({ filters: [{ id: 'delta', dtype: '<f4', astype: '<f8' }], compressor: { id: 'gzip', level: 1 } }),
    ];
    for (const m of metas) expect((await decodeChunk(await encodeChunk(raw, m), m)).byteLength).toBe(raw.byteLength);
  });

  it('zstd frames without a content size decode within the limit (native and wasm)', async () => {
    const raw = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
    // a streaming compressor leaves the content size out
    const specifier = 'zstd-napi';
    const { Compressor } = (await import(specifier)) as { Compressor: new () => { setParameters(p: object): void; compress(d: Uint8Array): Uint8Array } };
    const compressor = new Compressor();
    compressor.setParameters({ contentSizeFlag: false, compressionLevel: 3 });
    const frame = compressor.compress(raw);
    for (const prefer of ['native', 'wasm'] as const) {
      const out = await zstdCodec({ id: 'zstd' }, prefer, { maxDecodedBytes: raw.byteLength }).decode(frame);
      expect(Buffer.from(out).equals(raw), prefer).toBe(true);
      await refused(() => zstdCodec({ id: 'zstd' }, prefer, { maxDecodedBytes: raw.byteLength - 1 }).decode(frame), /more than|may hold/);
    }
    expect((await zstdBackend('wasm')).name).toBe('numcodecs-wasm');
  });

  it('zlib and gzip decode exactly the limit, refuse one byte less', async () => {
    const raw = new Uint8Array(CHUNK).fill(3);
    for (const [id, stream] of [
      ['zlib', deflateSync(raw)],
      ['gzip', gzipSync(raw)],
    ] as const) {
      expect((await codecFromConfig({ id }, { maxDecodedBytes: CHUNK }).decode(stream)).byteLength).toBe(CHUNK);
      await refused(() => codecFromConfig({ id }, { maxDecodedBytes: CHUNK - 1 }).decode(stream));
    }
  });

  it('corrupt input stays a CodecError in every decoder', async () => {
    const junk = new Uint8Array(64).map((_, i) => (i * 91 + 7) & 0xff);
    const configs: CodecConfig[] = [{ id: 'zlib' }, { id: 'gzip' }, { id: 'zstd' }, { id: 'lz4' }, { id: 'blosc' }];
    for (const config of configs) {
      const error = await codecFromConfig(config, { maxDecodedBytes: CHUNK })
        .decode(junk)
        .catch((e: unknown) => e);
      expect(error, config.id).toBeInstanceOf(CodecError);
    }
    const wasm = await zstdCodec({ id: 'zstd' }, 'wasm', { maxDecodedBytes: CHUNK })
      .decode(junk)
      .catch((e: unknown) => e);
    expect(wasm).toBeInstanceOf(CodecError);
  });
});

const builtPool = fileURLToPath(new URL('../../dist/kerchunk/codecs/codec-pool.js', import.meta.url));

describe.skipIf(!existsSync(builtPool))('the codec pool (built, with worker threads)', () => {
  const pool = async (): Promise<CodecPool> => {
    const module = (await import(builtPool)) as { CodecPool: new (size: number) => CodecPool };
    return new module.CodecPool(1);
  };

  it('sends a decode to a worker by its decoded size, not its input size', async () => {
    const codecs = await pool();
    try {
      const m = meta({ shape: [1 << 20], chunks: [1 << 20], compressor: { id: 'zstd', level: 1 } }); // 4 MiB decoded
      const small = zstdRleBomb(4 * MiB, true); // 128 bytes stored
      const job = codecs.decode(small, m);
      expect(codecs.pendingJobs).toBe(1); // in a worker: the main thread is not decoding 4 MiB
      expect((await job).byteLength).toBe(4 * MiB);
      const tiny = codecs.decode(new Uint8Array(16), meta({ compressor: null, shape: [4], chunks: [4] }));
      expect(codecs.pendingJobs).toBe(0); // 16 bytes decoded: inline
      expect((await tiny).byteLength).toBe(16);
    } finally {
      await codecs.close();
    }
  });

  it('a bomb refused in a worker leaves no memory behind, and the worker keeps working', async () => {
    const codecs = await pool();
    try {
      const m = meta({ shape: [1 << 14], chunks: [1 << 14], compressor: { id: 'zstd', level: 1 } }); // 64 KiB decoded
      await refused(() => codecs.decode(zstdRleBomb(3 * GiB, false), m));
      await refused(() => codecs.decode(bloscForgedHeader(), { ...m, compressor: { id: 'blosc' } }), /header says/);
      const raw = new Uint8Array(1 << 16).fill(1);
      expect((await codecs.decode(await codecs.encode(raw, m), m)).byteLength).toBe(raw.byteLength);
    } finally {
      await codecs.close();
    }
  });

  it('moves a whole handed-over buffer, copies only the bytes of a view, never detaches what it was not given', async () => {
    const codecs = await pool();
    try {
      const m = meta({ shape: [1 << 15], chunks: [1 << 15], compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 } }); // 128 KiB
      const larger = new Uint8Array(4 * (1 << 15) + 100).map((_, i) => (i * 7) & 0xff);
      const view = larger.subarray(100);
      const encoded = await codecs.encode(view, m, { transfer: true }); // a view: copied, never detached
      expect(larger.byteLength).toBe(4 * (1 << 15) + 100);
      const decoded = await codecs.decode(encoded, m);
      expect(Buffer.from(decoded).equals(Buffer.from(view))).toBe(true);
      const whole = view.slice();
      await codecs.encode(whole, m, { transfer: true });
      expect(whole.byteLength).toBe(0); // handed over: moved
    } finally {
      await codecs.close();
    }
  });

  it('reuses a chunk handed over for encoding as a later decode output, never while anyone holds it', async () => {
    const codecs = await pool();
    try {
      const count = 1 << 16; // 256 KiB chunks: worth a spare
      const source = meta({ shape: [count], chunks: [count], compressor: { id: 'zlib', level: 1 }, filters: [{ id: 'shuffle', elementsize: 4 }] });
      const target = meta({ shape: [count], chunks: [count], compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 } });
      const values = (n: number) => new Uint8Array(new Float32Array(count).map((_, i) => n * 1000 + Math.sin(i / (n + 3))).buffer);
      const stored = (n: number) => encodeChunk(values(n), source);
      const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      let held = await codecs.decode(await stored(0), source, { transfer: true });
      const frames: Array<[number, Uint8Array]> = [];
      for (let n = 1; n < 12; n++) {
        const next = await codecs.decode(await stored(n), source, { transfer: true }); // may reuse a chunk encoded before
        expect(equal(held, values(n - 1))).toBe(true); // the chunk still held is untouched
        frames.push([n - 1, await codecs.encode(held, target, { transfer: true })]);
        expect(held.byteLength).toBe(0); // handed over
        expect(equal(next, values(n))).toBe(true);
        held = next;
      }
      // every frame is its own memory: none was overwritten by a later decode
      for (const [n, frame] of frames) expect(equal(await codecs.decode(frame, target), values(n))).toBe(true);
    } finally {
      await codecs.close();
    }
  });
});
