import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { round32Js } from './bitround.js';
import { bloscCodec, bloscHeader } from './blosc.js';
import { blosclzBlockDecompressor, readBloscFrame, writeBloscFrame } from './blosc-frame.js';
import { blosclzDecompressJs } from './blosclz.js';
import { CodecError } from './codec.js';
import { nativeCodecs } from './native.js';
import { codecFromConfig } from './registry.js';
import { shuffleBytesJs, unshuffleBytesJs } from './shuffle.js';

// The addon is built by `npm ci` (native/build.mjs); these tests prove it equal to the JavaScript
// reference implementations bit for bit, and unbreakable by bad arguments.
const native = nativeCodecs!;
const { default: Blosc } = await import('numcodecs/blosc');

/** Deterministic pseudo-random bytes. */
function noise(bytes: number, seed = 12345): Uint8Array {
  const out = new Uint8Array(bytes);
  let state = seed >>> 0;
  for (let i = 0; i < bytes; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

function smoothFloats(count: number): Uint8Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = 273 + 20 * Math.sin(i / 300) + ((i * 7919) % 13) / 100;
  return new Uint8Array(values.buffer);
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('the native addon', () => {
  it('is built and loaded', () => {
    expect(nativeCodecs).toBeDefined();
  });
});

describe('without the addon (STRATO_NATIVE=0)', () => {
  it('every codec runs in JavaScript, with the same values', async () => {
    process.env.STRATO_NATIVE = '0';
    vi.resetModules();
    try {
      const fresh = await import('./native.js');
      expect(fresh.nativeCodecs).toBeUndefined();
      const { decodeChunk, encodeChunk } = await import('./chunk.js');
      const meta = { zarr_format: 2 as const, shape: [250, 100], chunks: [250, 100], dtype: '<f4', fill_value: null, order: 'C' as const, filters: null };
      const data = smoothFloats(25_000);
      for (const compressor of [
        { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 },
        { id: 'blosc', cname: 'blosclz', clevel: 5, shuffle: 1 },
      ]) {
        const encoded = await encodeChunk(data, { ...meta, compressor, filters: [{ id: 'shuffle', elementsize: 4 }] });
        expect(same(await decodeChunk(encoded, { ...meta, compressor, filters: [{ id: 'shuffle', elementsize: 4 }] }), data)).toBe(true);
      }
    } finally {
      delete process.env.STRATO_NATIVE;
      vi.resetModules();
    }
  });
});

describe('byte shuffle: native equals JavaScript bit for bit', () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 255, 4096, 65_536];
  const lengths = [0, 1, 3, 4, 15, 16, 63, 64, 65, 255, 1000, 4099, 65_536 + 5, 262_147];
  it.each(sizes)('element size %i, lengths whole and not', (size) => {
    for (const length of lengths) {
      const data = noise(length, length * 31 + size);
      const shuffled = new Uint8Array(length);
      native.shuffle(data, shuffled, size);
      expect(same(shuffled, shuffleBytesJs(data, size))).toBe(true);
      const back = new Uint8Array(length);
      native.unshuffle(shuffled, back, size);
      expect(same(back, unshuffleBytesJs(shuffled, size))).toBe(true);
      expect(same(back, data)).toBe(true);
    }
  });

  it('reads and writes views at any offset (unaligned) without touching bytes around them', () => {
    const source = noise(10_007);
    const target = new Uint8Array(10_007 + 9).fill(0xaa);
    const view = source.subarray(3, 3 + 4001);
    native.shuffle(view, target.subarray(5, 5 + 4001), 4);
    expect(same(target.subarray(5, 5 + 4001), shuffleBytesJs(view, 4))).toBe(true);
    expect([...target.subarray(0, 5), ...target.subarray(5 + 4001)].every((b) => b === 0xaa)).toBe(true);
  });
});

describe('float32 bit rounding: native equals JavaScript bit for bit', () => {
  const specials = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff, 0x7f7fffff, 0x00000001, 0x3f800000, 0x4b7fffff];
  const words = new Uint32Array(20_000);
  const random = new Uint32Array(noise(words.byteLength, 99).buffer);
  words.set(random);
  words.set(specials, 0);
  const bytes = (w: Uint32Array) => new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  it.each(Array.from({ length: 23 }, (_, i) => i + 1))('maskbits %i, with and without kept NaNs and a kept fill word', (maskbits) => {
    for (const keepNaN of [false, true]) {
      for (const keep of [undefined, 0x7f800000, 0x3f800000, random[7] as number]) {
        const expected = new Uint32Array(words.length);
        round32Js(words, expected, maskbits, keepNaN, keep);
        const separate = new Uint32Array(words.length);
        native.bitround32(bytes(words), bytes(separate), maskbits, keepNaN, keep ?? -1);
        expect(same(bytes(separate), bytes(expected))).toBe(true);
        const inPlace = words.slice();
        native.bitround32(bytes(inPlace), bytes(inPlace), maskbits, keepNaN, keep ?? -1);
        expect(same(bytes(inPlace), bytes(expected))).toBe(true);
      }
    }
  });
});

const lz4 = (await import('lz4-napi')) as unknown as { uncompressSync(data: Uint8Array): Buffer };

describe("LZ4 blocks: liblz4 where linked, strato's own compressor always there", () => {
  const unprefixed = (block: Uint8Array, length: number): Uint8Array => {
    const prefixed = new Uint8Array(4 + block.byteLength);
    new DataView(prefixed.buffer).setUint32(0, length, true);
    prefixed.set(block, 4);
    return lz4.uncompressSync(prefixed);
  };
  it('says which LZ4 makes the frames', () => {
    expect(typeof native.hasLiblz4).toBe('boolean');
    expect(native.lz4Implementation).toMatch(native.hasLiblz4 ? /^liblz4 \d+\.\d+\.\d+$/ : /^strato$/);
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['tiny', noise(12)],
    ['noise', noise(100_001)],
    ['zeros', new Uint8Array(200_000)],
    ['smooth floats', smoothFloats(70_000)],
    ['a repeated pattern longer than 64 KiB apart', new Uint8Array([...noise(70_000), ...noise(70_000)])],
  ])('%s: both compressors make blocks that decode to the input', (_, data) => {
    for (const own of [false, true]) {
      const block = native.lz4Compress(data, own);
      expect(block.byteLength).toBeLessThanOrEqual(data.byteLength + Math.floor(data.byteLength / 255) + 16);
      expect(same(unprefixed(block, data.byteLength), data)).toBe(true);
    }
  });
});

describe('blosc LZ4 frames written in C, read by c-blosc (numcodecs wasm) and by readBloscFrame', () => {
  const decompress = (stream: Uint8Array, out: Uint8Array): Uint8Array => {
    const prefixed = new Uint8Array(4 + stream.byteLength);
    new DataView(prefixed.buffer).setUint32(0, out.byteLength, true);
    prefixed.set(stream, 4);
    return lz4.uncompressSync(prefixed);
  };
  const cblosc = new Blosc(5, 'lz4', 1, 0);
  const inputs: Array<[string, Uint8Array]> = [
    ['smooth floats', smoothFloats(100_003)],
    ['noise', noise(70_001)],
    ['zeros', new Uint8Array(300_000)],
    ['tiny', noise(40)],
    ['empty', new Uint8Array(0)],
    ['floats, odd length', smoothFloats(5000).subarray(0, 19_999)],
  ];
  it.each(inputs)('%s: every typesize, blocksize and level decodes to the input', async (_, data) => {
    for (const typesize of [1, 2, 4, 8, 16]) {
      for (const blocksize of [16, 4096, 65_536, 262_144]) {
        for (const clevel of [1, 5, 9]) {
          const size = Math.max(1, Math.min(data.byteLength, blocksize - (blocksize % typesize)));
          const frame = native.bloscLz4Frame(data, typesize, size, true, clevel);
          const header = bloscHeader(frame);
          expect(header.nbytes).toBe(data.byteLength);
          expect(header.cbytes).toBe(frame.byteLength);
          expect(frame.byteLength).toBeLessThanOrEqual(data.byteLength + 16);
          expect(same(await cblosc.decode(frame), data)).toBe(true);
          if (header.nbytes > 0 && (header.flags & 0x02) === 0) expect(same(readBloscFrame(frame, header, decompress), data)).toBe(true);
        }
      }
    }
  });

  it('compresses smooth float data about as well as the JavaScript writer with lz4-napi', async () => {
    const data = smoothFloats(250_000);
    const { nativeBlockCompressor } = await import('./blosc-frame.js');
    const compress = (await nativeBlockCompressor('lz4', 5))!;
    const js = writeBloscFrame(data, { compressor: 'lz4', compress, clevel: 5, shuffle: true, typesize: 4, blocksize: 0, useNative: false });
    const c = writeBloscFrame(data, { compressor: 'lz4', compress, clevel: 5, shuffle: true, typesize: 4, blocksize: 0 });
    expect(same(await cblosc.decode(js), data)).toBe(true);
    expect(same(await cblosc.decode(c), data)).toBe(true);
    expect(c.byteLength).toBeLessThan(data.byteLength * 0.8);
    expect(c.byteLength).toBeLessThan(js.byteLength * 1.3);
  });
});

/** blosclz frames of c-blosc itself (numcodecs wasm), and their blocks decoded by us. */
const frames = await Promise.all(
  [0, 1].flatMap((shuffle) =>
    [smoothFloats(60_000), noise(5000), new Uint8Array(100_000)].map(async (data) => ({ data, frame: await new Blosc(5, 'blosclz', shuffle, 0).encode(data) })),
  ),
);

describe('blosclz: the checked decoder, native and JavaScript alike', () => {
  it('decodes what c-blosc wrote, by block, exactly', () => {
    for (const { data, frame } of frames) {
      const header = bloscHeader(frame);
      if ((header.flags & 0x02) !== 0) continue;
      for (const useNative of [true, false]) expect(same(readBloscFrame(frame, header, blosclzBlockDecompressor(useNative)), data)).toBe(true);
    }
  });

  it('gives the same answer natively and in JavaScript for thousands of corrupt streams (never a crash)', () => {
    const valid = frames.map(({ frame }) => frame.subarray(16));
    for (let trial = 0; trial < 3000; trial++) {
      const base = trial % 3 === 0 ? noise(1 + (trial % 97), trial) : (valid[trial % valid.length] as Uint8Array).slice(0, 1 + ((trial * 37) % 400));
      const flip = (trial * 13) % base.length;
      if (trial % 3 === 1) base[flip] = (base[flip] as number) ^ (1 << (trial % 8));
      const capacity = (trial * 7) % 600;
      const a = new Uint8Array(capacity);
      const b = new Uint8Array(capacity);
      const fromC = native.blosclzDecompress(base, a);
      const fromJs = blosclzDecompressJs(base, b);
      expect(fromC).toBe(fromJs);
      if (fromC >= 0) expect(same(a.subarray(0, fromC), b.subarray(0, fromJs))).toBe(true);
    }
  });

  it.each([
    ['a match before the output starts', [0x00, 0x41, 0x20, 0x05, 0x00, 0x41]],
    ['a far match before the output starts', [0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x00, 0x41]],
    ['a run of 255-length bytes past the output', [0x00, 0x41, 0xe0, 255, 255, 255, 255, 0, 0, 0x00, 0x41]],
    ['a literal run past the input', [0x1f, 0x41]],
    ['a stream ending on a match', [0x00, 0x41, 0x20, 0x00]],
    ['a length byte missing', [0x00, 0x41, 0xe0]],
  ])('refuses %s', (_, bytes) => {
    const stream = new Uint8Array(bytes);
    for (const decode of [native.blosclzDecompress, blosclzDecompressJs]) expect(decode(stream, new Uint8Array(64))).toBe(-1);
  });

  it('a blosc frame of broken blosclz blocks is a CodecError, never uninitialised memory', async () => {
    const codec = bloscCodec({ id: 'blosc', cname: 'blosclz', clevel: 5, shuffle: 1 }, { dtype: '<f4', maxDecodedBytes: 240_000 });
    const { data, frame } = frames.find((f) => f.data.byteLength === 240_000 && (bloscHeader(f.frame).flags & 0x02) === 0)!;
    expect(same(await codec.decode(frame), data)).toBe(true);
    const header = bloscHeader(frame);
    const start = new DataView(frame.buffer, frame.byteOffset).getInt32(16, true);
    for (const corrupt of [
      (f: Uint8Array) => new DataView(f.buffer, f.byteOffset).setInt32(start, 3, true), // first stream shortened: decodes short
      (f: Uint8Array) => new DataView(f.buffer, f.byteOffset).setInt32(start, 2 ** 30, true), // first stream past the frame
      (f: Uint8Array) => f.fill(0x1f, start + 4, start + 5).fill(0, start + 5), // a literal run past a zeroed stream: a match before the start
    ]) {
      const bad = frame.slice();
      corrupt(bad);
      await expect(codec.decode(bad)).rejects.toThrow(CodecError);
    }
    expect(header.compressor).toBe('blosclz');
  });
});

describe.skipIf(!nativeCodecs?.hasLibdeflate)('zlib by libdeflate: the same bytes as node:zlib, or node:zlib decides', () => {
  const inputs = [new Uint8Array(0), noise(1), smoothFloats(20_000), noise(300_000), new Uint8Array(1 << 20)];
  it('inflates every level of every input exactly as node:zlib', () => {
    for (const data of inputs) {
      for (const level of [0, 1, 4, 9]) {
        const stream = deflateSync(data, { level });
        const out = new Uint8Array(data.byteLength);
        expect(native.inflateZlib(stream, out)).toBe(data.byteLength);
        expect(same(out, inflateSync(stream))).toBe(true);
        expect(native.inflateZlib(stream, new Uint8Array(data.byteLength + 100))).toBe(data.byteLength);
      }
    }
  });

  it('refuses output past the buffer (-2), corrupt streams and trailing bytes (-1)', () => {
    const data = smoothFloats(10_000);
    const stream = deflateSync(data);
    expect(native.inflateZlib(stream, new Uint8Array(data.byteLength - 1))).toBe(-2);
    expect(native.inflateZlib(stream.subarray(0, stream.byteLength - 5), new Uint8Array(data.byteLength))).toBe(-1);
    const flipped = stream.slice();
    flipped[stream.byteLength - 1] = (flipped[stream.byteLength - 1] as number) ^ 1; // the Adler-32
    expect(native.inflateZlib(flipped, new Uint8Array(data.byteLength))).toBe(-1);
    const trailing = new Uint8Array([...stream, 1, 2, 3]);
    expect(native.inflateZlib(trailing, new Uint8Array(data.byteLength))).toBe(-1);
  });

  it('inflates and unshuffles in one step exactly as the two steps do, only into a buffer it fills', () => {
    for (const size of [0, 1, 2, 3, 4, 8, 16]) {
      for (const data of [smoothFloats(30_000), noise(4 * 3 * 1001)]) {
        const stream = deflateSync(data);
        const out = new Uint8Array(data.byteLength);
        expect(native.inflateZlib(stream, out, size)).toBe(data.byteLength);
        expect(same(out, size > 1 ? unshuffleBytesJs(data, size) : data)).toBe(true);
        if (size > 1) {
          expect(native.inflateZlib(stream, new Uint8Array(data.byteLength + 4), size)).toBe(-4); // does not fill it
          expect(native.inflateZlib(stream, new Uint8Array(data.byteLength - 4), size)).toBe(-2);
          expect(native.inflateZlib(stream.subarray(0, 50), new Uint8Array(data.byteLength), size)).toBe(-1);
        }
      }
    }
  });

  it('decodes a NetCDF4 chunk (shuffle, then zlib) as the codecs one by one do, and refuses what they refuse', async () => {
    const { decodeChunk } = await import('./chunk.js');
    const data = smoothFloats(25_000);
    const meta = (elementsize: number, chunks = 25_000) =>
      ({
        zarr_format: 2,
        shape: [chunks],
        chunks: [chunks],
        dtype: '<f4',
        fill_value: null,
        order: 'C',
        compressor: { id: 'zlib', level: 4 },
        filters: [{ id: 'shuffle', elementsize }],
      }) as const;
    for (const elementsize of [4, 2, 8, 1, 0]) {
      const stream = deflateSync(elementsize > 1 ? shuffleBytesJs(data, elementsize) : data);
      const oneByOne = unshuffleBytesJs(inflateSync(stream), Math.max(1, elementsize));
      expect(same(await decodeChunk(stream, meta(elementsize)), oneByOne)).toBe(true);
    }
    const stream = deflateSync(shuffleBytesJs(data, 4));
    await expect(decodeChunk(stream, meta(4, 24_999))).rejects.toThrow(/more than the/); // more than the chunk
    await expect(decodeChunk(stream, meta(4, 25_001))).rejects.toThrow(/decoded 100000 bytes/); // less than the chunk
    await expect(decodeChunk(stream.subarray(0, 99), meta(4))).rejects.toThrow(/codec "zlib": cannot decompress/);
    await expect(decodeChunk(stream, { ...meta(4), filters: [{ id: 'shuffle', elementsize: 4, extra: 1 }] })).rejects.toThrow(/extra/);
    await expect(decodeChunk(stream, { ...meta(4), filters: [{ id: 'shuffle', elementsize: 3 }] })).rejects.toThrow(/whole number of 3-byte/);
  });

  it('the zlib codec answers as node:zlib does: values, limits, errors', async () => {
    const data = smoothFloats(10_000);
    const stream = deflateSync(data);
    const codec = (limit: number) => codecFromConfig({ id: 'zlib' }, { maxDecodedBytes: limit });
    expect(same(await codec(data.byteLength).decode(stream), data)).toBe(true);
    expect(same(await codec(data.byteLength * 2).decode(stream), data)).toBe(true);
    await expect(codec(data.byteLength - 1).decode(stream)).rejects.toThrow(/more than the/);
    await expect(codec(data.byteLength).decode(stream.subarray(0, 100))).rejects.toThrow(CodecError);
    const trailing = new Uint8Array([...stream, 1, 2, 3]);
    const byNode = await Promise.resolve()
      .then(() => inflateSync(trailing))
      .then(
        (bytes) => new Uint8Array(bytes),
        (error: unknown) => error,
      );
    const byCodec = await codec(data.byteLength)
      .decode(trailing)
      .catch((error: unknown) => error);
    if (byNode instanceof Uint8Array) expect(same(byCodec as Uint8Array, byNode)).toBe(true);
    else expect(byCodec).toBeInstanceOf(CodecError);
  });
});

describe('bad arguments throw JavaScript errors, never touch memory', () => {
  const data = noise(1024);
  const calls: Array<[string, () => unknown]> = [
    ['shuffle without a destination', () => (native.shuffle as (...a: unknown[]) => void)(data)],
    ['shuffle into a shorter array', () => native.shuffle(data, new Uint8Array(1023), 4)],
    ['shuffle of a Float32Array', () => native.shuffle(new Float32Array(256) as unknown as Uint8Array, new Uint8Array(1024), 4)],
    ['shuffle of a number', () => native.shuffle(7 as unknown as Uint8Array, new Uint8Array(1024), 4)],
    ['shuffle with element size -1', () => native.shuffle(data, new Uint8Array(1024), -1)],
    ['shuffle with element size 1.5', () => native.shuffle(data, new Uint8Array(1024), 1.5)],
    ['shuffle with element size NaN', () => native.shuffle(data, new Uint8Array(1024), Number.NaN)],
    ['shuffle with element size 2^16 + 1', () => native.shuffle(data, new Uint8Array(1024), 65_537)],
    ['shuffle onto itself', () => native.shuffle(data, data, 4)],
    ['unshuffle into an overlapping view', () => native.unshuffle(data.subarray(0, 512), data.subarray(100, 612), 4)],
    ['a frame with typesize 0', () => native.bloscLz4Frame(data, 0, 256, true, 5)],
    ['a frame with typesize 256', () => native.bloscLz4Frame(data, 256, 256, true, 5)],
    ['a frame with blocks larger than the data', () => native.bloscLz4Frame(data, 4, 4096, true, 5)],
    ['a frame with block size 0', () => native.bloscLz4Frame(data, 4, 0, true, 5)],
    ['a frame with a huge block size', () => native.bloscLz4Frame(data, 4, 2 ** 40, true, 5)],
    ['a frame at clevel 0', () => native.bloscLz4Frame(data, 4, 256, true, 0)],
    ['a frame at clevel 10', () => native.bloscLz4Frame(data, 4, 256, true, 10)],
    ['a frame with a shuffle that is not a boolean', () => native.bloscLz4Frame(data, 4, 256, 1 as unknown as boolean, 5)],
    ['an LZ4 block with `own` not a boolean', () => native.lz4Compress(data, 'yes' as unknown as boolean)],
    ['an LZ4 block of nothing', () => (native.lz4Compress as (...a: unknown[]) => Uint8Array)()],
    ['bit rounding of 3 bytes', () => native.bitround32(data.subarray(0, 3), new Uint8Array(3), 13, false, -1)],
    ['bit rounding with maskbits 0', () => native.bitround32(data, new Uint8Array(1024), 0, false, -1)],
    ['bit rounding with maskbits 24', () => native.bitround32(data, new Uint8Array(1024), 24, false, -1)],
    ['bit rounding keeping 2^32', () => native.bitround32(data, new Uint8Array(1024), 13, false, 2 ** 32)],
    ['bit rounding into an overlapping view', () => native.bitround32(data.subarray(0, 512), data.subarray(4, 516), 13, false, -1)],
    ['blosclz into an overlapping view', () => native.blosclzDecompress(data.subarray(0, 512), data.subarray(100, 612))],
    ['blosclz of a string', () => native.blosclzDecompress('abc' as unknown as Uint8Array, new Uint8Array(8))],
    ['inflate into an overlapping view', () => native.inflateZlib(data.subarray(0, 512), data.subarray(100, 612))],
    ['inflate of an ArrayBuffer', () => native.inflateZlib(data.buffer as unknown as Uint8Array, new Uint8Array(8))],
    ['inflate unshuffling elements of -1 bytes', () => native.inflateZlib(data, new Uint8Array(8), -1)],
    ['inflate unshuffling elements of 2^16 + 1 bytes', () => native.inflateZlib(data, new Uint8Array(8), 65_537)],
    ['inflate unshuffling elements of "4" bytes', () => native.inflateZlib(data, new Uint8Array(8), '4' as unknown as number)],
  ];
  it.each(calls)('%s', (_, call) => {
    expect(call).toThrow();
  });
});
