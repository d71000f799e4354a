import { describe, expect, it } from 'vitest';
import { bloscHeader } from './blosc.js';
import { type BloscBlockCompressorName, nativeBlockCompressor, writeBloscFrame } from './blosc-frame.js';

// The reader is c-blosc itself (numcodecs' wasm build), not our code.
const { default: Blosc } = await import('numcodecs/blosc');
const cblosc = new Blosc(5, 'lz4', 1, 0);

function smoothFloats(count: number): Uint8Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = 273 + 20 * Math.sin(i / 300) + ((i * 7919) % 13) / 100;
  return new Uint8Array(values.buffer);
}

function noise(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let state = 12345;
  for (let i = 0; i < bytes; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe('blosc frames with native block compressors, read by c-blosc', () => {
  const cnames: BloscBlockCompressorName[] = ['lz4', 'zlib', 'zstd'];
  it.each(cnames)('%s: shuffled and plain, several blocks with a partial last one', async (cname) => {
    const compress = await nativeBlockCompressor(cname, 5);
    expect(compress).toBeDefined();
    const data = smoothFloats(100_003);
    // lz4: the C frame writer (native/addon.c) and this module's own, both
    for (const [shuffle, useNative] of [
      [true, true],
      [false, true],
      [true, false],
      [false, false],
    ] as const) {
      for (const blocksize of [0, 4096, 65_537]) {
        const frame = writeBloscFrame(data, { compressor: cname, compress: compress!, clevel: 5, shuffle, typesize: 4, blocksize, useNative });
        const header = bloscHeader(frame);
        expect(header.nbytes).toBe(data.byteLength);
        expect(header.cbytes).toBe(frame.byteLength);
        expect(header.compressor.startsWith(cname)).toBe(true);
        if (shuffle) expect(frame.byteLength).toBeLessThan(data.byteLength * 0.8);
        expect(same(await cblosc.decode(frame), data)).toBe(true);
      }
    }
  });

  it('a length that is not whole elements keeps the trailing bytes in place', async () => {
    const compress = (await nativeBlockCompressor('lz4', 5))!;
    const data = smoothFloats(5000).subarray(0, 19_999);
    for (const useNative of [true, false]) {
      const frame = writeBloscFrame(data, { compressor: 'lz4', compress, clevel: 5, shuffle: true, typesize: 4, blocksize: 8192, useNative });
      expect(same(await cblosc.decode(frame), data)).toBe(true);
    }
  });

  it('incompressible data are stored as they are (memcpyed frame); clevel 0 too', async () => {
    const compress = (await nativeBlockCompressor('zstd', 5))!;
    const data = noise(50_000);
    for (const clevel of [5, 0]) {
      const frame = writeBloscFrame(data, { compressor: 'zstd', compress, clevel, shuffle: true, typesize: 8, blocksize: 0 });
      expect(bloscHeader(frame).flags & 0x02).toBe(0x02);
      expect(frame.byteLength).toBe(data.byteLength + 16);
      expect(same(await cblosc.decode(frame), data)).toBe(true);
    }
  });

  it('blocks that do not compress are stored raw inside a compressed frame', async () => {
    const compress = (await nativeBlockCompressor('lz4', 5))!;
    const data = new Uint8Array(40_000);
    data.set(noise(10_000), 0); // first block noise, the rest zeros
    for (const useNative of [true, false]) {
      const frame = writeBloscFrame(data, { compressor: 'lz4', compress, clevel: 5, shuffle: false, typesize: 1, blocksize: 10_000, useNative });
      expect(bloscHeader(frame).flags & 0x02).toBe(0);
      expect(same(await cblosc.decode(frame), data)).toBe(true);
    }
  });
});
