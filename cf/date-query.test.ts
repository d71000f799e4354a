import { describe, expect, it } from 'vitest';
import type { CalendarDate } from './calendar.js';
import { dateMatches, formatDate, parseDateQuery } from './date-query.js';
import { timeCoder } from './time-units.js';

/** Calendar dates (plot labels) of CF time values: what the plots plugin had as `timeDecoder`. */
const timeDecoder = (units: string, calendar?: string) => {
  const coder = timeCoder(units, calendar);
  return coder && { decode: (value: number) => coder.date(value) as CalendarDate };
};

describe('CF time as calendar dates', () => {
  it('decodes standard, noleap and 360-day calendars', () => {
    const days = timeDecoder('days since 2001-01-01 00:00:00', 'standard');
    expect(formatDate(days!.decode(0.5))).toBe('2001-01-01 12:00');
    expect(formatDate(days!.decode(59))).toBe('2001-03-01');
    expect(formatDate(timeDecoder('hours since 1900-01-01', 'gregorian')!.decode(24 * 366 * 4))).toBe('1904-01-05');
    expect(formatDate(timeDecoder('days since 2000-01-01', 'noleap')!.decode(59))).toBe('2000-03-01');
    expect(formatDate(timeDecoder('days since 2000-01-01', '360_day')!.decode(59))).toBe('2000-02-30');
    expect(formatDate(timeDecoder('seconds since 1970-01-01T00:00:00Z')!.decode(86_400 + 90))).toBe('1970-01-02 00:01:30');
    expect(timeDecoder('months since 2000-01-01')).toBeUndefined();
    expect(timeDecoder('K')).toBeUndefined();
    // The plots plugin had no julian calendar (this asserted undefined); cf/ decodes every CF calendar.
    expect(formatDate(timeDecoder('days since 2000-01-01', 'julian')!.decode(59))).toBe('2000-02-29');
    expect(timeDecoder('days since 2000-01-01', 'none')).toBeUndefined();
  });

  it('matches ISO dates at their own precision', () => {
    const date = timeDecoder('days since 2001-01-01')!.decode(31.5);
    expect(dateMatches(date, parseDateQuery('2001-02-01')!)).toBe(true);
    expect(dateMatches(date, parseDateQuery('2001-02')!)).toBe(true);
    expect(dateMatches(date, parseDateQuery('2001')!)).toBe(true);
    expect(dateMatches(date, parseDateQuery('2001-02-01T12:00')!)).toBe(true);
    expect(dateMatches(date, parseDateQuery('2001-02-01T00')!)).toBe(false);
    expect(dateMatches(date, parseDateQuery('2001-02-02')!)).toBe(false);
    expect(parseDateQuery('2001-13-01')).toBeUndefined();
    expect(parseDateQuery('yesterday')).toBeUndefined();
  });
});
