import { createHash } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClassicAttribute, classicNetcdf } from '../../test/adversarial/classic-netcdf.js';
import { dumpTruth, makeFixtures, removeFixtures } from '../../test/fixtures/hdf5/fixtures.js';
import { type JsonValue, ReferenceFormatError } from '../reference.js';
import { MAX_NETCDF3_CHUNKS, scanNetcdf3 } from './netcdf3.js';
import { fileRangeReader } from './range-reader.js';
import type { ScanResult } from './scan-hdf5.js';

interface TruthVariable {
  dtype: string;
  shape: number[];
  dims: string[];
  record: boolean;
  attrs: Record<string, JsonValue>;
  fill_value: JsonValue;
  values: { sha256: string; nbytes: number };
}
interface TruthNc3 {
  format: string;
  attrs: Record<string, JsonValue>;
  variables: Record<string, TruthVariable>;
}

const FILES = ['nc3_classic.nc', 'nc3_64bit.nc', 'nc3_cdf5.nc', 'nc3_one_record.nc'];
let dir: string;
let truth: Record<string, TruthNc3>;

beforeAll(() => {
  dir = makeFixtures();
  truth = dumpTruth<TruthNc3>(dir, FILES);
});
afterAll(() => removeFixtures(dir));

async function scan(name: string, inlineThreshold?: number): Promise<ScanResult> {
  const file = await fileRangeReader(join(dir, name));
  try {
    return await scanNetcdf3(file.read, { url: name, fileSize: file.size, ...(inlineThreshold === undefined ? {} : { inlineThreshold }) });
  } finally {
    await file.close();
  }
}

describe.each(FILES)('scanNetcdf3 %s', (name) => {
  it('writes metadata like the netCDF library reads it', async () => {
    const result = await scan(name);
    const t = truth[name]!;
    expect(result.metadata.get('.zgroup')).toEqual({ zarr_format: 2 });
    expect(result.metadata.get('.zattrs')).toEqual(t.attrs);
    for (const [v, tv] of Object.entries(t.variables)) {
      const zarray = result.metadata.get(`${v}/.zarray`) as Record<string, JsonValue>;
      expect(zarray, v).toEqual({
        chunks: tv.record ? [1, ...tv.shape.slice(1)] : tv.shape,
        compressor: null,
        dtype: tv.dtype,
        fill_value: tv.fill_value ?? null,
        filters: null,
        order: 'C',
        shape: tv.shape,
        zarr_format: 2,
      });
      expect(result.metadata.get(`${v}/.zattrs`), v).toEqual({ ...tv.attrs, _ARRAY_DIMENSIONS: tv.dims });
    }
  });

  it('references bytes that are the values the netCDF library reads', async () => {
    const whole = readFileSync(join(dir, name));
    for (const threshold of [0, 500]) {
      const result = await scan(name, threshold);
      for (const [v, tv] of Object.entries(truth[name]!.variables)) {
        const parts: Uint8Array[] = [];
        const count = tv.record ? tv.shape[0]! : 1;
        const rest = tv.shape
          .slice(1)
          .map(() => '.0')
          .join('');
        for (let r = 0; r < count; r++) {
          const key = tv.record ? `${v}/${r}${rest}` : `${v}/${tv.shape.map(() => 0).join('.') || '0'}`;
          const ref = result.chunks.get(key);
          expect(ref, key).toBeDefined();
          if (ref!.kind === 'range') {
            expect(threshold === 0 || ref!.length >= threshold).toBe(true);
            parts.push(whole.subarray(ref!.offset, ref!.offset + ref!.length));
          } else if (ref!.kind === 'inline') {
            expect(threshold).toBeGreaterThan(ref!.data.length);
            parts.push(ref!.data);
          }
        }
        const sha = createHash('sha256');
        for (const p of parts) sha.update(p);
        expect(sha.digest('hex'), v).toBe(tv.values.sha256);
      }
    }
  });
});

describe('scanNetcdf3 errors', () => {
  it('rejects a cut header', async () => {
    const bytes = readFileSync(join(dir, 'nc3_classic.nc')).subarray(0, 40);
    const read = async (offset: number, length: number) => {
      if (offset + length > bytes.length) throw new ReferenceFormatError('short read');
      return bytes.subarray(offset, offset + length);
    };
    await expect(scanNetcdf3(read, { url: 'cut.nc', fileSize: bytes.length })).rejects.toThrow(/cut\.nc: truncated or corrupt NetCDF-3 header/);
  });
});

/** 60 bytes of classic header: no dimensions, a global text attribute "a" declaring 2 GiB of values, no variables. */
function hostileHeader(): Uint8Array {
  const bytes = new Uint8Array(60);
  const view = new DataView(bytes.buffer);
  bytes.set([0x43, 0x44, 0x46, 0x01]); // CDF, classic
  // numrecs 0; dimension list absent (0, 0)
  view.setUint32(16, 0x0c); // NC_ATTRIBUTE
  view.setUint32(20, 1); // one global attribute
  view.setUint32(24, 1); // name length 1
  bytes[28] = 0x61; // "a" (padded to 4)
  view.setUint32(32, 2); // NC_CHAR
  view.setUint32(36, 0x80000000); // 2 GiB of characters
  // variable list absent (0, 0) and zeros up to 60 bytes
  return bytes;
}

/** A reader over `bytes` followed by zeros up to `size` (a sparse file), recording the longest read. */
function sparseReader(bytes: Uint8Array, size: number): { read: (offset: number, length: number) => Promise<Uint8Array>; longest: () => number } {
  let longest = 0;
  return {
    read: async (offset, length) => {
      if (offset + length > size) throw new ReferenceFormatError('read past the end');
      longest = Math.max(longest, length);
      const out = new Uint8Array(length);
      if (offset < bytes.length) out.set(bytes.subarray(offset, Math.min(bytes.length, offset + length)));
      return out;
    },
    longest: () => longest,
  };
}

describe('F11: a 60-byte NetCDF-3 header declaring a 2 GiB attribute', () => {
  it('is refused by the header size limit when the file is large enough to hold it, reading no more than 64 KiB', async () => {
    const reader = sparseReader(hostileHeader(), 3 * 2 ** 30);
    const started = performance.now();
    const error = await scanNetcdf3(reader.read, { url: 'hostile.nc', fileSize: 3 * 2 ** 30 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ReferenceFormatError);
    expect(error?.message).toBe(
      'hostile.nc: corrupt NetCDF-3 header: the 2147483648 values of global attribute "a" would take 2147483648 bytes at offset 40, past the 64 MiB a header may have',
    );
    expect(reader.longest()).toBeLessThanOrEqual(65536);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('is refused against the bytes the file has left when the file is the 60 bytes', async () => {
    const reader = sparseReader(hostileHeader(), 60);
    const error = await scanNetcdf3(reader.read, { url: 'hostile.nc', fileSize: 60 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      /^hostile\.nc: truncated or corrupt NetCDF-3 header: the 2147483648 values of global attribute "a" would take 2147483648 bytes at offset 40, but the file has 20 bytes left$/,
    );
    expect(reader.longest()).toBe(60);
  });

  it('names the file as told (name), and refuses a 3 GiB sparse file on disk without reading it', async () => {
    const file = join(dir, 'hostile-sparse.nc');
    writeFileSync(file, hostileHeader());
    truncateSync(file, 3 * 2 ** 30); // sparse: no disk space used
    const reader = await fileRangeReader(file);
    try {
      await expect(scanNetcdf3(reader.read, { url: '../data/hostile-sparse.nc', name: file, fileSize: reader.size })).rejects.toThrow(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: corrupt NetCDF-3 header: .*past the 64 MiB a header may have$`),
      );
      // The range reader refuses a read Node could not do (> 2 GiB aborts the process), before allocating it.
      await expect(reader.read(0, 2 ** 31 + 1)).rejects.toThrow(/refusing to read 2147483649 bytes at offset 0: more than the 256 MiB a scan reads at once/);
    } finally {
      await reader.close();
    }
  });

  it('checks declared counts of dimensions, variables and dimension ids before looping over them', async () => {
    const counts = (at: number, value: number, extra: (view: DataView) => void = () => {}): Uint8Array => {
      const bytes = new Uint8Array(64);
      const view = new DataView(bytes.buffer);
      bytes.set([0x43, 0x44, 0x46, 0x01]);
      view.setUint32(at, at === 8 ? 0x0a : at === 24 ? 0x0b : 0x0c);
      view.setUint32(at + 4, value);
      extra(view);
      return bytes;
    };
    const dimensions = counts(8, 0xffffffff);
    const variables = counts(24, 0xffffffff); // after absent dimension and attribute lists
    // One variable "v" of rank 2^32-1.
    const rank = counts(24, 1, (view) => {
      view.setUint32(32, 1);
      view.setUint8(36, 0x76);
      view.setUint32(40, 0xffffffff);
    });
    const cases: [Uint8Array, RegExp][] = [
      [dimensions, /the list of 4294967295 dimensions would take at least 34359738360 bytes at offset 16, past the 64 MiB/],
      [variables, /the list of 4294967295 variables would take at least \d+ bytes at offset 32, past the 64 MiB/],
      [rank, /the 4294967295 dimension ids of variable "v" would take 17179869180 bytes at offset 44, past the 64 MiB/],
    ];
    for (const [bytes, message] of cases) {
      const reader = sparseReader(bytes, 2 ** 40);
      const started = performance.now();
      await expect(scanNetcdf3(reader.read, { url: 'counts.nc', fileSize: 2 ** 40 })).rejects.toThrow(message);
      expect(performance.now() - started).toBeLessThan(500);
      expect(reader.longest()).toBeLessThanOrEqual(65536);
    }
  });
});

describe('F11: declared record counts', () => {
  it('refuses more record chunks than MAX_NETCDF3_CHUNKS before making any', async () => {
    // numrecs 20 million of a one-byte record variable "v": 20 MB of data, 20 million references.
    const bytes = new Uint8Array(80);
    const view = new DataView(bytes.buffer);
    bytes.set([0x43, 0x44, 0x46, 0x01]);
    view.setUint32(4, 20_000_000); // numrecs
    [0x0a, 1, 1].forEach((v, i) => view.setUint32(8 + 4 * i, v)); // dimension list: one, name length 1
    bytes[20] = 0x72; // "r", length 0 (the record dimension) at 24
    [0x0b, 1, 1].forEach((v, i) => view.setUint32(36 + 4 * i, v)); // variable list: one, name length 1
    bytes[48] = 0x76; // "v"
    view.setUint32(52, 1); // rank 1, dimension id 0 at 56, attribute list absent at 60
    [1, 4, 80].forEach((v, i) => view.setUint32(68 + 4 * i, v)); // NC_BYTE, vsize, begin
    const reader = sparseReader(bytes, 80 + 20_000_000);
    const started = performance.now();
    await expect(scanNetcdf3(reader.read, { url: 'records.nc', fileSize: 80 + 20_000_000 })).rejects.toThrow(
      `records.nc: record variable "v" has 20000000 records: more than the ${MAX_NETCDF3_CHUNKS} chunk references a NetCDF-3 scan makes`,
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('prototype names in ingested files', () => {
  /** An object whose own keys are exactly `entries` (an object literal's `__proto__:` would set the prototype). */
  const own = <T>(entries: [string, T][]): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    return out;
  };

  it('keeps variables and attributes named __proto__, constructor, prototype as ordinary own keys', async () => {
    const bytes = classicNetcdf({
      dims: own([['__proto__', 3]]),
      attributes: own([
        ['__proto__', 'global proto'],
        ['title', 'prototype names'],
      ]),
      variables: [
        {
          name: '__proto__',
          dims: ['__proto__'],
          type: 'float',
          values: [1, 2, 3],
          attributes: own<ClassicAttribute>([
            ['constructor', 'ctor text'],
            ['prototype', { type: 'double', values: [1.5] }],
          ]),
        },
        { name: 'constructor', dims: ['__proto__'], type: 'int', values: [4, 5, 6], attributes: own([['__proto__', 'p']]) },
      ],
    });
    const read = async (offset: number, length: number) => bytes.subarray(offset, offset + length);
    const result = await scanNetcdf3(read, { url: 'proto.nc', fileSize: bytes.length, inlineThreshold: 0 });
    expect([...result.metadata.keys()]).toEqual(['.zgroup', '.zattrs', '__proto__/.zarray', '__proto__/.zattrs', 'constructor/.zarray', 'constructor/.zattrs']);
    const globals = result.metadata.get('.zattrs') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(globals)).toBe(Object.prototype);
    expect(Object.keys(globals)).toEqual(['__proto__', 'title']);
    expect(Object.hasOwn(globals, '__proto__') && globals.__proto__).toBe('global proto');
    const attrs = result.metadata.get('__proto__/.zattrs') as Record<string, JsonValue>;
    expect(Object.keys(attrs)).toEqual(['constructor', 'prototype', '_ARRAY_DIMENSIONS']);
    expect(attrs.constructor).toBe('ctor text');
    expect(JSON.parse(result.metadataText!.get('__proto__/.zattrs')!)).toEqual({ constructor: 'ctor text', prototype: 1.5, _ARRAY_DIMENSIONS: ['__proto__'] });
    expect(result.metadataText!.get('__proto__/.zattrs')).toContain('"prototype": 1.5');
    expect(Object.keys(JSON.parse(result.metadataText!.get('constructor/.zattrs')!))).toEqual(['__proto__', '_ARRAY_DIMENSIONS']);
    expect(JSON.parse(result.metadataText!.get('.zattrs')!)).toHaveProperty(['__proto__'], 'global proto');
    expect(result.chunks.get('__proto__/0')).toEqual({ kind: 'range', url: 'proto.nc', offset: expect.any(Number), length: 12 });
  });
});
