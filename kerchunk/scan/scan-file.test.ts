import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixtures, removeFixtures } from '../../test/fixtures/hdf5/fixtures.js';
import { ReferenceFormatError } from '../reference.js';
import { fileRangeReader } from './range-reader.js';
import { scanFile } from './scan-file.js';

let dir: string;
beforeAll(() => {
  dir = makeFixtures();
});
afterAll(() => removeFixtures(dir));

describe('scanFile', () => {
  it('dispatches on the magic bytes', async () => {
    const nc4 = await scanFile(join(dir, 'nc4_basic.nc'), { url: 'file://x/nc4_basic.nc' });
    expect(nc4.metadata.get('tas/.zarray')).toMatchObject({ shape: [9, 5, 7], compressor: { id: 'zlib', level: 4 } });
    const ranges = [...nc4.chunks.values()].filter((r) => r.kind === 'range');
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.every((r) => r.kind === 'range' && r.url === 'file://x/nc4_basic.nc')).toBe(true);
    const nc3 = await scanFile(join(dir, 'nc3_64bit.nc'));
    expect(nc3.metadata.get('temp/.zarray')).toMatchObject({ shape: [6, 3, 4], chunks: [1, 3, 4], dtype: '>f4' });
    const ub = await scanFile(join(dir, 'h5_userblock.h5'), { inlineThreshold: 0 });
    const plain = ub.chunks.get('plain/0');
    expect(plain?.kind === 'range' && plain.offset).toBeGreaterThanOrEqual(512);
  });

  it('says clearly when a file is neither HDF5 nor NetCDF', async () => {
    await expect(scanFile(join(dir, 'not_hdf5.txt'))).rejects.toThrow(ReferenceFormatError);
    await expect(scanFile(join(dir, 'not_hdf5.txt'))).rejects.toThrow(/neither HDF5 \/ NetCDF-4 nor NetCDF-3/);
    const empty = join(dir, 'empty.nc');
    writeFileSync(empty, '');
    await expect(scanFile(empty)).rejects.toThrow(ReferenceFormatError);
  });

  it('rejects truncated files with the file named', async () => {
    await expect(scanFile(join(dir, 'truncated.nc'))).rejects.toThrow(/truncated\.nc: truncated or corrupt file/);
    const cut = join(dir, 'cut3.nc');
    writeFileSync(cut, readFileSync(join(dir, 'nc3_classic.nc')).subarray(0, 100));
    await expect(scanFile(cut)).rejects.toThrow(/cut3\.nc: truncated or corrupt/);
  });
});

describe('fileRangeReader', () => {
  it('reads any range through its block cache and refuses reads past the end', async () => {
    const path = join(dir, 'h5_latest.h5');
    const whole = readFileSync(path);
    const file = await fileRangeReader(path, { blockSize: 1024, maxBlocks: 4 });
    try {
      expect(file.size).toBe(whole.length);
      for (const [offset, length] of [
        [0, 8],
        [1000, 100],
        [1023, 2],
        [5000, 3000],
        [20000, 9000],
        [whole.length - 5, 5],
        [7, 0],
      ] as const) {
        expect(Buffer.from(await file.read(offset, length)).equals(whole.subarray(offset, offset + length)), `${offset}+${length}`).toBe(true);
      }
      await expect(file.read(whole.length - 2, 4)).rejects.toThrow(ReferenceFormatError);
      await expect(file.read(-1, 4)).rejects.toThrow(ReferenceFormatError);
    } finally {
      await file.close();
    }
  });
});
