import { isObject } from './stac-types.js';

/** netCDF-C's attribute for BitRound (the explicit mantissa bits kept), as the processed view writes it. */
export const BITROUND_ATTRIBUTE = '_QuantizeBitRoundNumberOfSignificantBits';

/**
 * What the processed view does lossily, read from its own consolidated metadata (`.zmetadata` of
 * `/zarr`): every array whose `.zattrs` carry netCDF-C's `_QuantizeBitRoundNumberOfSignificantBits`
 * (the processed view writes it when it bit-rounds) with the mantissa bits it keeps. The metadata
 * is the record of what is served, so the STAC Item cannot say something else.
 */
export function keepbitsFromZmetadata(zmetadata: unknown): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  const documents = isObject(zmetadata) && isObject(zmetadata.metadata) ? zmetadata.metadata : undefined;
  if (!documents) return out;
  for (const [key, attrs] of Object.entries(documents)) {
    if (!key.endsWith('/.zattrs') || !isObject(attrs) || !Object.hasOwn(attrs, BITROUND_ATTRIBUTE)) continue;
    const bits = attrs[BITROUND_ATTRIBUTE];
    if (typeof bits === 'number' && Number.isInteger(bits)) out.set(key.slice(0, -'/.zattrs'.length), bits);
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One sentence for the processed view's asset: which variables are rounded, to how many bits. */
export function describeKeepbits(keepbits: ReadonlyMap<string, number>): string {
  if (keepbits.size === 0) return 'Lossless: no variable is bit-rounded; values are those of the raw view.';
  const list = [...keepbits].map(([name, bits]) => `${name} to ${bits} mantissa bit${bits === 1 ? '' : 's'}`).join(', ');
  return (
    `Lossy: bit-rounded (BitRound, as numcodecs and netCDF-C's nc_def_var_quantize): ${list}; ` +
    `each such variable carries the attribute ${BITROUND_ATTRIBUTE}. The raw view (asset "kerchunk") has the original values.`
  );
}
