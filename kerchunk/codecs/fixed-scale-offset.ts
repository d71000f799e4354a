import type { NumericArray } from '../array-values.js';
import { castValues, createValues, storeValues } from '../dtype.js';
import { type Codec, type CodecConfig, type CodecContext, checkDecodedSize } from './codec.js';
import { isBig, numericOption, valuesOf } from './numeric-filter.js';
import { CodecOptions } from './options.js';

/**
 * numcodecs FixedScaleOffset (`offset`, `scale`, `dtype`, `astype` default dtype):
 * encode `round((x - offset) * scale)` (round half to even) cast to `astype`; decode
 * `e / scale + offset` cast to `dtype`. The arithmetic follows numpy's types: float32 data (or a
 * float32 `astype` when decoding) computes in float32 with offset and scale rounded to float32,
 * everything else in float64. Integer `dtype` data is encoded in float64 as well, which equals
 * numpy's integer arithmetic unless that overflows.
 */
export function fixedScaleOffsetCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const offset = options.number('offset', 0);
  const scale = options.number('scale', 1);
  const dtype = numericOption(options, 'dtype');
  const astype = numericOption(options, 'astype', dtype.text);
  options.done();
  return {
    config,
    encode: async (data) => {
      const values = floats(valuesOf('fixedscaleoffset', data, dtype.type));
      const out = new Float64Array(values.length);
      if (dtype.type.kind === 'f' && dtype.type.size === 4) {
        const offset32 = Math.fround(offset);
        const scale32 = Math.fround(scale);
        for (let i = 0; i < values.length; i++) {
          out[i] = roundHalfEven(Math.fround(Math.fround((values[i] as number) - offset32) * scale32));
        }
      } else {
        for (let i = 0; i < values.length; i++) out[i] = roundHalfEven(((values[i] as number) - offset) * scale);
      }
      const encoded = createValues(astype.type, out.length);
      castValues(out, encoded);
      return storeValues(encoded, astype.type);
    },
    decode: async (data) => {
      checkDecodedSize('fixedscaleoffset', (data.byteLength / astype.type.size) * dtype.type.size, context.maxDecodedBytes);
      const encoded = floats(valuesOf('fixedscaleoffset', data, astype.type));
      const out = new Float64Array(encoded.length);
      if (astype.type.kind === 'f' && astype.type.size === 4) {
        const offset32 = Math.fround(offset);
        const scale32 = Math.fround(scale);
        for (let i = 0; i < encoded.length; i++) out[i] = Math.fround(Math.fround((encoded[i] as number) / scale32) + offset32);
      } else {
        for (let i = 0; i < encoded.length; i++) out[i] = (encoded[i] as number) / scale + offset;
      }
      const decoded = createValues(dtype.type, out.length);
      castValues(out, decoded);
      return storeValues(decoded, dtype.type);
    },
  };
}

/** numpy's `around`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Plain numbers of any numeric typed array (64-bit ints converted, as numpy does to float64). */
function floats(values: NumericArray): Float64Array | Float32Array | Int32Array {
  if (!isBig(values)) return values as Float64Array;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number(values[i] as bigint);
  return out;
}
