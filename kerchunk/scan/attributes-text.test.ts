import { describe, expect, it } from 'vitest';
import { attributesText, floatLiteral } from './attributes-text.js';

describe('attributesText', () => {
  it('keeps float attributes floats and leaves the rest as JSON', () => {
    const text = attributesText({ valid_range: [150, 350.5], scale_factor: 2, count: 3, units: 'K', fill: 'NaN' }, new Set(['valid_range', 'scale_factor', 'fill']));
    expect(text).toBe('{"valid_range": [150.0, 350.5], "scale_factor": 2.0, "count": 3, "units": "K", "fill": "NaN"}');
    expect(JSON.parse(text)).toEqual({ valid_range: [150, 350.5], scale_factor: 2, count: 3, units: 'K', fill: 'NaN' });
  });
  it('writes floats as Python does', () => {
    expect(floatLiteral(0)).toBe('0.0');
    expect(floatLiteral(-3)).toBe('-3.0');
    expect(floatLiteral(1e20)).toBe('1e+20');
    expect(floatLiteral(0.1)).toBe('0.1');
  });
});
