/**
 * netCDF-C's record of lossy quantization (netCDF 4.9 `nc_def_var_quantize`, also written by CDO's
 * bitrounding): a variable rounded by BitRound carries this attribute, its value the number of
 * explicit mantissa bits kept (1..23 for float32, 1..52 for float64), the same number as
 * numcodecs' BitRound `keepbits`.
 */
export const BITROUND_ATTRIBUTE = '_QuantizeBitRoundNumberOfSignificantBits';
