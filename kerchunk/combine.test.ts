import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJsonLine, runPython } from '../test/helpers/python.js';
import { startInProcess } from '../test/helpers/server.js';
import { type CombinedReferences, CombineError, type CombineInput, combineReferences, type ReferenceSet } from './combine.js';
import { parseJsonReferences } from './json-references.js';
import type { ChunkReference, JsonValue } from './reference.js';

// ------------------------------------------------------------------------------------------------
// Synthetic reference sets
// ------------------------------------------------------------------------------------------------

const zarray = (shape: number[], chunks: number[], dtype: string, extra: Record<string, JsonValue> = {}): Record<string, JsonValue> => ({
  chunks,
  compressor: null,
  dtype,
  fill_value: null,
  filters: null,
  order: 'C',
  shape,
  zarr_format: 2,
  ...extra,
});

const inline = (bytes: Uint8Array): ChunkReference => ({ kind: 'inline', data: bytes });
const range = (url: string, offset: number, length: number): ChunkReference => ({ kind: 'range', url, offset, length });
const int32s = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);

interface SetSpec {
  name: string;
  times: number[];
  history?: string;
  units?: string;
  latAttrs?: Record<string, JsonValue>;
  latChunk?: ChunkReference;
}

/** One file: time (chunks of 2, int32, inline), tas(time, lat) in chunks of [2, 3], lat (3 values). */
function makeSet(spec: SetSpec): CombineInput {
  const n = spec.times.length;
  const metadata = new Map<string, JsonValue>([
    ['.zgroup', { zarr_format: 2 }],
    ['.zattrs', { title: 'series', history: spec.history ?? 'same' }],
    ['time/.zarray', zarray([n], [2], '<i4')],
    ['time/.zattrs', { _ARRAY_DIMENSIONS: ['time'], units: spec.units ?? 'days since 2000-01-01', calendar: 'standard' }],
    ['tas/.zarray', zarray([n, 3], [2, 3], '<f4', { compressor: { id: 'zlib', level: 4 }, fill_value: 'NaN' })],
    ['tas/.zattrs', { _ARRAY_DIMENSIONS: ['time', 'lat'], units: 'K' }],
    ['lat/.zarray', zarray([3], [3], '<f4')],
    ['lat/.zattrs', spec.latAttrs ?? { _ARRAY_DIMENSIONS: ['lat'], units: 'degrees_north' }],
  ]);
  const metadataText = new Map([...metadata].map(([key, value]) => [key, JSON.stringify(value)]));
  metadataText.set('tas/.zattrs', '{"_ARRAY_DIMENSIONS": ["time", "lat"], "units": "K"}'); // not JSON.stringify's spacing
  const chunks = new Map<string, ChunkReference>();
  for (let k = 0; k * 2 < n; k++) {
    const slice = spec.times.slice(k * 2, k * 2 + 2);
    while (slice.length < 2) slice.push(0); // a partial edge chunk is stored whole
    chunks.set(`time/${k}`, inline(int32s(slice)));
    chunks.set(`tas/${k}.0`, range(`${spec.name}.nc`, 1000 + k * 100, 60));
  }
  chunks.set('lat/0', spec.latChunk ?? range(`${spec.name}.nc`, 50, 12));
  return { name: spec.name, references: { metadata, metadataText, chunks } };
}

const combine = (inputs: CombineInput[], attributes?: 'first' | 'error') => combineReferences(inputs, { concatDim: 'time', ...(attributes ? { attributes } : {}) });
const timeValues = (result: CombinedReferences) => {
  const ref = result.chunks.get('time/0');
  if (ref?.kind !== 'inline') throw new Error('time/0 is not inline');
  return [...new Int32Array(ref.data.buffer.slice(ref.data.byteOffset, ref.data.byteOffset + ref.data.byteLength))];
};

describe('combineReferences (synthetic sets)', () => {
  it('shifts chunk keys of arrays with the dimension and concatenates the coordinate', async () => {
    const result = await combine([makeSet({ name: 'a', times: [0, 1, 2, 3] }), makeSet({ name: 'b', times: [4, 5, 6, 7] }), makeSet({ name: 'c', times: [8, 9, 10] })]);
    expect(result.lengths).toEqual([4, 4, 3]);
    expect(result.metadata.get('tas/.zarray')).toMatchObject({ shape: [11, 3], chunks: [2, 3], compressor: { id: 'zlib', level: 4 } });
    expect(result.metadata.get('time/.zarray')).toEqual(zarray([11], [11], '<i4'));
    expect(timeValues(result)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const tas = [...result.chunks].filter(([key]) => key.startsWith('tas/'));
    expect(tas).toEqual([
      ['tas/0.0', range('a.nc', 1000, 60)],
      ['tas/1.0', range('a.nc', 1100, 60)],
      ['tas/2.0', range('b.nc', 1000, 60)],
      ['tas/3.0', range('b.nc', 1100, 60)],
      ['tas/4.0', range('c.nc', 1000, 60)],
      ['tas/5.0', range('c.nc', 1100, 60)],
    ]);
    expect(result.chunks.get('lat/0')).toEqual(range('a.nc', 50, 12)); // the first file's, once
    expect([...result.metadata.keys()]).toEqual(['.zgroup', '.zattrs', 'time/.zarray', 'time/.zattrs', 'tas/.zarray', 'tas/.zattrs', 'lat/.zarray', 'lat/.zattrs']);
    expect(result.metadataText.get('tas/.zattrs')).toBe('{"_ARRAY_DIMENSIONS": ["time", "lat"], "units": "K"}'); // verbatim
  });

  it('treats an array shorter than its file along the dimension as fill values past its end (lazy netCDF-4 extents)', async () => {
    const short = makeSet({ name: 'b', times: [4, 5, 6, 7] });
    (short.references.metadata as Map<string, JsonValue>).set('tas/.zarray', zarray([2, 3], [2, 3], '<f4', { compressor: { id: 'zlib', level: 4 }, fill_value: 'NaN' }));
    (short.references.chunks as Map<string, ChunkReference>).delete('tas/1.0');
    const result = await combine([makeSet({ name: 'a', times: [0, 1, 2, 3] }), short, makeSet({ name: 'c', times: [8, 9] })]);
    expect(result.metadata.get('tas/.zarray')).toMatchObject({ shape: [10, 3] });
    expect([...result.chunks.keys()].filter((key) => key.startsWith('tas/'))).toEqual(['tas/0.0', 'tas/1.0', 'tas/2.0', 'tas/4.0']);
    expect(result.chunks.get('tas/4.0')).toEqual(range('c.nc', 1000, 60));
    const long = makeSet({ name: 'b', times: [4, 5] });
    (long.references.metadata as Map<string, JsonValue>).set('tas/.zarray', zarray([4, 3], [2, 3], '<f4', { compressor: { id: 'zlib', level: 4 }, fill_value: 'NaN' }));
    await expect(combine([makeSet({ name: 'a', times: [0, 1] }), long])).rejects.toThrow(/^b: "tas" has length 4 along "time", longer than "time" \(2\)/);
  });

  it('accepts a strictly decreasing coordinate', async () => {
    const result = await combine([makeSet({ name: 'a', times: [9, 8] }), makeSet({ name: 'b', times: [7, 6, 5] })]);
    expect(timeValues(result)).toEqual([9, 8, 7, 6, 5]);
  });

  it('refuses a file whose length is not a multiple of the chunk length, unless it is the last', async () => {
    const failure = combine([makeSet({ name: 'a', times: [0, 1, 2] }), makeSet({ name: 'b', times: [3, 4] })]);
    await expect(failure).rejects.toBeInstanceOf(CombineError);
    await expect(failure).rejects.toThrow(/^a: its length along "time" \(3\) is not a multiple of the chunk length of "tas" \(2\)/);
  });

  it('refuses a coordinate that is not strictly monotonic, naming the file where it breaks', async () => {
    await expect(combine([makeSet({ name: 'a', times: [0, 1] }), makeSet({ name: 'b', times: [1, 2] })])).rejects.toThrow(
      /^b: "time" is not strictly monotonic where b begins \(after a\): 1 follows 1/,
    );
    await expect(combine([makeSet({ name: 'a', times: [0, 1] }), makeSet({ name: 'b', times: [2, 5, 4, 6] })])).rejects.toThrow(
      /^b: "time" is not strictly monotonic at index 2 of b: 4 follows 5/,
    );
  });

  it('refuses arrays without the dimension that differ, naming the file and the difference', async () => {
    const attrs = combine([makeSet({ name: 'a', times: [0, 1] }), makeSet({ name: 'b', times: [2, 3], latAttrs: { _ARRAY_DIMENSIONS: ['lat'], units: 'degrees' } })]);
    await expect(attrs).rejects.toThrow(/^b: "lat\/\.zattrs" differs from a's in "units": "degrees" vs "degrees_north"/);
    const size = combine([makeSet({ name: 'a', times: [0, 1] }), makeSet({ name: 'b', times: [2, 3], latChunk: range('b.nc', 50, 16) })]);
    await expect(size).rejects.toThrow(/^b: chunk "lat\/0" differs from a's \(16 bytes vs 12 bytes\)/);
  });

  it('keeps the first file\'s attributes by default, or refuses differences with attributes: "error"', async () => {
    const sets = () => [makeSet({ name: 'a', times: [0, 1], history: 'made a' }), makeSet({ name: 'b', times: [2, 3], history: 'made b' })];
    const result = await combine(sets());
    expect(result.metadata.get('.zattrs')).toEqual({ title: 'series', history: 'made a' });
    await expect(combine(sets(), 'error')).rejects.toThrow(/^b: "\.zattrs" differs from a's in "history": "made b" vs "made a"/);
  });

  it('refuses coordinates with different units', async () => {
    await expect(combine([makeSet({ name: 'a', times: [0, 1] }), makeSet({ name: 'b', times: [2, 3], units: 'days since 2001-01-01' })])).rejects.toThrow(
      /^b: "time" has units "days since 2001-01-01", a "days since 2000-01-01": raw values cannot be concatenated/,
    );
  });

  it('refuses files with different arrays or dimensions', async () => {
    const missing = makeSet({ name: 'b', times: [2, 3] });
    (missing.references.metadata as Map<string, JsonValue>).delete('lat/.zarray');
    (missing.references.metadata as Map<string, JsonValue>).delete('lat/.zattrs');
    (missing.references.chunks as Map<string, ChunkReference>).delete('lat/0');
    await expect(combine([makeSet({ name: 'a', times: [0, 1] }), missing])).rejects.toThrow(/^b: has no array "lat" \(a has\)/);
    const other = makeSet({ name: 'b', times: [2, 3] });
    (other.references.metadata as Map<string, JsonValue>).set('tas/.zarray', zarray([2, 3], [2, 3], '<f8', { compressor: { id: 'zlib', level: 4 }, fill_value: 'NaN' }));
    await expect(combine([makeSet({ name: 'a', times: [0, 1] }), other])).rejects.toThrow(/^b: "tas\/\.zarray" differs from a's in "dtype": "<f8" vs "<f4"/);
  });

  it('refuses a concatenation dimension no array has', async () => {
    await expect(combineReferences([makeSet({ name: 'a', times: [0] })], { concatDim: 'step' })).rejects.toThrow(/^a: no array has the dimension "step"/);
  });
});

/** Byte shuffle as numcodecs / HDF5 write it. */
function shuffle(data: Uint8Array, size: number): Uint8Array {
  const count = data.byteLength / size;
  const out = new Uint8Array(data.byteLength);
  for (let i = 0; i < count; i++) for (let b = 0; b < size; b++) out[b * count + i] = data[i * size + b] as number;
  return out;
}

describe('combineReferences (referenced, compressed coordinate chunks)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strato-combine-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  /** A file whose coordinate `time` (int64 or big-endian float64) lives in it, compressed. */
  async function coordinateFile(name: string, values: number[], dtype: '<i8' | '>f8', compressor: 'zlib' | 'gzip', shuffled: boolean): Promise<CombineInput> {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((value, i) => (dtype === '<i8' ? view.setBigInt64(i * 8, BigInt(value), true) : view.setFloat64(i * 8, value, false)));
    const prepared = shuffled ? shuffle(raw, 8) : raw;
    const encoded = compressor === 'zlib' ? deflateSync(prepared) : gzipSync(prepared);
    const padding = new Uint8Array(37);
    await writeFile(join(dir, `${name}.bin`), Buffer.concat([padding, encoded]));
    const metadata = new Map<string, JsonValue>([
      ['time/.zarray', zarray([values.length], [values.length], dtype, { compressor: { id: compressor }, filters: shuffled ? [{ id: 'shuffle', elementsize: 8 }] : null })],
      ['time/.zattrs', { _ARRAY_DIMENSIONS: ['time'], units: 'hours since 2000-01-01' }],
    ]);
    const chunks = new Map<string, ChunkReference>([['time/0', range(`${name}.bin`, 37, encoded.byteLength)]]);
    return { name, references: { metadata, chunks }, base: dir };
  }

  it('reads zlib + shuffle int64 chunks from the files', async () => {
    const result = await combine([await coordinateFile('p0', [0, 6, 12], '<i8', 'zlib', true), await coordinateFile('p1', [18, 24], '<i8', 'zlib', true)]);
    const ref = result.chunks.get('time/0');
    if (ref?.kind !== 'inline') throw new Error('not inline');
    expect([...new BigInt64Array(ref.data.slice().buffer)]).toEqual([0n, 6n, 12n, 18n, 24n]);
    expect(result.metadata.get('time/.zarray')).toMatchObject({ shape: [5], chunks: [5], compressor: null, filters: null, dtype: '<i8' });
  });

  it('reads gzip big-endian float64 chunks, keeping the byte order', async () => {
    const result = await combine([await coordinateFile('q0', [0.5, 1.5], '>f8', 'gzip', false), await coordinateFile('q1', [2.5], '>f8', 'gzip', false)]);
    const ref = result.chunks.get('time/0');
    if (ref?.kind !== 'inline') throw new Error('not inline');
    const view = new DataView(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength);
    expect([0, 1, 2].map((i) => view.getFloat64(i * 8, false))).toEqual([0.5, 1.5, 2.5]);
  });

  it('names the file whose coordinate chunk cannot be read', async () => {
    const broken = await coordinateFile('r1', [5], '<i8', 'zlib', false);
    await writeFile(join(dir, 'r1.bin'), 'short');
    await expect(combine([await coordinateFile('r0', [1], '<i8', 'zlib', false), broken])).rejects.toThrow(/^r1: cannot read chunk 0 of coordinate "time"/);
  });
});

// ------------------------------------------------------------------------------------------------
// The NetCDF4 series fixtures, against the Python-built refs/combined.json and xarray
// ------------------------------------------------------------------------------------------------

/** A reference set as a kerchunk JSON version 0 table. */
function toJsonV0(references: CombinedReferences): string {
  const table: Record<string, unknown> = {};
  for (const [key, text] of references.metadataText) table[key] = text;
  for (const [key, reference] of references.chunks) {
    if (reference.kind === 'inline') table[key] = `base64:${Buffer.from(reference.data).toString('base64')}`;
    else if (reference.kind === 'range') table[key] = [reference.url, reference.offset, reference.length];
    else table[key] = [reference.url];
  }
  return JSON.stringify(table);
}

/** A kerchunk JSON table as a reference set (what a scanner would hand to combine). */
async function readReferenceSet(file: string): Promise<ReferenceSet> {
  const text = await readFile(file, 'utf8');
  const store = parseJsonReferences(text, file);
  const document = JSON.parse(text) as Record<string, unknown>;
  const keys = Object.keys('refs' in document && typeof document.refs === 'object' ? (document.refs as object) : document);
  const chunks = new Map<string, ChunkReference>();
  for (const key of keys) {
    const reference = await store.chunk(key);
    if (reference) chunks.set(key, reference);
  }
  return { metadata: store.metadata, metadataText: store.metadataText, chunks };
}

/** Chunk references in a comparable form (inline bytes as base64). */
const comparable = (chunks: ReadonlyMap<string, ChunkReference>) =>
  new Map([...chunks].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, ref]) => [key, ref.kind === 'inline' ? { inline: Buffer.from(ref.data).toString('base64') } : ref]));

describe('combineReferences on the NetCDF4 series fixtures', () => {
  let dir: string;
  let combined: CombinedReferences;
  let files: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strato-combine-fixtures-'));
    const made = await runPython('test/fixtures/make_netcdf.py', [dir]);
    if (made.code !== 0) throw new Error(`make_netcdf.py failed:\n${made.stderr}`);
    const dumped = await runPython('test/fixtures/combine/dump_single_refs.py', [dir]);
    if (dumped.code !== 0) throw new Error(`dump_single_refs.py failed:\n${dumped.stderr}`);
    const listed = lastJsonLine<{ tables: string[]; files: string[] }>(dumped.stdout);
    files = listed.files.map((file) => join(dir, file));
    const inputs: CombineInput[] = [];
    for (const [i, table] of listed.tables.entries()) {
      inputs.push({ name: listed.files[i] as string, references: await readReferenceSet(join(dir, table)), base: join(dir, 'refs') });
    }
    combined = await combineReferences(inputs, { concatDim: 'time' });
    await writeFile(join(dir, 'refs', 'combined-ts.json'), toJsonV0(combined));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('equals refs/combined.json (MultiZarrToZarr-style, built in Python): metadata, chunk references, time values', async () => {
    const expected = await readReferenceSet(join(dir, 'refs', 'combined.json'));
    expect(new Map(combined.metadata)).toEqual(new Map(expected.metadata));
    expect(comparable(combined.chunks)).toEqual(comparable(expected.chunks));
    expect(combined.chunks.size).toBeGreaterThan(20);
    const time = combined.chunks.get('time/0');
    if (time?.kind !== 'inline') throw new Error('time/0 is not inline');
    expect([...new Int32Array(time.data.slice().buffer)]).toEqual(Array.from({ length: 27 }, (_, i) => i));
    expect(combined.lengths).toEqual([10, 10, 7]);
  });

  it('reads in xarray exactly as xr.open_mfdataset of the three files', async () => {
    const catalog = join(dir, 'catalog-combine.yaml');
    await writeFile(catalog, 'datasets:\n  series: {refs: refs/combined-ts.json}\nsources:\n  allow: [data/]\n');
    const server = await startInProcess(catalog);
    try {
      expect(server.registry.problems()).toEqual([]);
      const result = await runPython('test/interop/check_xarray.py', ['--url', `${server.url}/datasets/series/kerchunk`, '--files', ...files, '--combine-dim', 'time']);
      const report = lastJsonLine<{ ok: boolean; problems: string[]; variables: number }>(result.stdout || '{}');
      expect(report.problems, result.stderr).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.variables).toBeGreaterThan(3);
    } finally {
      await server.close();
    }
  });
});
