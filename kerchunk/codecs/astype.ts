import { castValues, createValues, storeValues } from '../dtype.js';
import { type Codec, type CodecConfig, type CodecContext, checkDecodedSize } from './codec.js';
import { numericOption, valuesOf } from './numeric-filter.js';
import { CodecOptions } from './options.js';

/** numcodecs AsType (`encode_dtype`, `decode_dtype`): a numpy `astype` each way. */
export function astypeCodec(config: CodecConfig, context: CodecContext = {}): Codec {
  const options = new CodecOptions(config);
  const encodeType = numericOption(options, 'encode_dtype');
  const decodeType = numericOption(options, 'decode_dtype');
  options.done();
  const convert = (data: Uint8Array, from: typeof encodeType, to: typeof encodeType): Uint8Array => {
    const values = valuesOf('astype', data, from.type);
    const out = createValues(to.type, values.length);
    castValues(values, out);
    return storeValues(out, to.type);
  };
  return {
    config,
    encode: async (data) => convert(data, decodeType, encodeType),
    decode: async (data) => {
      checkDecodedSize('astype', (data.byteLength / encodeType.type.size) * decodeType.type.size, context.maxDecodedBytes);
      return convert(data, encodeType, decodeType);
    },
  };
}
