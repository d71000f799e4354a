import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { decodeChunk, encodeChunk } from './chunk.js';
import { type DecodeRequest, decodeWithPython, makeCases } from './fixtures/cases.js';
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
