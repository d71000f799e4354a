import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../kerchunk/reference.js';
import { packingOf, unpack } from './packing.js';

describe('CF packing', () => {
  it('unpacks with scale_factor and add_offset, masking fill, missing and non-finite values', () => {
    const packing = packingOf({ scale_factor: 0.5, add_offset: 200, _FillValue: -999, missing_value: [-1, -2] }, -32768);
    expect(packing).toEqual({ missing: [-999, -1, -2, -32768], scale: 0.5, offset: 200 });
    expect(Array.from(unpack(Int16Array.from([0, 2, -999, -1, -2, -32768]), packing))).toEqual([200, 201, NaN, NaN, NaN, NaN]);
    expect(Array.from(unpack(Float32Array.from([1, NaN, Infinity, -Infinity]), packingOf({}, undefined)))).toEqual([1, NaN, NaN, NaN]);
    expect(Array.from(unpack(BigInt64Array.from([5n, 7n]), packingOf({ missing_value: 7 }, 5n)))).toEqual([NaN, NaN]);
  });

  it('masks values outside valid_min / valid_max / valid_range (stored values, before unpacking)', () => {
    expect(Array.from(unpack(Int8Array.from([-5, 0, 5, 10]), packingOf({ valid_range: [0, 5], scale_factor: 10 }, undefined)))).toEqual([NaN, 0, 50, NaN]);
    expect(Array.from(unpack(Int8Array.from([-5, 0, 10]), packingOf({ valid_min: 0 }, undefined)))).toEqual([NaN, 0, 10]);
    expect(Array.from(unpack(Int8Array.from([-5, 0, 10]), packingOf({ valid_max: 0, valid_range: [-1, 20] }, undefined)))).toEqual([NaN, 0, NaN]);
  });

  it('reads a "NaN" fill value, array attributes, and attributes only as own properties', () => {
    expect(packingOf({ _FillValue: 'NaN', scale_factor: [2, 3] }, undefined)).toEqual({ missing: [NaN], scale: 2, offset: 0 });
    const inherited = JSON.parse('{"__proto__": {"scale_factor": 10, "_FillValue": 1}}') as Record<string, JsonValue>;
    expect(packingOf(inherited, undefined)).toEqual({ missing: [], scale: 1, offset: 0 });
    expect(packingOf(Object.create({ scale_factor: 10 }) as Record<string, JsonValue>, undefined)).toEqual({ missing: [], scale: 1, offset: 0 });
  });
});
