import { type Calendar, type CalendarDate, calendarNamed, gregorianDayNumber } from './calendar.js';

/**
 * CF time coordinates: numbers counted in `<unit> since <reference date>` in a calendar, decoded
 * to calendar dates (what a plot label shows), to RFC 3339 timestamps (what STAC needs) and
 * encoded back.
 *
 * Units: weeks, days, hours, minutes, seconds, milliseconds, microseconds (udunits spellings);
 * months and years only in `360_day` (30 and 360 days, as cftime does).
 *
 * Timestamps: in the real-world calendars (standard, proleptic_gregorian, julian) the real
 * instant, written in the proleptic Gregorian calendar RFC 3339 uses (so a Julian date before
 * 1582-10-15 reads ten days later). Model calendars (noleap, all_leap, 360_day) have labels, not
 * instants: the label is kept (2001-03-01 in noleap stays 2001-03-01); a label the Gregorian
 * calendar lacks (29 February of a common year under all_leap, 29/30 February under 360_day)
 * moves to the last day of February, keeping its time of day. That mapping never reverses the
 * order of two labels, so extents (minimum, maximum) stay extents.
 */

const MS_PER_DAY = 86_400_000;

/** A time unit as its ISO 8601 duration letter ('M' is minutes, 'MO' months), or ms / us. */
export type TimeUnit = 'W' | 'D' | 'H' | 'M' | 'S' | 'ms' | 'us' | 'MO' | 'Y';

const UNITS: ReadonlyArray<readonly [RegExp, TimeUnit, number]> = [
  [/^(weeks?|w)$/, 'W', 7 * MS_PER_DAY],
  [/^(days?|d)$/, 'D', MS_PER_DAY],
  [/^(hours?|hrs?|h)$/, 'H', 3_600_000],
  [/^(minutes?|mins?)$/, 'M', 60_000],
  [/^(seconds?|secs?|s)$/, 'S', 1000],
  [/^(milliseconds?|msecs?|ms)$/, 'ms', 1],
  [/^(microseconds?|usecs?|us)$/, 'us', 0.001],
];

/** True when `units` look like CF time units ("days since 2000-01-01"). */
export function isCfTimeUnits(units: unknown): units is string {
  return typeof units === 'string' && /^\s*\S+\s+since\s+\S/i.test(units);
}

/** The reference date of CF time units, with its UTC offset in minutes. */
export interface TimeReference {
  readonly date: CalendarDate;
  readonly offsetMinutes: number;
}

/**
 * "2000-01-01", "2000-1-1 0:0:0", "2000-01-01T06:00:00Z", "1990-01-01 00:00:00 +05:30",
 * "... UTC", also "2000" and "2000-01" (the first day of that year or month).
 */
export function parseReferenceDate(text: string): TimeReference | undefined {
  const match = /^(-?\d{1,6})(?:-(\d{1,2})(?:-(\d{1,2})(?:(?:T|\s+)(\d{1,2})(?::(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?)?)?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/i.exec(
    text.trim(),
  );
  if (!match) return undefined;
  const [, y, mo = '1', d = '1', h = '0', mi = '0', s = '0', zone] = match;
  const date: CalendarDate = { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s) };
  if (date.month < 1 || date.month > 12 || date.day < 1 || date.day > 31) return undefined;
  let offsetMinutes = 0;
  if (zone && /^[+-]/.test(zone)) {
    const zoneMatch = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone);
    if (!zoneMatch) return undefined;
    offsetMinutes = (zoneMatch[1] === '-' ? -1 : 1) * (Number(zoneMatch[2]) * 60 + Number(zoneMatch[3] ?? 0));
  }
  return { date, offsetMinutes };
}

/** Numeric time values of one variable, in its units and calendar. */
export interface TimeCoder {
  readonly calendar: Calendar;
  /** The unit's ISO 8601 duration letter. */
  readonly unit: TimeUnit;
  /** Milliseconds of one unit (days → 86 400 000). */
  readonly unitMs: number;
  readonly reference: TimeReference;
  /** The calendar date (UTC) of a value, to whole milliseconds; undefined for NaN or infinite values. */
  date(value: number): CalendarDate | undefined;
  /** The value of a calendar date (UTC): the inverse of `date`. */
  value(date: CalendarDate): number;
  /** The RFC 3339 timestamp of a value ('Z'), or undefined when it cannot be one (NaN, years outside 0000..9999). */
  iso(value: number): string | undefined;
}

const timeOfDayMs = (date: CalendarDate) => Math.round(((date.hour * 60 + date.minute) * 60 + date.second) * 1000);

/**
 * A coder for CF `units` and `calendar` (absent: standard), or undefined when they are not CF
 * time units this module can decode (unknown unit or calendar, months or years outside 360_day).
 */
export function timeCoder(units: unknown, calendarName?: unknown): TimeCoder | undefined {
  if (typeof units !== 'string') return undefined;
  // Trimmed first: with the surrounding whitespace left to the pattern, a lazy `(.+?)\s*$` over a
  // long run of spaces backtracks quadratically.
  const match = /^(\S+)\s+since\s+(.+)$/i.exec(units.trim());
  const calendar = calendarNamed(calendarName);
  if (!match || !calendar) return undefined;
  const reference = parseReferenceDate(match[2] ?? '');
  if (!reference) return undefined;
  const unitName = (match[1] ?? '').toLowerCase();
  let found: readonly [TimeUnit, number] | undefined;
  for (const [pattern, unit, ms] of UNITS) if (pattern.test(unitName)) found = [unit, ms];
  if (!found && calendar.name === '360_day') {
    if (/^months?$/.test(unitName)) found = ['MO', 30 * MS_PER_DAY];
    if (/^(years?|yr)$/.test(unitName)) found = ['Y', 360 * MS_PER_DAY];
  }
  if (!found) return undefined;
  const [unit, unitMs] = found;
  const msOf = (date: CalendarDate) => calendar.dayNumber(date.year, date.month, date.day) * MS_PER_DAY + timeOfDayMs(date);
  const referenceMs = msOf(reference.date) - reference.offsetMinutes * 60_000;
  // whole milliseconds, so 0.1-day steps do not print as 02:23:59.999
  const totalMs = (value: number) => Math.round(referenceMs + value * unitMs);
  const dateAt = (total: number): CalendarDate => {
    const days = Math.floor(total / MS_PER_DAY);
    const rest = total - days * MS_PER_DAY;
    const hour = Math.floor(rest / 3_600_000);
    const minute = Math.floor((rest - hour * 3_600_000) / 60_000);
    return { ...calendar.dateOf(days), hour, minute, second: (rest - hour * 3_600_000 - minute * 60_000) / 1000 };
  };
  return {
    calendar,
    unit,
    unitMs,
    reference,
    date(value) {
      const total = totalMs(value);
      return Number.isFinite(total) ? dateAt(total) : undefined;
    },
    value: (date) => (msOf(date) - referenceMs) / unitMs,
    iso(value) {
      const total = totalMs(value);
      if (!Number.isFinite(total)) return undefined;
      if (calendar.real) return isoOfInstant(total);
      const label = dateAt(total);
      const lastDay = gregorianMonthLength(label.year, label.month);
      const day = gregorianDayNumber(label.year, label.month, Math.min(label.day, lastDay));
      return isoOfInstant(day * MS_PER_DAY + timeOfDayMs(label));
    },
  };
}

function gregorianMonthLength(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 ? (leap ? 29 : 28) : ([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 31);
}

const MAX_MS = 8.64e15;

/** RFC 3339 in UTC of milliseconds since 1970; years outside 0000..9999 cannot be written in RFC 3339 and give undefined. */
export function isoOfInstant(ms: number): string | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_MS) return undefined;
  const date = new Date(Math.round(ms));
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/**
 * An ISO 8601 duration for a regular step of `count` units ("P1D", "PT6H"), or undefined when the
 * step is not a whole number of units.
 */
export function isoDuration(count: number, unit: TimeUnit): string | undefined {
  if (!Number.isFinite(count) || count <= 0) return undefined;
  const whole = Math.round(count);
  if (Math.abs(count - whole) > 1e-9 * Math.max(1, count)) {
    if (unit === 'D') return isoDuration(count * 24, 'H');
    if (unit === 'H') return isoDuration(count * 60, 'M');
    if (unit === 'M') return isoDuration(count * 60, 'S');
    if (unit === 'S') return `PT${Number(count.toPrecision(12))}S`;
    return undefined;
  }
  switch (unit) {
    case 'W':
      return `P${whole}W`;
    case 'D':
      return `P${whole}D`;
    case 'MO':
      return `P${whole}M`;
    case 'Y':
      return `P${whole}Y`;
    case 'H':
      return `PT${whole}H`;
    case 'M':
      return `PT${whole}M`;
    case 'S':
      return `PT${whole}S`;
    case 'ms':
      return `PT${whole / 1000}S`;
    case 'us':
      return `PT${whole / 1_000_000}S`;
  }
}
