import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { itemsize } from '../dtype.js';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { chunkByteLength, decodeChunk, encodeChunk } from './chunk.js';
import { CodecError, UnsupportedCodecError } from './codec.js';
import { fletcher32 } from './fletcher32.js';
import { codecFromConfig } from './registry.js';
import { shuffleBytes, unshuffleBytes } from './shuffle.js';
import { zstdBackend, zstdCodec } from './zstd.js';

const meta = (over: Partial<ZarrArrayMetadata>): ZarrArrayMetadata => ({
  zarr_format: 2,
  shape: [8],
  chunks: [4],
  dtype: '<f4',
  compressor: null,
  filters: null,
  fill_value: null,
  order: 'C',
  ...over,
});
const floats = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => 250 + Math.sin(i)).buffer);

describe('codecFromConfig', () => {
  it('names the id of an unknown codec', () => {
    expect(() => codecFromConfig({ id: 'jpeg2000' })).toThrow(UnsupportedCodecError);
    expect(() => codecFromConfig({ id: 'jpeg2000' })).toThrow(/"jpeg2000"/);
    expect(() => codecFromConfig({ id: 'toString' })).toThrow(/"toString"/);
    expect(() => codecFromConfig({ cname: 'lz4' })).toThrow(UnsupportedCodecError);
  });

  it('rejects options it does not understand, naming codec and option', () => {
    expect(() => codecFromConfig({ id: 'zlib', level: 1, dictionary: 'x' })).toThrow(/"zlib".*dictionary/);
    expect(() => codecFromConfig({ id: 'blosc', cname: 'snappy' })).toThrow(/"blosc".*cname/);
    expect(() => codecFromConfig({ id: 'blosc', cname: 'lz4', shuffle: 7 })).toThrow(/shuffle/);
    expect(() => codecFromConfig({ id: 'delta', dtype: '<f2' })).toThrow(/"delta".*float16/);
    expect(() => codecFromConfig({ id: 'fixedscaleoffset', scale: 10, offset: 0, dtype: '|S4' })).toThrow(UnsupportedCodecError);
  });

  it('decodes a blosc frame when the config is a Zarr v3 style one with typesize', async () => {
    const codec = codecFromConfig({ id: 'blosc', cname: 'zstd', clevel: 3, shuffle: 2, typesize: 4, blocksize: 0 });
    const raw = floats(1000);
    expect(Buffer.from(await codec.decode(await codec.encode(raw))).equals(raw)).toBe(true);
  });
});

describe('clear errors', () => {
  it('corrupt zlib data', async () => {
    const broken = deflateSync(floats(100)).subarray(0, 50);
    broken[10] = (broken[10] as number) ^ 0xff;
    await expect(codecFromConfig({ id: 'zlib', level: 1 }).decode(broken)).rejects.toThrow(/codec "zlib": cannot decompress/);
    await expect(codecFromConfig({ id: 'gzip', level: 1 }).decode(new Uint8Array([1, 2, 3]))).rejects.toThrow(CodecError);
  });

  it('corrupt zstd, lz4 and blosc data', async () => {
    const junk = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    await expect(zstdCodec({ id: 'zstd', level: 1 }).decode(junk)).rejects.toThrow(/codec "zstd"/);
    await expect(zstdCodec({ id: 'zstd', level: 1 }, 'wasm').decode(junk)).rejects.toThrow(/codec "zstd"/);
    await expect(codecFromConfig({ id: 'lz4' }).decode(junk)).rejects.toThrow(/codec "lz4"/);
    await expect(codecFromConfig({ id: 'lz4' }).decode(junk.subarray(0, 2))).rejects.toThrow(/too short/);
    await expect(codecFromConfig({ id: 'blosc' }).decode(junk)).rejects.toThrow(/codec "blosc": corrupt/);
    const frame = await codecFromConfig({ id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 }).encode(floats(1000));
    await expect(codecFromConfig({ id: 'blosc' }).decode(frame.subarray(0, frame.length - 10))).rejects.toThrow(/codec "blosc"/);
  });

  it('a decoded chunk of the wrong length', async () => {
    const m = meta({ compressor: { id: 'zlib', level: 1 } });
    await expect(decodeChunk(deflateSync(floats(3)), m)).rejects.toThrow(/decoded 12 bytes \(zlib\), a 4 chunk of "<f4" is 16 bytes/);
    await expect(encodeChunk(floats(5), m)).rejects.toThrow(/cannot encode 20 bytes/);
  });

  it('a fletcher32 checksum mismatch', async () => {
    const codec = codecFromConfig({ id: 'fletcher32' });
    const encoded = await codec.encode(floats(10));
    encoded[5] = (encoded[5] as number) ^ 1;
    await expect(codec.decode(encoded)).rejects.toThrow(/codec "fletcher32": checksum mismatch/);
    await expect(codec.decode(new Uint8Array(3))).rejects.toThrow(/4-byte checksum/);
  });

  it('crc32 and adler32 mismatches', async () => {
    for (const id of ['crc32', 'adler32']) {
      const codec = codecFromConfig({ id });
      const encoded = await codec.encode(floats(10));
      encoded[9] = (encoded[9] as number) ^ 1;
      await expect(codec.decode(encoded)).rejects.toThrow(new RegExp(`codec "${id}": checksum mismatch`));
    }
  });
});

describe('pieces', () => {
  it('fletcher32 of known bytes (HDF5 word order: big-endian 16-bit words)', () => {
    // sum1 = 0x0102 + 0x0304 = 0x0406; sum2 = 0x0102 + 0x0406 = 0x0508
    expect(fletcher32(new Uint8Array([1, 2, 3, 4]))).toBe(0x05080406);
    // odd length: last byte is the high byte of a word
    expect(fletcher32(new Uint8Array([1, 2, 3]))).toBe(((0x0102 + 0x0402) << 16) | 0x0402);
    expect(fletcher32(new Uint8Array(0))).toBe(0);
  });

  it('shuffle groups bytes by significance and back', () => {
    const raw = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...shuffleBytes(raw, 4)]).toEqual([1, 5, 2, 6, 3, 7, 4, 8]);
    expect([...unshuffleBytes(shuffleBytes(raw, 2), 2)]).toEqual([...raw]);
  });

  it('shuffle of 4-byte elements (word path and byte path) matches the definition at any count and offset', () => {
    for (const count of [4, 5, 6, 7, 64, 1001]) {
      for (const offset of [0, 1, 4]) {
        const backing = new Uint8Array(offset + count * 4).map((_, i) => (i * 37 + 11) & 0xff);
        const data = backing.subarray(offset);
        const expected = new Uint8Array(data.length);
        for (let i = 0; i < count; i++) for (let j = 0; j < 4; j++) expected[j * count + i] = data[i * 4 + j] as number;
        expect([...shuffleBytes(data, 4)]).toEqual([...expected]);
        expect([...unshuffleBytes(expected, 4)]).toEqual([...data]);
      }
    }
  });

  it('itemsize of numpy dtypes', () => {
    expect(itemsize('<f8')).toBe(8);
    expect(itemsize('|S7')).toBe(7);
    expect(itemsize('<U3')).toBe(12);
    expect(itemsize('|b1')).toBe(1);
    expect(itemsize('<M8[ns]')).toBe(8);
    expect(
      itemsize([
        ['a', '<f4'],
        ['b', '<i2', [3]],
      ]),
    ).toBe(10);
    expect(itemsize('|O')).toBeUndefined();
    expect(chunkByteLength(meta({ chunks: [3, 5], dtype: '<i2' }))).toBe(30);
  });

  it('zstd: native (zstd-napi) when installed, wasm fallback; each reads the other', async () => {
    const native = await zstdBackend('native');
    const wasm = await zstdBackend('wasm');
    expect(wasm.name).toBe('numcodecs-wasm');
    const raw = floats(5000);
    expect(Buffer.from(await wasm.decompress(await native.compress(raw, 3, false))).equals(raw)).toBe(true);
    expect(Buffer.from(await native.decompress(await wasm.compress(raw, 3, false))).equals(raw)).toBe(true);
  });

  it('encodeChunk with preserveFill keeps the fill value through bitround', async () => {
    const m = meta({ fill_value: 'NaN', filters: [{ id: 'bitround', keepbits: 0 }], compressor: { id: 'zstd', level: 1 } });
    const raw = new Uint8Array(new Float32Array([NaN, 1.7, NaN, 3.1]).buffer);
    const kept = new Float32Array((await decodeChunk(await encodeChunk(raw, m, { preserveFill: true }), m)).slice().buffer);
    expect([kept[0], kept[1], kept[2], kept[3]]).toEqual([NaN, 2, NaN, 4]);
    const plain = new Float32Array((await decodeChunk(await encodeChunk(raw, m), m)).slice().buffer);
    expect(Object.is(plain[0], -0)).toBe(true); // numcodecs' behaviour
  });
});
