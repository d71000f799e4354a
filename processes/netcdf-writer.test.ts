import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNetcdf4 } from './netcdf-writer.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-nc-test-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('writeNetcdf4', () => {
  it('dimension scales, packed values with typed CF attributes, "NaN" fill values as numbers', async () => {
    const path = join(dir, 'a.nc');
    await writeNetcdf4(path, {
      dims: [
        { name: 'time', size: 2 },
        { name: 'lat', size: 3 },
        { name: 'nv', size: 2 },
      ],
      attrs: { Conventions: 'CF-1.8' },
      variables: [
        { name: 'time', dims: ['time'], dtype: '<f8', data: new Float64Array([0, 1]), attrs: { units: 'days since 2000-01-01', calendar: 'noleap' } },
        { name: 'lat', dims: ['lat'], dtype: '<f4', data: new Float32Array([1, 2, 3]), attrs: { units: 'degrees_north' } },
        {
          name: 'pr',
          dims: ['time', 'lat'],
          dtype: '<i2',
          data: new Int16Array([1, 2, 3, -32767, 5, 6]),
          attrs: { _FillValue: -32767, scale_factor: 0.5, add_offset: 1 },
          chunks: [1, 3],
        },
        { name: 'tas', dims: ['time', 'lat'], dtype: '<f4', data: new Float32Array(6), attrs: { _FillValue: 'NaN', valid_range: [0, 400] } },
        { name: 'bnds', dims: ['time', 'nv'], dtype: '<f4', data: new Float32Array([0, 1, 1, 2]), attrs: {} },
      ],
    });
    await h5wasm.ready;
    const file = new h5wasm.File(path, 'r');
    try {
      const pr = file.get('pr') as InstanceType<typeof h5wasm.Dataset>;
      expect(Array.from(pr.value as Int16Array)).toEqual([1, 2, 3, -32767, 5, 6]);
      expect(pr.attrs._FillValue?.dtype).toBe('<h');
      expect(pr.attrs.scale_factor?.dtype).toBe('<d');
      expect(pr.get_attached_scales(1)).toEqual(['/lat']);
      const tas = file.get('tas') as InstanceType<typeof h5wasm.Dataset>;
      expect(tas.attrs._FillValue?.dtype).toBe('<f');
      expect(Number.isNaN(Number((tas.attrs._FillValue?.value as Float32Array | undefined)?.[0]))).toBe(true);
      expect(Array.from(tas.attrs.valid_range?.value as Float32Array)).toEqual([0, 400]);
      const nv = file.get('nv') as InstanceType<typeof h5wasm.Dataset>;
      expect(String(nv.attrs.NAME?.value)).toMatch(/^This is a netCDF dimension but not a netCDF variable\. +2$/);
    } finally {
      file.close();
    }
  });
});
