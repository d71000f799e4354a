import { describe, expect, it } from 'vitest';
import { parseContentRange } from './content-range.js';

describe('parseContentRange', () => {
  it('parses known and unknown sizes', () => {
    expect(parseContentRange('bytes 0-99/1234')).toEqual({ start: 0, end: 99, size: 1234 });
    expect(parseContentRange('bytes 10-10/*')).toEqual({ start: 10, end: 10, size: undefined });
    expect(parseContentRange(' Bytes 5-9/10 ')).toEqual({ start: 5, end: 9, size: 10 });
  });

  it('rejects missing, malformed and inconsistent values', () => {
    for (const value of [undefined, '', 'bytes */100', 'bytes 9-5/100', 'bytes 0-100/100', 'items 0-1/2', 'bytes 0-1', 'bytes 0-99999999999999999999/*']) {
      expect(parseContentRange(value)).toBeUndefined();
    }
  });
});
