import type { NumericArray } from '../array-values.js';
import { type ElementType, elementType, loadValues } from '../dtype.js';
import { CodecError, UnsupportedCodecError } from './codec.js';
import type { CodecOptions } from './options.js';

/** A numeric dtype option (`dtype`, `astype`, ...) of a filter; f2 and non-numeric dtypes are unsupported. */
export function numericOption(options: CodecOptions, name: string, fallback?: string): { text: string; type: ElementType } {
  const text = options.string(name, fallback);
  const type = elementType(text);
  if (!type || (type.kind === 'f' && type.size === 2)) throw options.unsupported(`${name} ${JSON.stringify(text)} (numeric dtypes only, no float16)`);
  return { text, type };
}

/** Values of `data` as `type`, or a CodecError when the length does not fit. */
export function valuesOf(codecId: string, data: Uint8Array, type: ElementType): NumericArray {
  if (data.byteLength % type.size !== 0) {
    throw new CodecError(codecId, `${data.byteLength} bytes are not a whole number of ${type.size}-byte elements`);
  }
  return loadValues(data, type);
}

export function isBig(values: NumericArray): values is BigInt64Array | BigUint64Array {
  return values instanceof BigInt64Array || values instanceof BigUint64Array;
}

export function unsupported(codecId: string, detail: string): UnsupportedCodecError {
  return new UnsupportedCodecError(codecId, detail);
}
