import { describe, expect, it } from 'vitest';
import { AttributeJsonError, parseAttributes } from './attribute-json.js';

describe('parseAttributes', () => {
  it('keeps whether each number was written as a float or an integer', () => {
    const members = parseAttributes('{"scale_factor": 2.0, "count": 2, "tiny": 1e-7, "range": [150.0, 350], "neg": -3}');
    expect(members.map(([name, value]) => [name, value.kind === 'number' ? value.float : value.kind])).toEqual([
      ['scale_factor', true],
      ['count', false],
      ['tiny', true],
      ['range', 'list'],
      ['neg', false],
    ]);
    const range = members[3]?.[1];
    expect(range?.kind === 'list' && range.items.map((i) => (i.kind === 'number' ? [i.value, i.float] : null))).toEqual([
      [150, true],
      [350, false],
    ]);
  });

  it('reads strings with escapes, booleans, null, nested objects and bare NaN/Infinity', () => {
    const members = Object.fromEntries(parseAttributes('{"s": "a \\"q\\" \\u00e9\\n", "t": true, "n": null, "o": {"a": [1, {"b": 2}]}, "nan": NaN, "inf": -Infinity}'));
    expect(members.s).toEqual({ kind: 'string', value: 'a "q" é\n' });
    expect(members.t).toEqual({ kind: 'bool', value: true });
    expect(members.n).toEqual({ kind: 'null' });
    expect(members.o).toEqual({ kind: 'object', text: '{"a": [1, {"b": 2}]}' });
    expect(members.nan).toMatchObject({ kind: 'number', float: true });
    expect(members.inf).toMatchObject({ kind: 'number', value: -Infinity });
  });

  it('keeps document order and accepts an empty object', () => {
    expect(parseAttributes('{"b": 1, "a": 2}').map(([name]) => name)).toEqual(['b', 'a']);
    expect(parseAttributes(' {} ')).toEqual([]);
  });

  it('refuses what is not a JSON object', () => {
    expect(() => parseAttributes('[1]')).toThrow(AttributeJsonError);
    expect(() => parseAttributes('{"a": }')).toThrow(AttributeJsonError);
    expect(() => parseAttributes('{"a": 1} x')).toThrow(AttributeJsonError);
    expect(() => parseAttributes('{"a": "open')).toThrow(AttributeJsonError);
  });
});
