import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { swapBytes } from '../dtype.js';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { bitRoundInPlace } from './bitround.js';
import { decodeChunk, encodeChunk } from './chunk.js';
import { CodecError } from './codec.js';
import { inlineCodecs } from './codec-pool.js';
import { deflatedZeros, MiB } from './fixtures/bombs.js';
import { shuffleBytes } from './shuffle.js';
import { type TranscodePlan, transcodeChunk, type ValueStep } from './transcode.js';

const SHAPE = [16, 64];

function meta(dtype: string, codecs: Pick<ZarrArrayMetadata, 'compressor' | 'filters'>, fill: number | string | null = null): ZarrArrayMetadata {
  return { zarr_format: 2, shape: SHAPE, chunks: SHAPE, dtype, fill_value: fill, order: 'C', ...codecs } as ZarrArrayMetadata;
}

const NETCDF = { compressor: { id: 'zlib', level: 4 }, filters: [{ id: 'shuffle', elementsize: 4 }] };
const BLOSC = { compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 }, filters: null };

/** Values with the awkward ones among them: the fill value, NaN, ±inf, -0, subnormals. */
function values(fill: number): Float32Array {
  const out = Float32Array.from({ length: SHAPE[0]! * SHAPE[1]! }, (_, i) => 250 + 40 * Math.sin(i / 7) + i / 1000);
  out.set([fill, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e-42, fill], 100);
  return out;
}

/** What the processed view did before transcode existed: decode, native order, each step, encode. */
async function stepByStep(stored: Uint8Array, plan: TranscodePlan): Promise<Uint8Array> {
  const decoded = (await decodeChunk(stored, plan.source)).slice();
  if ((plan.source.dtype as string).startsWith('>')) swapBytes(decoded, 4);
  for (const step of plan.steps) bitRoundInPlace(decoded, plan.target.dtype as string, step.keepbits, { fillValue: step.fillValue, keepNaN: true });
  return encodeChunk(decoded, plan.target);
}

/** A NetCDF4-style stored chunk of `data` in `dtype`'s byte order. */
function netcdfChunk(data: Float32Array, bigEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(data.buffer.slice(0));
  if (bigEndian) swapBytes(bytes, 4);
  return new Uint8Array(deflateSync(shuffleBytes(bytes, 4)));
}

describe('transcodeChunk', () => {
  const cases: Array<[string, string, ValueStep[]]> = [
    ['lossless, little-endian source', '<f4', []],
    ['keepbits 10, little-endian source', '<f4', [{ kind: 'bitround', keepbits: 10, fillValue: 9.96921e36 }]],
    [
      'keepbits 3 then 10, big-endian source',
      '>f4',
      [
        { kind: 'bitround', keepbits: 10, fillValue: null },
        { kind: 'bitround', keepbits: 3, fillValue: 9.96921e36 },
      ],
    ],
    ['keepbits 0', '>f4', [{ kind: 'bitround', keepbits: 0, fillValue: 9.96921e36 }]],
  ];
  for (const [name, dtype, steps] of cases) {
    it(`gives the bytes of decode, the steps and encode one after the other: ${name}`, async () => {
      const fill = Math.fround(9.96921e36);
      const stored = netcdfChunk(values(fill), dtype.startsWith('>'));
      const plan: TranscodePlan = { source: meta(dtype, NETCDF, fill), target: meta('<f4', BLOSC, fill), steps };
      const expected = await stepByStep(stored, plan);
      const fused = await transcodeChunk(stored.slice(), plan);
      expect(Buffer.from(fused).equals(Buffer.from(expected))).toBe(true);
      // and the inline codecs take the same road
      expect(Buffer.from(await inlineCodecs.transcode(stored.slice(), plan)).equals(Buffer.from(expected))).toBe(true);
    });
  }

  it('never changes the stored bytes (no codecs at all: the decode is the input itself), and recycles only a chunk of its own', async () => {
    const data = values(0);
    const stored = new Uint8Array(data.buffer.slice(0));
    const before = stored.slice();
    const recycled: Uint8Array[] = [];
    const plan: TranscodePlan = {
      source: meta('<f4', { compressor: null, filters: null }),
      target: meta('<f4', { compressor: null, filters: null }),
      steps: [{ kind: 'bitround', keepbits: 4, fillValue: null }],
    };
    const out = await transcodeChunk(stored, plan, (bytes) => recycled.push(bytes));
    expect(Buffer.from(stored).equals(Buffer.from(before))).toBe(true);
    expect(out.buffer).not.toBe(stored.buffer);
    // the result is the rounded chunk itself: not handed to be reused
    expect(recycled).toEqual([]);
    const withCodec = await transcodeChunk(stored, { ...plan, target: meta('<f4', BLOSC) }, (bytes) => recycled.push(bytes));
    expect(recycled).toHaveLength(1);
    expect(recycled[0]?.buffer).not.toBe(withCodec.buffer);
  });

  it('refuses a plan whose target does not fit its source, or a step it does not know', async () => {
    const stored = netcdfChunk(values(0), false);
    const source = meta('<f4', NETCDF);
    const refused = async (plan: TranscodePlan) => {
      const error = await transcodeChunk(stored, plan).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CodecError);
      return (error as Error).message;
    };
    expect(await refused({ source, target: { ...meta('<f4', BLOSC), chunks: [8, 64] }, steps: [] })).toMatch(/not a 8×64 target chunk/);
    expect(await refused({ source, target: meta('<f8', BLOSC), steps: [] })).toMatch(/cannot transcode/);
    expect(await refused({ source, target: meta('>f4', BLOSC), steps: [] })).toMatch(/cannot transcode/);
    expect(await refused({ source, target: meta('<i4', BLOSC), steps: [] })).toMatch(/cannot transcode/);
    // plans cross threads as clones: whatever arrives is checked
    const hostile = [{ kind: '__proto__' }, { kind: 'bitround', keepbits: 10, fillValue: 'NaN' }, null, { kind: 'bitround', keepbits: -1, fillValue: null }];
    for (const step of hostile) {
      await refused({ source, target: meta('<f4', BLOSC), steps: [step as unknown as ValueStep] });
    }
  });

  it('refuses a stored chunk that inflates past the chunk, before allocating what it claims', async () => {
    const bomb = await deflatedZeros(64 * MiB, 'zlib');
    const plan: TranscodePlan = { source: meta('<f4', { compressor: { id: 'zlib', level: 1 }, filters: null }), target: meta('<f4', BLOSC), steps: [] };
    await expect(transcodeChunk(bomb, plan)).rejects.toBeInstanceOf(CodecError);
  });
});
