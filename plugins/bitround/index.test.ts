import { describe, expect, it } from 'vitest';
import { BITROUND_ATTRIBUTE } from '../../cf/quantize.js';
import { roundingAttributes } from './index.js';

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
