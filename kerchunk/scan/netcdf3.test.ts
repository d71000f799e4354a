import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpTruth, makeFixtures, removeFixtures } from '../../test/fixtures/hdf5/fixtures.js';
import { ReferenceFormatError, type JsonValue } from '../reference.js';
import { scanNetcdf3 } from './netcdf3.js';
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
interface TruthNc3 { format: string; attrs: Record<string, JsonValue>; variables: Record<string, TruthVariable> }

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
        const rest = tv.shape.slice(1).map(() => '.0').join('');
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
