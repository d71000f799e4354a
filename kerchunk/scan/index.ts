export { fileRangeReader, type FileRangeReader, type FileRangeReaderOptions, type RangeReader } from './range-reader.js';
export { scanHdf5, type ScanOptions, type ScanResult } from './scan-hdf5.js';
export { scanNetcdf3, isNetcdf3 } from './netcdf3.js';
export { scanFile, type ScanFileOptions } from './scan-file.js';
