import { ReferenceFormatError } from '../reference.js';
import { HttpSource } from '../sources/http-source.js';
import { findSignature } from './hdf5/file.js';
import { isNetcdf3, scanNetcdf3 } from './netcdf3.js';
import { fileRangeReader, httpRangeReader } from './range-reader.js';
import { type ScanResult, scanHdf5 } from './scan-hdf5.js';

export interface ScanFileOptions {
  /** What the references will say (default: the path as given). */
  readonly url?: string;
  /** Chunks stored in fewer bytes are inlined (default 500). */
  readonly inlineThreshold?: number;
  /** The http(s) source `http://…` and `https://…` paths are read through (default: a new one). */
  readonly http?: HttpSource;
}

/**
 * Scans a local HDF5 / NetCDF-4 or NetCDF-3 file into Zarr v2 metadata and chunk references,
 * choosing the reader by the file's magic bytes.
 */
export async function scanFile(path: string, options: ScanFileOptions = {}): Promise<ScanResult> {
  const remote = /^https?:\/\//i.test(path);
  const http = remote ? (options.http ?? new HttpSource()) : undefined;
  const file = http ? await httpRangeReader(path, http) : await fileRangeReader(path);
  try {
    const url = options.url ?? path;
    const scanOptions = { url, name: path, fileSize: file.size, ...(options.inlineThreshold === undefined ? {} : { inlineThreshold: options.inlineThreshold }) };
    const head = await file.read(0, Math.min(4, file.size));
    if (isNetcdf3(head)) return await scanNetcdf3(file.read, scanOptions);
    if ((await findSignature(file.read, file.size)) !== undefined) return await scanHdf5(file.read, scanOptions);
    throw new ReferenceFormatError(`${path}: neither HDF5 / NetCDF-4 nor NetCDF-3 (no HDF5 signature, no "CDF" magic)`);
  } finally {
    await file.close();
    if (http && http !== options.http) await http.close();
  }
}
