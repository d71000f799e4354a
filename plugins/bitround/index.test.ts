import { describe, expect, it } from 'vitest';
import { BITROUND_ATTRIBUTE } from '../../cf/quantize.js';
import type { NumericDtype } from '../../kerchunk/dtype.js';
import { parseNumericDtype } from '../../kerchunk/dtype.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import type { StageArray } from '../../server/stage.js';
import { bitroundPlugin, roundingAttributes } from './index.js';

describe('roundingAttributes', () => {
  it("records the bits kept under netCDF-C's attribute name", () => {
    expect(roundingAttributes({ units: 'K' }, 10)).toEqual({ [BITROUND_ATTRIBUTE]: 10 });
    expect(BITROUND_ATTRIBUTE).toBe('_QuantizeBitRoundNumberOfSignificantBits');
  });

  it('completes a source comment about rounding, and leaves other comments alone', () => {
    const out = roundingAttributes({ comment: 'synthetic; mantissa rounded to 12 bits' }, 10);
    expect(out.comment).toBe('synthetic; mantissa rounded to 12 bits (source); strato processed view: mantissa rounded to 10 bits (BitRound)');
    expect(roundingAttributes({ comment: 'from station data' }, 7)).toEqual({ [BITROUND_ATTRIBUTE]: 7 });
    expect(roundingAttributes(JSON.parse('{"__proto__": {"comment": "rounded"}}') as Record<string, string>, 7)).toEqual({ [BITROUND_ATTRIBUTE]: 7 });
  });
});

describe('bitroundPlugin stage', () => {
  const configure = (setting: JsonValue) => {
    const stage = bitroundPlugin.stage;
    if (!stage) throw new Error('bitround has a stage');
    return stage.configure(setting);
  };
  const array = (name: string, extra: Partial<StageArray> = {}): StageArray => ({
    name,
    dims: ['time', 'lat'],
    shape: [2, 3],
    isCoordinate: false,
    isBounds: false,
    dtype: parseNumericDtype('<f8') as NumericDtype,
    fillValue: undefined,
    ...extra,
  });

  it('rounds data variables but never coordinates or their CF bounds', () => {
    const steps = configure(10);
    expect(steps(array('tas'))).toBeDefined();
    expect(steps(array('time', { isCoordinate: true }))).toBeUndefined();
    expect(steps(array('time_bnds', { isBounds: true, dims: ['time', 'nv'] }))).toBeUndefined();
  });

  it('looks variable names up as data: `constructor` or `__proto__` get no setting of their own', () => {
    const steps = configure({ tas: 10 });
    expect(steps(array('tas'))).toBeDefined();
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) expect(steps(array(name))).toBeUndefined();
    const step = configure({ constructor: 4 })(array('constructor'));
    const values = new Float64Array([1.2345678]);
    step?.values?.(values);
    expect(values[0]).not.toBe(1.2345678);
    expect(Number.isFinite(values[0])).toBe(true);
  });
});
