import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { JsonValue } from '../kerchunk/reference.js';
import type { NcFile } from './netcdf-writer.js';

/** Keys of a store written here: group documents, `var/.zarray`, `var/.zattrs`, `var/0.0.0`. */
export const STORE_KEY = /^(?:\.zmetadata|\.zgroup|\.zattrs|[A-Za-z_][A-Za-z0-9_.-]{0,127}\/(?:\.zarray|\.zattrs|\d{1,9}(?:\.\d{1,9}){0,31}))$/;

/**
 * Writes the same content as `writeNetcdf4` as a Zarr v2 directory store with consolidated
 * metadata: stored (packed) values, zlib chunks split along the first dimension, `_FillValue`
 * as the array's `fill_value` (as xarray writes it), `_ARRAY_DIMENSIONS` for the names. Returns
 * the bytes written.
 */
export async function writeZarrStore(dir: string, file: NcFile): Promise<number> {
  await mkdir(dir, { recursive: true });
  let bytes = 0;
  const put = async (key: string, data: Uint8Array | string): Promise<void> => {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    bytes += body.byteLength;
    await writeFile(join(dir, key), body);
  };
  const metadata: Record<string, JsonValue> = { '.zgroup': { zarr_format: 2 }, '.zattrs': { ...file.attrs } };
  for (const variable of file.variables) {
    const shape = variable.dims.map((d) => file.dims.find((x) => x.name === d)?.size ?? 0);
    const first = shape.length === 0 ? 1 : Math.max(1, Math.min(shape[0] as number, variable.chunks?.[0] ?? (shape[0] as number)));
    const chunks = shape.length === 0 ? [] : [first, ...shape.slice(1).map((n) => Math.max(1, n))];
    const attrs: Record<string, JsonValue> = { ...variable.attrs, _ARRAY_DIMENSIONS: [...variable.dims] };
    const fill = attrs._FillValue;
    delete attrs._FillValue;
    const zarray = {
      zarr_format: 2,
      shape,
      chunks,
      dtype: variable.dtype.replace(/^>/, '<'), // values are read in native (little-endian) order
      compressor: { id: 'zlib', level: 4 },
      fill_value: fill === undefined ? null : fill,
      filters: null,
      order: 'C',
    };
    metadata[`${variable.name}/.zarray`] = zarray;
    metadata[`${variable.name}/.zattrs`] = attrs;
    await mkdir(join(dir, variable.name), { recursive: true });
    await put(`${variable.name}/.zarray`, JSON.stringify(zarray));
    await put(`${variable.name}/.zattrs`, JSON.stringify(attrs));
    const bytesPer = variable.data.BYTES_PER_ELEMENT;
    const rowElements = shape.slice(1).reduce((a, b) => a * b, 1);
    const all = Buffer.from(variable.data.buffer, variable.data.byteOffset, variable.data.byteLength);
    const count = shape.length === 0 ? 1 : Math.ceil((shape[0] as number) / first);
    for (let index = 0; index < count; index += 1) {
      const start = index * first * rowElements * bytesPer;
      const slab = all.subarray(start, Math.min(all.byteLength, start + first * rowElements * bytesPer));
      // the last chunk along the first dimension is padded to a whole chunk (Zarr v2)
      const whole = Buffer.alloc(first * rowElements * bytesPer);
      slab.copy(whole);
      const key = shape.length === 0 ? '0' : [index, ...shape.slice(1).map(() => 0)].join('.');
      await put(`${variable.name}/${key}`, deflateSync(shape.length === 0 ? slab : whole, { level: 4 }));
    }
  }
  await put('.zgroup', JSON.stringify({ zarr_format: 2 }));
  await put('.zattrs', JSON.stringify(file.attrs));
  await put('.zmetadata', JSON.stringify({ zarr_consolidated_format: 1, metadata }));
  return bytes;
}
