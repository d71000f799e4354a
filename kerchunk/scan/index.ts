export { isNetcdf3, scanNetcdf3 } from './netcdf3.js';
export { type FileRangeReader, type FileRangeReaderOptions, fileRangeReader, type RangeReader } from './range-reader.js';
export { type ScanFileOptions, scanFile } from './scan-file.js';
export { type ScanOptions, type ScanResult, scanHdf5 } from './scan-hdf5.js';
