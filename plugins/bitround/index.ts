import { BITROUND_ATTRIBUTE } from '../../cf/quantize.js';
import type { NumericArray } from '../../kerchunk/array-values.js';
import { bitRoundValuesInPlace } from '../../kerchunk/codecs/bitround.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import type { StratoPlugin } from '../../server/plugin.js';
import { ProcessingConfigError, type StageArray, type StageStep } from '../../server/stage.js';

const ALL = '*';

/**
 * `processing.keepbits: N` (every float data variable) or `{var: N, ...}`: lossy rounding of the
 * float mantissa to N bits, bit for bit as numcodecs.BitRound, except that the fill value, NaN
 * and ±inf are kept exactly. Coordinates and their CF bounds (`time_bnds`, `climatology`) are
 * never rounded: 10 bits of "hours since 1850" would move a cell edge by days. The advertised
 * metadata needs no filter: clients read plain (rounded) floats. Variable names come from the
 * references, so the setting is looked up in a Map (`constructor` is a legal NetCDF name).
 */
export const bitroundPlugin: StratoPlugin = {
  name: 'bitround',
  version: '1.0.0',
  stage: {
    key: 'keepbits',
    configure(setting) {
      const keepbits = parseKeepbits(setting);
      return (array: StageArray): StageStep | undefined => {
        const bits = keepbits.get(array.name) ?? keepbits.get(ALL);
        if (bits === undefined || array.isCoordinate || array.isBounds || array.dtype.kind !== 'f') return undefined;
        const mantissa = array.dtype.size === 4 ? 23 : 52;
        if (bits >= mantissa) return undefined;
        const fill = typeof array.fillValue === 'number' ? array.fillValue : undefined;
        return {
          metadata: (meta) => meta,
          // lossy means labelled: netCDF-C's attribute for the same operation (nc_def_var_quantize, BitRound)
          attributes: (source) => roundingAttributes(source, bits),
          // in place: the processed view gives each stage a chunk of its own
          values: (chunk: NumericArray) => {
            bitRoundValuesInPlace(chunk as Float32Array | Float64Array, bits, { fillValue: fill ?? null, keepNaN: true });
            return chunk;
          },
          // the same rounding on a codec thread (transcode.ts: bitRoundInPlace, fill value and NaN kept)
          valueStep: { kind: 'bitround', keepbits: bits, fillValue: fill ?? null },
        };
      };
    },
  },
};

function parseKeepbits(setting: JsonValue | undefined): Map<string, number> {
  if (setting === undefined || setting === null) return new Map();
  const check = (bits: JsonValue | undefined, where: string): number => {
    if (typeof bits !== 'number' || !Number.isSafeInteger(bits) || bits < 0 || bits > 52) {
      throw new ProcessingConfigError(`"${where}" must be an integer from 0 to 52 (mantissa bits kept)`);
    }
    return bits;
  };
  if (typeof setting === 'number') return new Map([[ALL, check(setting, 'processing.keepbits')]]);
  if (typeof setting !== 'object' || Array.isArray(setting)) {
    throw new ProcessingConfigError('"processing.keepbits" must be a number or map variables to numbers');
  }
  return new Map(Object.entries(setting).map(([name, bits]) => [name, check(bits, `processing.keepbits.${name}`)]));
}

/**
 * The attributes of an array bit-rounded to `bits` in the processed view: netCDF-C's record of
 * the operation; a source `comment` that speaks of rounding is kept and completed with what the
 * processed view did, so it cannot be read as describing the served values.
 */
export function roundingAttributes(source: Readonly<Record<string, JsonValue>>, bits: number): Record<string, JsonValue> {
  const attributes: Record<string, JsonValue> = { [BITROUND_ATTRIBUTE]: bits };
  const comment = Object.hasOwn(source, 'comment') ? source.comment : undefined;
  if (typeof comment === 'string' && /round|bits|quantiz/i.test(comment)) {
    attributes.comment = `${comment} (source); strato processed view: mantissa rounded to ${bits} bits (BitRound)`;
  }
  return attributes;
}
