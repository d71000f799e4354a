import type { NumericArray } from '../array-values.js';
import { castValues, createValues, type ElementType, storeValues } from '../dtype.js';
import { type Codec, type CodecConfig, type CodecContext, checkDecodedSize } from './codec.js';
import { isBig, numericOption, valuesOf } from './numeric-filter.js';
import { CodecOptions } from './options.js';

/**
 * numcodecs Delta (`dtype`, `astype` default dtype): encoding keeps the first element and then the
 * differences, computed in `dtype` (ints wrap) and cast to `astype`; decoding is a cumulative sum
 * computed in `dtype` (as numpy's `cumsum(out=...)`), 64-bit ints with BigInt.
 */
export function deltaCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const dtype = numericOption(options, 'dtype');
  const astype = numericOption(options, 'astype', dtype.text);
  options.done();
  return {
    config,
    encode: async (data) => {
      const values = valuesOf('delta', data, dtype.type);
      const diffs = createValues(dtype.type, values.length);
      differences(values, diffs);
      return store(diffs, astype.type);
    },
    decode: async (data) => {
      checkDecodedSize('delta', (data.byteLength / astype.type.size) * dtype.type.size, context.maxDecodedBytes);
      const encoded = valuesOf('delta', data, astype.type);
      const terms = createValues(dtype.type, encoded.length);
      castValues(encoded, terms);
      cumulativeSum(terms);
      return storeValues(terms, dtype.type);
    },
  };
}

/** `out[0] = values[0]`, `out[i] = values[i] - values[i-1]` in the values' own type. */
function differences(values: NumericArray, out: NumericArray): void {
  const n = values.length;
  if (n === 0) return;
  if (isBig(values)) {
    const big = out as BigInt64Array;
    big[0] = values[0] as bigint;
    for (let i = 1; i < n; i++) big[i] = (values[i] as bigint) - (values[i - 1] as bigint);
    return;
  }
  // Int stores wrap (as numpy's int arithmetic), Float32 stores round (float32 subtraction is exact
  // in float64 then rounded once).
  const num = out as Float64Array;
  const src = values as Float64Array;
  num[0] = src[0] as number;
  for (let i = 1; i < n; i++) num[i] = (src[i] as number) - (src[i - 1] as number);
}

/** In-place running sum in the array's own type (wrapping ints, float32 rounding each step). */
function cumulativeSum(values: NumericArray): void {
  const n = values.length;
  if (isBig(values)) {
    const big = values as BigInt64Array;
    for (let i = 1; i < n; i++) big[i] = (big[i - 1] as bigint) + (big[i] as bigint);
    return;
  }
  const num = values as Float64Array;
  for (let i = 1; i < n; i++) num[i] = (num[i - 1] as number) + (num[i] as number);
}

function store(values: NumericArray, type: ElementType): Uint8Array {
  const out = createValues(type, values.length);
  castValues(values, out);
  return storeValues(out, type);
}
