import { describe, expect, it } from 'vitest';
import { isCfTimeUnits, isoDuration, timeCoder } from './time-units.js';

/** RFC 3339 timestamps of CF time values: what the STAC plugin had as `cfTimeDecoder(...).decode`. */
const cfTimeDecoder = (units: string, calendar?: string) => {
  const coder = timeCoder(units, calendar);
  return coder && { decode: (value: number) => coder.iso(value) };
};
const decode = (units: string, calendar: string | undefined, value: number) => cfTimeDecoder(units, calendar)?.decode(value);

describe('CF time as RFC 3339 timestamps', () => {
  it('standard calendar after 1582: plain Gregorian arithmetic', () => {
    expect(decode('days since 2000-01-01', 'standard', 0)).toBe('2000-01-01T00:00:00Z');
    expect(decode('days since 2000-01-01 00:00:00', 'gregorian', 0.5)).toBe('2000-01-01T12:00:00Z');
    expect(decode('days since 2000-01-01', undefined, 59)).toBe('2000-02-29T00:00:00Z');
    expect(decode('hours since 1990-01-01T06:00:00Z', 'standard', 18)).toBe('1990-01-02T00:00:00Z');
    expect(decode('seconds since 1970-01-01 00:00:00', 'standard', 86_400)).toBe('1970-01-02T00:00:00Z');
    expect(decode('minutes since 2000-1-1', 'standard', 90)).toBe('2000-01-01T01:30:00Z');
    expect(decode('hours since 2000-01-01 00:00:00 +01:00', 'standard', 0)).toBe('1999-12-31T23:00:00Z');
    expect(decode('days since 2000-01-01 UTC', 'standard', 1)).toBe('2000-01-02T00:00:00Z');
  });

  it('standard calendar is Julian before 1582-10-15 (real instants, written proleptic Gregorian)', () => {
    expect(decode('days since 1582-10-04', 'standard', 1)).toBe('1582-10-15T00:00:00Z');
    expect(decode('days since 0001-01-01', 'standard', 0)).toBe('0000-12-30T00:00:00Z');
    expect(decode('days since 1582-10-04', 'proleptic_gregorian', 1)).toBe('1582-10-05T00:00:00Z');
    expect(decode('days since 0001-01-01', 'proleptic_gregorian', 0)).toBe('0001-01-01T00:00:00Z');
    expect(decode('days since 2000-01-01', 'julian', 0)).toBe('2000-01-14T00:00:00Z');
  });

  it('model calendars keep their labels; labels Gregorian lacks move to the end of February', () => {
    expect(decode('days since 2000-01-01', 'noleap', 59)).toBe('2000-03-01T00:00:00Z');
    expect(decode('days since 2000-01-01', '365_day', 365)).toBe('2001-01-01T00:00:00Z');
    expect(decode('hours since 2001-02-27 00:00:00', 'noleap', 78)).toBe('2001-03-02T06:00:00Z');
    expect(decode('days since 2001-01-01', 'all_leap', 59)).toBe('2001-02-28T00:00:00Z');
    expect(decode('days since 2001-01-01', '366_day', 60)).toBe('2001-03-01T00:00:00Z');
    expect(decode('days since 2000-01-01', '360_day', 59)).toBe('2000-02-29T00:00:00Z');
    expect(decode('days since 2001-01-01', '360_day', 58.5)).toBe('2001-02-28T12:00:00Z');
    expect(decode('days since 2001-01-01', '360_day', 60)).toBe('2001-03-01T00:00:00Z');
    expect(decode('days since 2001-01-01', '360_day', 360)).toBe('2002-01-01T00:00:00Z');
    expect(decode('months since 2000-01-01', '360_day', 1)).toBe('2000-02-01T00:00:00Z');
    expect(decode('days since 2000-01-01', 'noleap', -1)).toBe('1999-12-31T00:00:00Z');
  });

  it('rejects what it cannot decode', () => {
    expect(cfTimeDecoder('months since 2000-01-01', 'standard')).toBeUndefined();
    expect(cfTimeDecoder('days since 2000-01-01', 'none')).toBeUndefined();
    expect(cfTimeDecoder('days since yesterday', 'standard')).toBeUndefined();
    expect(cfTimeDecoder('fortnights since 2000-01-01', 'standard')).toBeUndefined();
    expect(decode('days since 2000-01-01', 'standard', NaN)).toBeUndefined();
    expect(decode('days since 2000-01-01', 'standard', 1e9)).toBeUndefined();
    expect(isCfTimeUnits('days since 2000-01-01')).toBe(true);
    expect(isCfTimeUnits('K')).toBe(false);
  });

  it('steps as ISO 8601 durations', () => {
    expect(isoDuration(1, 'D')).toBe('P1D');
    expect(isoDuration(0.25, 'D')).toBe('PT6H');
    expect(isoDuration(6, 'H')).toBe('PT6H');
    expect(isoDuration(30, 'M')).toBe('PT30M');
    expect(isoDuration(1, 'MO')).toBe('P1M');
    expect(isoDuration(0, 'D')).toBeUndefined();
  });
});
