import { describe, expect, it } from 'vitest';
import { parseRange } from './range.js';

describe('parseRange', () => {
  it('serves the whole body without a usable header', () => {
    for (const header of [undefined, '', 'items=0-1', 'bytes=', 'bytes=-', 'bytes=0-1,3-4', 'bytes=a-b', 'bytes=5-2']) {
      expect(parseRange(header, 100)).toBeUndefined();
    }
  });
  it('resolves closed, open and suffix ranges, clipped to the body', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 10 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 100 });
    expect(parseRange('bytes=90-1000', 100)).toEqual({ start: 90, end: 100 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 100 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 100 });
  });
  it('says unsatisfiable for ranges wholly outside the body', () => {
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=100-200', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=99999999999999999999-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=99999999999999999999-99999999999999999999', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=100-99999999999999999999', 100)).toBe('unsatisfiable');
  });
  it('F12: clips a last position of any size to the body and takes a suffix of any size as all of it (RFC 9110 §14.1.2)', () => {
    expect(parseRange('bytes=0-99999999999999999999', 100)).toEqual({ start: 0, end: 100 });
    expect(parseRange('bytes=42-18446744073709551616', 100)).toEqual({ start: 42, end: 100 });
    expect(parseRange(`bytes=0-${'9'.repeat(400)}`, 100)).toEqual({ start: 0, end: 100 });
    expect(parseRange('bytes=0-9007199254740993', 100)).toEqual({ start: 0, end: 100 });
    expect(parseRange('bytes=-99999999999999999999', 100)).toEqual({ start: 0, end: 100 });
    expect(parseRange(`bytes=-${'9'.repeat(400)}`, 100)).toEqual({ start: 0, end: 100 });
    expect(parseRange('bytes=00000000000000000000000005-00000000000000000000000009', 100)).toEqual({ start: 5, end: 10 });
    // a last position before the first is an invalid range-spec, ignored, however large both are
    expect(parseRange('bytes=99999999999999999999-99999999999999999998', 100)).toBeUndefined();
  });
});
