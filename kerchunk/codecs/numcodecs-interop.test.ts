import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { decodeChunk, encodeChunk } from './chunk.js';
import { type DecodeRequest, decodeWithPython, type EncodeRequest, encodeWithPython, makeCases } from './fixtures/cases.js';
import { nativeCodecs } from './native.js';
import { codecFromConfig } from './registry.js';

// Real numcodecs (Debian's python3-numcodecs) and HDF5 (h5py) on both sides; no mocks.
const cases = await makeCases();
afterAll(() => rm(cases.dir, { recursive: true, force: true }));

/** Filters are deterministic arithmetic: our encoding must be numcodecs' byte for byte. */
const FILTERS = new Set(['shuffle', 'delta', 'fixedscaleoffset', 'astype', 'bitround', 'crc32', 'adler32']);

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

function fletcherMeta(c: (typeof cases.fletcher32)[number]): ZarrArrayMetadata {
  return { zarr_format: 2, shape: [c.chunk], chunks: [c.chunk], dtype: c.dtype, compressor: null, filters: c.filters, fill_value: null, order: 'C' };
}

describe(`decoding what numcodecs ${cases.numcodecs} encoded`, () => {
  it.each(cases.codecs.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const codec = codecFromConfig(c.config, { dtype: c.dtype });
    expect(same(await codec.decode(await cases.read(c.encoded)), await cases.read(c.decoded))).toBe(true);
  });

  it.each(cases.chunks.map((c) => [c.name, c] as const))('whole chunk: %s', async (_, c) => {
    expect(same(await decodeChunk(await cases.read(c.encoded), c.meta), await cases.read(c.decoded))).toBe(true);
  });

  it.each(cases.fletcher32.map((c) => [c.name, c] as const))('fletcher32 chunk HDF5 wrote: %s', async (_, c) => {
    expect(same(await decodeChunk(await cases.read(c.encoded), fletcherMeta(c)), await cases.read(c.raw))).toBe(true);
  });

  it.each(cases.codecs.filter((c) => FILTERS.has(c.config.id)).map((c) => [c.name, c] as const))('encoding the same bytes as numcodecs: %s', async (_, c) => {
    const encoded = await codecFromConfig(c.config, { dtype: c.dtype }).encode(await cases.read(c.raw));
    expect(same(encoded, await cases.read(c.encoded))).toBe(true);
  });
});

describe('numcodecs and HDF5 decoding what we encoded (one Python run)', async () => {
  const requests: DecodeRequest[] = [];
  /** What Python must get back: numcodecs' own round trip (the raw bytes unless lossy). */
  const expected = new Map<string, Uint8Array>();
  const failures = new Map<string, string>();
  const attempt = async (name: string, wanted: Uint8Array, make: () => Promise<DecodeRequest>): Promise<void> => {
    expected.set(name, wanted);
    try {
      requests.push(await make());
    } catch (error) {
      failures.set(name, String(error));
    }
  };
  for (const c of cases.codecs) {
    const raw = await cases.read(c.raw);
    const encode = async () => codecFromConfig(c.config, { dtype: c.dtype }).encode(raw);
    await attempt(c.name, await cases.read(c.decoded), async () => ({ name: c.name, kind: 'codec', config: c.config, encoded: await encode() }));
  }
  for (const c of cases.chunks) {
    const raw = await cases.read(c.raw);
    const name = `chunk ${c.name}`;
    await attempt(name, await cases.read(c.decoded), async () => ({ name, kind: 'chunk', meta: c.meta, encoded: await encodeChunk(raw, c.meta) }));
  }
  for (const c of cases.fletcher32) {
    const raw = await cases.read(c.raw);
    const name = `fletcher32 ${c.name}`;
    const meta = fletcherMeta(c);
    await attempt(name, raw, async () => ({ name, kind: 'fletcher32', dtype: c.dtype, chunk: c.chunk, filters: c.filters, encoded: await encodeChunk(raw, meta) }));
  }
  const decoded = await decodeWithPython(cases.dir, requests);

  it.each([...expected.keys()].map((name) => [name] as const))('%s', (name) => {
    expect(failures.get(name)).toBeUndefined();
    const result = decoded.get(name);
    if (typeof result === 'string') throw new Error(`Python could not decode our bytes: ${result}`);
    expect(result).toBeDefined();
    expect(same(result as Uint8Array, expected.get(name) as Uint8Array)).toBe(true);
  });
});

/** Deterministic smooth values with some noise in the low bits, as model output has. */
function smooth(count: number, make: (n: number) => Float32Array | Float64Array | Int16Array | Uint8Array): Uint8Array {
  const values = make(count);
  for (let i = 0; i < count; i++) values[i] = 273 + 20 * Math.sin(i / 300) + ((i * 7919) % 13) / 100;
  return new Uint8Array(values.buffer);
}

// The C frame writer follows c-blosc 1.x (block size, byte-plane splits, liblz4 with its
// acceleration): where both link the same liblz4, its frames are numcodecs' byte for byte.
describe.skipIf(!nativeCodecs?.hasLiblz4)('blosc lz4 frames: the bytes c-blosc writes (liblz4 on both sides)', async () => {
  const noise = new Uint8Array(300_000).map((_, i) => (Math.imul(i, 2654435761) >>> 24) & 0xff);
  const inputs: Array<[string, string, Uint8Array]> = [
    ['float32, 4 MB (8 blocks, a short last one)', '<f4', smooth(1_038_240, (n) => new Float32Array(n))],
    ['float32, one short block', '<f4', smooth(10_007, (n) => new Float32Array(n))],
    ['float64', '<f8', smooth(300_001, (n) => new Float64Array(n))],
    ['int16', '<i2', smooth(200_000, (n) => new Int16Array(n))],
    ['uint8', '|u1', smooth(200_000, (n) => new Uint8Array(n))],
    ['float32 noise', '<f4', noise],
    ['float32, under 128 bytes', '<f4', smooth(25, (n) => new Float32Array(n))],
    ['float64, 20 elements (160 bytes)', '<f8', smooth(20, (n) => new Float64Array(n))],
    ['nothing', '<f4', new Uint8Array(0)],
  ];
  const requests: EncodeRequest[] = [];
  for (const [label, dtype, raw] of inputs) {
    for (const clevel of [1, 5, 9]) {
      for (const shuffle of [0, 1]) requests.push({ name: `${label}, clevel ${clevel}, shuffle ${shuffle}`, raw, dtype, cname: 'lz4', clevel, shuffle });
    }
  }
  const { blosc, frames } = await encodeWithPython(cases.dir, requests);

  it.skipIf(!blosc.startsWith('1.')).each(requests.map((r) => [r.name, r] as const))('%s', async (_, r) => {
    const codec = codecFromConfig({ id: 'blosc', cname: r.cname, clevel: r.clevel, shuffle: r.shuffle }, { dtype: r.dtype });
    const ours = await codec.encode(r.raw);
    const theirs = frames.get(r.name) as Uint8Array;
    expect(Buffer.from(ours.subarray(0, 16)).toString('hex')).toBe(Buffer.from(theirs.subarray(0, 16)).toString('hex'));
    expect(same(ours, theirs)).toBe(true);
  });
});
