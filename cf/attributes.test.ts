import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../kerchunk/reference.js';
import { attribute, numbers, stringAttribute, text } from './attributes.js';

describe('CF attribute reads', () => {
  it('read own properties only', () => {
    const attrs = JSON.parse('{"__proto__": {"units": "K"}, "long_name": " Air "}') as Record<string, JsonValue>;
    expect(attribute(attrs, '__proto__')).toEqual({ units: 'K' });
    expect(attribute(attrs, 'units')).toBeUndefined();
    expect(attribute(attrs, 'constructor')).toBeUndefined();
    expect(attribute(attrs, 'toString')).toBeUndefined();
    expect(stringAttribute(attrs, 'long_name')).toBe(' Air ');
    expect(text(attrs, 'long_name')).toBe('Air');
    expect(text({ units: '  ' }, 'units')).toBeUndefined();
    expect(stringAttribute({ units: 1 }, 'units')).toBeUndefined();
  });

  it('read numbers from numbers, arrays and "NaN"', () => {
    expect(numbers(1)).toEqual([1]);
    expect(numbers([1, [2, 'x'], 'NaN'])).toEqual([1, 2, NaN]);
    expect(numbers('1')).toEqual([]);
  });
});
