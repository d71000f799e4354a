import { describe, expect, it } from 'vitest';
import { type CalendarDate, calendarNamed, gregorianDateOf, gregorianDayNumber, julianDateOf, julianDayNumber } from './calendar.js';
import { formatDate } from './date-query.js';
import { timeCoder } from './time-units.js';

/** The dates of `values` in `units` and `calendar`, as plot labels. */
const dates = (units: string, calendar: string, values: number[]) => {
  const coder = timeCoder(units, calendar);
  if (!coder) throw new Error(`no coder for ${units} / ${calendar}`);
  return values.map((value) => formatDate(coder.date(value) as CalendarDate));
};
const midnight = (year: number, month: number, day: number): CalendarDate => ({ year, month, day, hour: 0, minute: 0, second: 0 });

// Expected values are what cftime 1.6 (Debian 12) gives for the same units and calendar;
// test/integration/cf-calendars.test.ts asks cftime itself for a wider set.
describe('CF calendars at their boundaries', () => {
  it('standard / gregorian: 1582-10-04 is followed by 1582-10-15', () => {
    for (const calendar of ['standard', 'gregorian', 'Gregorian', ' standard ']) {
      expect(dates('days since 1582-10-01', calendar, [0, 3, 4, 5, 14, 15])).toEqual(['1582-10-01', '1582-10-04', '1582-10-15', '1582-10-16', '1582-10-25', '1582-10-26']);
    }
    expect(dates('hours since 1582-10-04 12:00', 'standard', [0, 12, 24])).toEqual(['1582-10-04 12:00', '1582-10-15', '1582-10-15 12:00']);
    expect(timeCoder('days since 1582-10-04', 'standard')?.value(midnight(1582, 10, 15))).toBe(1);
  });

  it('1500 is a leap year in julian and standard, not in proleptic_gregorian', () => {
    expect(dates('days since 1500-02-28', 'standard', [0, 1, 2])).toEqual(['1500-02-28', '1500-02-29', '1500-03-01']);
    expect(dates('days since 1500-02-28', 'julian', [0, 1, 2])).toEqual(['1500-02-28', '1500-02-29', '1500-03-01']);
    expect(dates('days since 1500-02-28', 'proleptic_gregorian', [0, 1, 2])).toEqual(['1500-02-28', '1500-03-01', '1500-03-02']);
    expect(dates('days since 1500-01-01', 'gregorian', [0, 59, 60, 365, 366, 30_000])).toEqual([
      '1500-01-01',
      '1500-02-29',
      '1500-03-01',
      '1500-12-31',
      '1501-01-01',
      '1582-02-19',
    ]);
    expect(timeCoder('days since 1500-01-01', 'julian')?.value(midnight(1500, 3, 1))).toBe(60);
    expect(calendarNamed('julian')?.isLeapYear(1500)).toBe(true);
    expect(calendarNamed('standard')?.isLeapYear(1500)).toBe(true);
    expect(calendarNamed('standard')?.isLeapYear(1700)).toBe(false);
    expect(calendarNamed('proleptic_gregorian')?.isLeapYear(1500)).toBe(false);
  });

  it('julian and standard have no year 0; proleptic_gregorian has one', () => {
    expect(dates('days since 0001-01-01', 'julian', [-1, -366, -367])).toEqual(['-0001-12-31', '-0001-01-01', '-0002-12-31']);
    expect(dates('days since 0001-01-01', 'standard', [-1])).toEqual(['-0001-12-31']);
    expect(dates('days since 0001-01-01', 'proleptic_gregorian', [-1])).toEqual(['0000-12-31']);
    expect(dates('days since 1970-01-01', 'julian', [0])).toEqual(['1970-01-01']);
  });

  it('360_day months end on the 30th, February too', () => {
    expect(dates('days since 2000-01-01', '360_day', [29, 30, 59, 60, 359, 360])).toEqual(['2000-01-30', '2000-02-01', '2000-02-30', '2000-03-01', '2000-12-30', '2001-01-01']);
    expect(dates('months since 2000-01-01', '360_day', [1, 13])).toEqual(['2000-02-01', '2001-02-01']);
    expect(dates('years since 2000-01-01', '360_day', [1.5])).toEqual(['2001-07-01']);
  });

  it('noleap and all_leap: February has 28 and 29 days every year', () => {
    expect(dates('days since 2001-02-28', 'noleap', [0, 1, 365])).toEqual(['2001-02-28', '2001-03-01', '2002-02-28']);
    expect(dates('days since 2000-02-28', '365_day', [1])).toEqual(['2000-03-01']);
    expect(dates('days since 2001-02-28', 'all_leap', [0, 1, 366])).toEqual(['2001-02-28', '2001-02-29', '2002-02-28']);
    expect(dates('days since 2001-02-28', '366_day', [1])).toEqual(['2001-02-29']);
  });

  it('encodes dates back to the values they came from', () => {
    for (const calendar of ['standard', 'proleptic_gregorian', 'julian', 'noleap', 'all_leap', '360_day']) {
      const coder = timeCoder('hours since 1500-01-01 06:00', calendar);
      for (const value of [-1e6, -30.5, 0, 1, 24 * 30_000 + 0.25, 1e7]) {
        const date = coder?.date(value);
        expect(date && coder?.value(date), `${calendar} ${value}`).toBeCloseTo(value, 6);
      }
    }
  });

  it('day numbers of the Gregorian and Julian calendars agree with each other and with JavaScript dates', () => {
    expect(gregorianDayNumber(1970, 1, 1)).toBe(0);
    expect(julianDayNumber(1969, 12, 19)).toBe(0);
    expect(julianDayNumber(1582, 10, 5)).toBe(gregorianDayNumber(1582, 10, 15));
    for (const day of [-800_000, -141_428, -1, 0, 59, 11_016, 2_932_896]) {
      expect(gregorianDayNumber(...(Object.values(gregorianDateOf(day)) as [number, number, number]))).toBe(day);
      expect(julianDayNumber(...(Object.values(julianDateOf(day)) as [number, number, number]))).toBe(day);
      const js = new Date(day * 86_400_000);
      if (Number.isFinite(js.getTime())) {
        expect(gregorianDateOf(day)).toEqual({ year: js.getUTCFullYear(), month: js.getUTCMonth() + 1, day: js.getUTCDate() });
      }
    }
  });

  it('knows the CF calendar names, and only its own', () => {
    expect(calendarNamed(undefined)?.name).toBe('standard');
    expect(calendarNamed('')?.name).toBe('standard');
    expect(calendarNamed(7)?.name).toBe('standard');
    expect(calendarNamed('365_day')?.name).toBe('noleap');
    expect(calendarNamed('366_DAY')?.name).toBe('all_leap');
    for (const name of ['none', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) expect(calendarNamed(name), name).toBeUndefined();
  });
});
