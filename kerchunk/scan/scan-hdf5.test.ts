import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkReference, type JsonValue, ReferenceFormatError } from '../reference.js';
import { Hdf5File } from './hdf5/file.js';
import { GlobalHeap, readLocalHeap } from './hdf5/heaps.js';
import { readObjectHeader } from './hdf5/object-header.js';
import { fileRangeReader } from './range-reader.js';
import { type ScanResult, scanHdf5 } from './scan-hdf5.js';

// The truth is what h5py / the HDF5 library says about files written by h5py and netCDF4-python
// (test/fixtures/hdf5/*.py, run with Debian's python3).

const PYTHON = '/usr/bin/python3';
const FIXTURES = join(import.meta.dirname, '../../test/fixtures/hdf5');

interface TruthChunk {
  index: number[];
  offset: number | null;
  size: number;
  filter_mask?: number;
  sha256: string;
}
interface TruthDataset {
  path: string;
  layout: 'compact' | 'contiguous' | 'chunked';
  dtype: string;
  kind: string;
  shape: number[];
  chunks: number[] | null;
  filters: { id: number; values: number[] }[];
  is_scale: boolean;
  attrs: Record<string, JsonValue>;
  dims: string[];
  fill_value: JsonValue;
  hdf5_fill?: string;
  storage: TruthChunk[];
  values?: { sha256: string; nbytes: number; base64?: string };
  values_list?: string[];
}
interface TruthFile {
  format: string;
  groups: Record<string, Record<string, JsonValue>>;
  datasets: Record<string, TruthDataset>;
}

const HDF5_FILES = ['nc4_basic.nc', 'nc4_classic.nc', 'nc4_unlimited.nc', 'h5_plain.h5', 'h5_latest.h5', 'h5_userblock.h5'];

let dir: string;
let truth: Record<string, TruthFile>;
const scans = new Map<string, ScanResult>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strato-hdf5-'));
  execFileSync(PYTHON, [join(FIXTURES, 'make_hdf5_fixtures.py'), dir, '--paged'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const out = execFileSync(PYTHON, [join(FIXTURES, 'dump_hdf5_truth.py'), ...HDF5_FILES.map((f) => join(dir, f))], {
    maxBuffer: 256 << 20,
  });
  const byPath = JSON.parse(out.toString('utf8')) as Record<string, TruthFile>;
  truth = Object.fromEntries(HDF5_FILES.map((f) => [f, byPath[join(dir, f)]!]));
  for (const name of HDF5_FILES) {
    const file = await fileRangeReader(join(dir, name));
    try {
      scans.set(name, await scanHdf5(file.read, { url: name, fileSize: file.size }));
    } finally {
      await file.close();
    }
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The Zarr codecs the HDF5 pipeline must map to: Zarr runs filters, then the compressor. */
function expectedCodecs(filters: TruthDataset['filters'], itemsize: number): { compressor: JsonValue; filters: JsonValue } {
  const codecs = filters.map((f): JsonValue => {
    if (f.id === 1) return { id: 'zlib', level: f.values[0]! };
    if (f.id === 2) return { id: 'shuffle', elementsize: f.values[0] ?? itemsize };
    if (f.id === 3) return { id: 'fletcher32' };
    throw new Error(`unexpected filter ${f.id}`);
  });
  const last = filters[filters.length - 1];
  const compressor = last?.id === 1 ? codecs.pop()! : null;
  return { compressor, filters: codecs.length > 0 ? codecs : null };
}

async function referencedBytes(name: string, ref: ChunkReference): Promise<Uint8Array> {
  if (ref.kind === 'inline') return ref.data;
  const whole = readFileSync(join(dir, name));
  if (ref.kind === 'whole') return whole;
  expect(ref.url).toBe(name);
  return whole.subarray(ref.offset, ref.offset + ref.length);
}

/** HDF5's Fletcher-32 (16-bit big-endian words), as H5_checksum_fletcher32 computes it. */
function fletcher32(data: Uint8Array): number {
  let sum1 = 0;
  let sum2 = 0;
  let i = 0;
  let words = data.length >> 1;
  while (words > 0) {
    const block = Math.min(words, 360);
    words -= block;
    for (let k = 0; k < block; k++, i += 2) {
      sum1 += (data[i]! << 8) | data[i + 1]!;
      sum2 += sum1;
    }
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  if (data.length & 1) {
    sum1 += data[i]! << 8;
    sum2 += sum1;
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  return ((sum2 << 16) | sum1) >>> 0;
}

/** Test's own HDF5-style unshuffle (leftover bytes copied). */
function unshuffle(data: Uint8Array, size: number): Uint8Array {
  const n = Math.floor(data.length / size);
  const out = new Uint8Array(data.length);
  for (let b = 0; b < size; b++) for (let i = 0; i < n; i++) out[i * size + b] = data[b * n + i]!;
  out.set(data.subarray(n * size), n * size);
  return out;
}

/** Decodes chunk bytes the way a Zarr reader would with the .zarray's compressor and filters. */
function decode(bytes: Uint8Array, zarray: Record<string, JsonValue>): Uint8Array {
  let data = bytes;
  const compressor = zarray.compressor as { id: string } | null;
  if (compressor) {
    expect(compressor.id).toBe('zlib');
    data = new Uint8Array(inflateSync(data));
  }
  const filters = ((zarray.filters ?? []) as { id: string; elementsize?: number }[]).slice().reverse();
  for (const f of filters) {
    if (f.id === 'zlib') data = new Uint8Array(inflateSync(data));
    else if (f.id === 'shuffle') data = unshuffle(data, f.elementsize!);
    else if (f.id === 'fletcher32') {
      const body = data.subarray(0, data.length - 4);
      const stored = new DataView(data.buffer, data.byteOffset + data.length - 4, 4).getUint32(0, true);
      expect(stored).toBe(fletcher32(body));
      data = body;
    } else throw new Error(`codec ${f.id}`);
  }
  return data;
}

/** Assembles the C-order bytes of a whole array from its chunks (missing chunks: `fill`). */
async function assemble(name: string, result: ScanResult, path: string, fill: Uint8Array): Promise<Uint8Array> {
  const zarray = result.metadata.get(`${path}/.zarray`) as Record<string, JsonValue>;
  const shape = zarray.shape as number[];
  const chunks = zarray.chunks as number[];
  const itemsize = Number(String(zarray.dtype).slice(2));
  const total = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(total * itemsize);
  for (let i = 0; i < total; i++) out.set(fill.subarray(0, itemsize), i * itemsize);
  if (shape.length === 0) {
    const ref = result.chunks.get(`${path}/0`);
    if (ref) out.set(decode(await referencedBytes(name, ref), zarray).subarray(0, itemsize));
    return out;
  }
  const grid = shape.map((s, i) => Math.ceil(s / chunks[i]!));
  const chunkCount = grid.reduce((a, b) => a * b, 1);
  const chunkElements = chunks.reduce((a, b) => a * b, 1);
  for (let n = 0; n < chunkCount; n++) {
    const coords: number[] = [];
    let rest = n;
    for (let d = grid.length - 1; d >= 0; d--) {
      coords[d] = rest % grid[d]!;
      rest = Math.floor(rest / grid[d]!);
    }
    const ref = result.chunks.get(`${path}/${coords.join('.')}`);
    if (!ref) continue;
    const data = decode(await referencedBytes(name, ref), zarray);
    expect(data.length).toBe(chunkElements * itemsize);
    for (let e = 0; e < chunkElements; e++) {
      let rem = e;
      let flat = 0;
      let inside = true;
      const local: number[] = [];
      for (let d = chunks.length - 1; d >= 0; d--) {
        local[d] = rem % chunks[d]!;
        rem = Math.floor(rem / chunks[d]!);
      }
      for (let d = 0; d < shape.length; d++) {
        const g = coords[d]! * chunks[d]! + local[d]!;
        if (g >= shape[d]!) inside = false;
        flat = flat * shape[d]! + g;
      }
      if (inside) out.set(data.subarray(e * itemsize, (e + 1) * itemsize), flat * itemsize);
    }
  }
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe.each(HDF5_FILES)('scanHdf5 %s', (name) => {
  it('writes every group with its attributes', () => {
    const result = scans.get(name)!;
    for (const [group, attrs] of Object.entries(truth[name]!.groups)) {
      const prefix = group ? `${group}/` : '';
      expect(result.metadata.get(`${prefix}.zgroup`), group).toEqual({ zarr_format: 2 });
      expect(result.metadata.get(`${prefix}.zattrs`), group).toEqual(attrs);
    }
  });

  it('describes every dataset as kerchunk does', () => {
    const result = scans.get(name)!;
    for (const [path, t] of Object.entries(truth[name]!.datasets)) {
      const zarray = result.metadata.get(`${path}/.zarray`) as Record<string, JsonValue> | undefined;
      if (t.is_scale && t.storage.length === 0 && t.layout !== 'compact') {
        expect(zarray, `${path} is a dimension without data`).toBeUndefined();
        continue;
      }
      expect(zarray, path).toBeDefined();
      const itemsize = Number(t.dtype.slice(2));
      expect(zarray!.shape, path).toEqual(t.shape);
      expect(zarray!.chunks, path).toEqual(t.chunks ?? t.shape.map((s) => Math.max(s, 1)));
      expect(zarray!.order).toBe('C');
      if (t.kind === 'O') {
        expect(zarray!.dtype, path).toBe('|O');
        expect(zarray!.fill_value, path).toBeNull();
      } else {
        expect(zarray!.dtype, path).toBe(t.dtype);
        expect(zarray!.fill_value, path).toEqual(t.layout === 'compact' ? null : t.fill_value);
        const codecs = expectedCodecs(t.filters, itemsize);
        expect(zarray!.compressor, path).toEqual(codecs.compressor);
        expect(zarray!.filters, path).toEqual(codecs.filters);
      }
      expect(result.metadata.get(`${path}/.zattrs`), path).toEqual({ ...t.attrs, _ARRAY_DIMENSIONS: t.dims });
    }
  });

  it('references exactly the stored chunks h5py reports', async () => {
    const result = scans.get(name)!;
    const whole = readFileSync(join(dir, name));
    const unknownOffsets: string[] = [];
    for (const [path, t] of Object.entries(truth[name]!.datasets)) {
      if (t.kind === 'O' || t.layout === 'compact') continue;
      const ours = [...result.chunks.keys()].filter((k) => k.startsWith(`${path}/`) && !k.slice(path.length + 1).includes('/')).sort();
      const expected = t.storage.map((c) => `${path}/${c.index.join('.')}`).sort();
      expect(ours, path).toEqual(expected);
      for (const c of t.storage) {
        const where = `${path} ${c.index}`;
        const ref = result.chunks.get(`${path}/${c.index.join('.')}`)!;
        expect(sha256(await referencedBytes(name, ref)), where).toBe(c.sha256);
        if (c.offset === null) unknownOffsets.push(where);
        if (ref.kind === 'range') {
          expect(ref.length, where).toBe(c.size);
          if (c.offset !== null) expect(ref.offset, where).toBe(c.offset);
          expect(c.size).toBeGreaterThanOrEqual(500);
        } else {
          expect(ref.kind).toBe('inline');
          expect(ref.kind === 'inline' && ref.data.length, where).toBe(c.size);
          expect(c.size).toBeLessThan(500);
          if (c.offset !== null) {
            expect(Buffer.from(ref.kind === 'inline' ? ref.data : []).equals(whole.subarray(c.offset, c.offset + c.size)), where).toBe(true);
          }
        }
      }
    }
    // only where HDF5 1.10's own chunk query is wrong (extensible array, unlimited dimension 1)
    expect(
      unknownOffsets.every((w) => w.startsWith('earray_dim1 ')),
      unknownOffsets.join(', '),
    ).toBe(true);
  });

  it('decodes to the values h5py reads', async () => {
    const result = scans.get(name)!;
    for (const [path, t] of Object.entries(truth[name]!.datasets)) {
      if (!result.metadata.has(`${path}/.zarray`)) continue;
      if (t.kind === 'O') {
        const zarray = result.metadata.get(`${path}/.zarray`) as Record<string, JsonValue>;
        const ref = result.chunks.get(`${path}/${(zarray.shape as number[]).map(() => 0).join('.') || '0'}`)!;
        const doc = JSON.parse(Buffer.from(await referencedBytes(name, ref)).toString('ascii')) as JsonValue[];
        expect(doc.slice(-2), path).toEqual(['|O', t.shape]);
        expect(doc.slice(0, -2).flat(10), path).toEqual(t.values_list);
        continue;
      }
      const fill = Buffer.from(t.hdf5_fill!, 'base64');
      const bytes = await assemble(name, result, path, fill);
      expect(sha256(bytes), path).toBe(t.values!.sha256);
    }
  });
});

describe('scanHdf5 errors', () => {
  async function scan(name: string): Promise<ScanResult> {
    const file = await fileRangeReader(join(dir, name));
    try {
      return await scanHdf5(file.read, { url: name, fileSize: file.size });
    } finally {
      await file.close();
    }
  }

  it('rejects a truncated file', async () => {
    await expect(scan('truncated.nc')).rejects.toThrow(ReferenceFormatError);
    await expect(scan('truncated.nc')).rejects.toThrow(/truncated\.nc.*truncated/);
  });

  it('rejects a file that is not HDF5', async () => {
    await expect(scan('not_hdf5.txt')).rejects.toThrow(/not_hdf5\.txt: not an HDF5 file/);
  });

  it('names the variable and filter it cannot map', async () => {
    await expect(scan('h5_lzf.h5')).rejects.toThrow(ReferenceFormatError);
    await expect(scan('h5_lzf.h5')).rejects.toThrow(/variable "squashed".*32000 \(lzf\)/);
  });

  it('names the variable whose storage it cannot express', async () => {
    await expect(scan('h5_virtual.h5')).rejects.toThrow(/h5_virtual\.h5: variable "virtual": virtual datasets are not supported/);
  });
});

describe('extensible array with paged data blocks', () => {
  it('finds all 160,000 chunks, each the byte written', async () => {
    const path = join(dir, 'h5_earray_paged.h5');
    const count = Number(execFileSync(PYTHON, ['-c', `import h5py; print(h5py.File(${JSON.stringify(path)}, 'r')['earray_paged'].id.get_num_chunks())`]).toString());
    expect(count).toBe(160000);
    const file = await fileRangeReader(path);
    try {
      const result = await scanHdf5(file.read, { url: 'p.h5' });
      expect(result.chunks.size).toBe(count);
      for (let i = 0; i < count; i++) {
        const ref = result.chunks.get(`earray_paged/${i}`);
        if (ref?.kind !== 'inline' || ref.data.length !== 1 || ref.data[0] !== i % 251) throw new Error(`chunk ${i}: ${JSON.stringify(ref)}`);
      }
    } finally {
      await file.close();
    }
  });
});

describe('inline threshold', () => {
  it('inlines nothing at 0 and every chunk below the threshold', async () => {
    const file = await fileRangeReader(join(dir, 'h5_plain.h5'));
    try {
      const none = await scanHdf5(file.read, { url: 'x.h5', inlineThreshold: 0 });
      const inline = [...none.chunks.values()].filter((r) => r.kind === 'inline');
      // only compact data and embedded strings stay inline
      expect(inline.length).toBe(2);
      const all = await scanHdf5(file.read, { url: 'x.h5', inlineThreshold: 1 << 20 });
      expect([...all.chunks.values()].every((r) => r.kind === 'inline')).toBe(true);
    } finally {
      await file.close();
    }
  });
});

describe('F11: HDF5 structures declaring huge lengths', () => {
  /** An Hdf5File (offsets and lengths of 8 bytes) over `bytes` followed by zeros up to `size`; records the longest read. */
  function sparseFile(bytes: Uint8Array, size: number): { file: Hdf5File; longest: () => number } {
    let longest = 0;
    const read = async (offset: number, length: number): Promise<Uint8Array> => {
      if (offset + length > size) throw new ReferenceFormatError('read past the end');
      longest = Math.max(longest, length);
      const out = new Uint8Array(length);
      if (offset < bytes.length) out.set(bytes.subarray(offset, Math.min(bytes.length, offset + length)));
      return out;
    };
    const superblock = { version: 2, position: 0, base: 0, offsetSize: 8, lengthSize: 8, rootAddress: 0, endOfFile: size };
    return { file: new Hdf5File('hostile.h5', read, superblock, size), longest: () => longest };
  }

  it('refuses a local heap whose data segment declares 2^40 bytes, reading only its header', async () => {
    const heap = new Uint8Array(32);
    const view = new DataView(heap.buffer);
    heap.set([0x48, 0x45, 0x41, 0x50]); // HEAP, version 0
    view.setBigUint64(8, 2n ** 40n, true); // data segment size
    view.setBigUint64(24, 64n, true); // data segment address
    const { file, longest } = sparseFile(heap, 2 ** 41);
    await expect(readLocalHeap(file, 0)).rejects.toThrow(
      /^hostile\.h5: local heap data segment at 64 declares 1099511627776 bytes, more than the 64 MiB the scanner reads at once/,
    );
    expect(longest()).toBeLessThanOrEqual(32);
  });

  it('refuses a version 1 object header block of 4 GiB, and one past the end of the file', async () => {
    const header = new Uint8Array(16);
    const view = new DataView(header.buffer);
    header[0] = 1; // version 1
    view.setUint32(8, 0xffffffff, true); // header size
    const big = sparseFile(header, 2 ** 33);
    await expect(readObjectHeader(big.file, 0)).rejects.toThrow(/object header at 0: message block at 16 declares 4294967295 bytes, more than the 64 MiB/);
    expect(big.longest()).toBeLessThanOrEqual(16);
    view.setUint32(8, 1000, true);
    const short = sparseFile(header, 100);
    await expect(readObjectHeader(short.file, 0)).rejects.toThrow(
      /truncated or corrupt file: object header at 0: message block at 16 needs 1000 bytes, past the end of the file \(100 bytes\)/,
    );
  });

  it('refuses a global heap collection larger than the read limit', async () => {
    const collection = new Uint8Array(16);
    collection.set([0x47, 0x43, 0x4f, 0x4c, 1]); // GCOL, version 1
    new DataView(collection.buffer).setBigUint64(8, 2n ** 32n, true);
    const { file } = sparseFile(collection, 2 ** 40);
    await expect(new GlobalHeap(file).object(0, 1)).rejects.toThrow(/global heap collection at 0 declares 4294967296 bytes, more than the 64 MiB/);
  });
});

describe('prototype names in ingested files', () => {
  it('keeps a NetCDF-4 variable "__proto__" with attribute "constructor", and a global "__proto__", as own keys', async () => {
    const path = join(dir, 'proto_names.nc');
    execFileSync(PYTHON, [
      '-c',
      [
        'import sys, netCDF4',
        'd = netCDF4.Dataset(sys.argv[1], "w")',
        'd.createDimension("x", 3)',
        'v = d.createVariable("__proto__", "f4", ("x",))',
        'v[:] = [1.5, 2.5, 3.5]',
        'v.setncattr("constructor", "ctor text")',
        'v.setncattr("prototype", 2.0)',
        'd.setncattr("__proto__", "global proto")',
        'c = d.createVariable("constructor", "i4", ("x",))',
        'c[:] = [4, 5, 6]',
        'c.setncattr("__proto__", "p")',
        'd.close()',
      ].join('\n'),
      path,
    ]);
    const file = await fileRangeReader(path);
    let result: ScanResult;
    try {
      result = await scanHdf5(file.read, { url: 'proto_names.nc', fileSize: file.size });
    } finally {
      await file.close();
    }
    expect([...result.metadata.keys()]).toEqual(expect.arrayContaining(['__proto__/.zarray', '__proto__/.zattrs', 'constructor/.zarray', 'constructor/.zattrs']));
    const globals = result.metadata.get('.zattrs') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(globals)).toBe(Object.prototype);
    expect(Object.hasOwn(globals, '__proto__') && globals.__proto__).toBe('global proto');
    const attrs = result.metadata.get('__proto__/.zattrs') as Record<string, JsonValue>;
    expect(Object.keys(attrs).sort()).toEqual(['_ARRAY_DIMENSIONS', 'constructor', 'prototype']);
    expect(attrs.constructor).toBe('ctor text');
    expect(JSON.parse(result.metadataText!.get('__proto__/.zattrs')!)).toEqual({ constructor: 'ctor text', prototype: 2, _ARRAY_DIMENSIONS: ['x'] });
    expect(result.metadataText!.get('__proto__/.zattrs')).toContain('"prototype": 2.0');
    expect(Object.keys(JSON.parse(result.metadataText!.get('constructor/.zattrs')!)).sort()).toEqual(['_ARRAY_DIMENSIONS', '__proto__']);
    expect(result.metadata.get('__proto__/.zarray')).toMatchObject({ shape: [3], dtype: '<f4' });
  });
});
