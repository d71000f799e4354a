/**
 * CF time coordinates ("<unit> since <reference>", with a `calendar`) turned into RFC 3339
 * timestamps for STAC.
 *
 * - standard / gregorian: the mixed Julian–Gregorian calendar of CF (Julian before 1582-10-15).
 *   The result is the real instant, written in the proleptic Gregorian calendar RFC 3339 uses.
 * - proleptic_gregorian: exact; julian: the real instant, as for standard.
 * - noleap / 365_day, all_leap / 366_day, 360_day: model calendars whose dates are labels, not
 *   instants. The label is kept (2001-03-01 in noleap stays 2001-03-01). A label that does not exist
 *   in the Gregorian calendar (29 February of a common year under all_leap, 29/30 February under
 *   360_day) moves to the last day of February, keeping its time of day; the mapping never
 *   reverses the order of two labels, so extents (minimum, maximum) stay extents.
 * - none, or an unknown calendar: no dates.
 *
 * Units: weeks, days, hours, minutes, seconds, milliseconds, microseconds (udunits spellings);
 * months and years only in 360_day (30 and 360 days, as cftime does).
 */

const MS_PER_DAY = 86_400_000;

const UNIT_MS: ReadonlyArray<[RegExp, number]> = [
  [/^(weeks?|w)$/, 7 * MS_PER_DAY],
  [/^(days?|d)$/, MS_PER_DAY],
  [/^(hours?|hrs?|h)$/, 3_600_000],
  [/^(minutes?|mins?)$/, 60_000],
  [/^(seconds?|secs?|s)$/, 1000],
  [/^(milliseconds?|msecs?|ms)$/, 1],
  [/^(microseconds?|usecs?|us)$/, 0.001],
];

type Calendar = 'mixed' | 'proleptic' | 'julian' | 'noleap' | 'all_leap' | '360_day';

const CALENDARS: Readonly<Record<string, Calendar>> = {
  standard: 'mixed',
  gregorian: 'mixed',
  proleptic_gregorian: 'proleptic',
  julian: 'julian',
  noleap: 'noleap',
  '365_day': 'noleap',
  all_leap: 'all_leap',
  '366_day': 'all_leap',
  '360_day': '360_day',
};

/** A date and time as written (a label in some calendar), with its UTC offset in minutes. */
export interface DateLabel {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** Milliseconds since the start of the day. */
  readonly timeMs: number;
}

/** Converts numeric time values of one variable to RFC 3339 timestamps. */
export interface CfTimeDecoder {
  /** The timestamp of a value (UTC, 'Z'), or undefined when it cannot be one (NaN, out of range). */
  decode(value: number): string | undefined;
  /** Milliseconds of one unit (days → 86 400 000). */
  readonly unitMs: number;
  /** The unit's name as ISO 8601 duration letter and whether it is a time (T) part. */
  readonly unit: 'W' | 'D' | 'H' | 'M' | 'S' | 'ms' | 'us' | 'MO' | 'Y';
}

/** True when `units` look like CF time units ("days since 2000-01-01"). */
export function isCfTimeUnits(units: unknown): units is string {
  return typeof units === 'string' && /^\s*\S+\s+since\s+\S/i.test(units);
}

/**
 * A decoder for CF `units` and `calendar` (default standard), or undefined when they are not
 * CF time units this module can decode.
 */
export function cfTimeDecoder(units: string, calendar = 'standard'): CfTimeDecoder | undefined {
  // Trimmed first: with the surrounding whitespace left to the pattern, a lazy `(.+?)\s*$` over a
  // long run of spaces backtracks quadratically.
  const match = /^(\S+)\s+since\s+(.+)$/i.exec(units.trim());
  if (!match) return undefined;
  // The calendar name comes from a file: only the table's own entries count (not `constructor`).
  const calendarName = calendar.trim().toLowerCase();
  const kind = Object.hasOwn(CALENDARS, calendarName) ? CALENDARS[calendarName] : undefined;
  if (!kind) return undefined;
  const unitName = (match[1] ?? '').toLowerCase();
  const reference = parseReference(match[2] ?? '');
  if (!reference) return undefined;
  let unitMs = UNIT_MS.find(([pattern]) => pattern.test(unitName))?.[1];
  let unit: CfTimeDecoder['unit'] | undefined = unitLetter(unitName);
  if (unitMs === undefined && kind === '360_day') {
    if (/^(months?)$/.test(unitName)) [unitMs, unit] = [30 * MS_PER_DAY, 'MO'];
    if (/^(years?|yr)$/.test(unitName)) [unitMs, unit] = [360 * MS_PER_DAY, 'Y'];
  }
  if (unitMs === undefined || unit === undefined) return undefined;
  const { label, offsetMinutes } = reference;
  const step = unitMs;
  if (kind === 'mixed' || kind === 'proleptic' || kind === 'julian') {
    const referenceDay = kind === 'proleptic' || (kind === 'mixed' && !beforeGregorianReform(label)) ? gregorianDay(label) : julianDay(label);
    const referenceMs = referenceDay * MS_PER_DAY + label.timeMs - offsetMinutes * 60_000;
    return { unitMs, unit, decode: (value) => isoOfInstant(referenceMs + value * step) };
  }
  const model = MODEL_CALENDARS[kind];
  const referenceMs = (model.dayOf(label) * MS_PER_DAY + label.timeMs) - offsetMinutes * 60_000;
  return {
    unitMs,
    unit,
    decode: (value) => {
      const total = Math.round(referenceMs + value * step);
      if (!Number.isFinite(total)) return undefined;
      const days = Math.floor(total / MS_PER_DAY);
      const { year, month, day } = model.labelOf(days);
      const lastDay = gregorianMonthLength(year, month);
      return isoOfLabel({ year, month, day: Math.min(day, lastDay), timeMs: total - days * MS_PER_DAY });
    },
  };
}

function unitLetter(name: string): CfTimeDecoder['unit'] | undefined {
  if (/^(weeks?|w)$/.test(name)) return 'W';
  if (/^(days?|d)$/.test(name)) return 'D';
  if (/^(hours?|hrs?|h)$/.test(name)) return 'H';
  if (/^(minutes?|mins?)$/.test(name)) return 'M';
  if (/^(seconds?|secs?|s)$/.test(name)) return 'S';
  if (/^(milliseconds?|msecs?|ms)$/.test(name)) return 'ms';
  if (/^(microseconds?|usecs?|us)$/.test(name)) return 'us';
  return undefined;
}

/** "2000-01-01", "2000-1-1 0:0:0", "2000-01-01T06:00:00Z", "1990-01-01 00:00:00 +05:30", "... UTC". */
function parseReference(text: string): { label: DateLabel; offsetMinutes: number } | undefined {
  const match =
    /^(-?\d{1,6})-(\d{1,2})-(\d{1,2})(?:(?:T|\s+)(\d{1,2})(?::(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/i.exec(
      text.trim(),
    );
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', zone] = match;
  const label: DateLabel = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    timeMs: Math.round(((Number(h) * 60 + Number(mi)) * 60 + Number(s)) * 1000),
  };
  if (label.month < 1 || label.month > 12 || label.day < 1 || label.day > 31) return undefined;
  let offsetMinutes = 0;
  if (zone && /^[+-]/.test(zone)) {
    const zoneMatch = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone);
    if (!zoneMatch) return undefined;
    offsetMinutes = (zoneMatch[1] === '-' ? -1 : 1) * (Number(zoneMatch[2]) * 60 + Number(zoneMatch[3] ?? 0));
  }
  return { label, offsetMinutes };
}

function beforeGregorianReform({ year, month, day }: DateLabel): boolean {
  return year < 1582 || (year === 1582 && (month < 10 || (month === 10 && day < 15)));
}

/** Days since 1970-01-01 of a proleptic Gregorian date (setUTCFullYear: no 1900 offset for years 0..99). */
function gregorianDay({ year, month, day }: DateLabel): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return Math.round(date.getTime() / MS_PER_DAY);
}

/** Days since 1970-01-01 (proleptic Gregorian) of a Julian calendar date. */
function julianDay({ year, month, day }: DateLabel): number {
  // Julian Day Number of a Julian calendar date (Richards' algorithm), then relative to 1970-01-01 (JDN 2440588).
  const a = Math.floor((14 - month) / 12);
  const y = year + 4800 - a;
  const m = month + 12 * a - 3;
  const jdn = day + Math.floor((153 * m + 2) / 5) + 365 * y + Math.floor(y / 4) - 32083;
  return jdn - 2_440_588;
}

function isLeapGregorian(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function gregorianMonthLength(year: number, month: number): number {
  return month === 2 ? (isLeapGregorian(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 31;
}

interface ModelCalendar {
  dayOf(label: DateLabel): number;
  labelOf(day: number): { year: number; month: number; day: number };
}

function fixedYearCalendar(monthLengths: readonly number[]): ModelCalendar {
  const yearLength = monthLengths.reduce((a, b) => a + b, 0);
  const starts = monthLengths.map((_, i) => monthLengths.slice(0, i).reduce((a, b) => a + b, 0));
  return {
    dayOf: ({ year, month, day }) => year * yearLength + (starts[month - 1] ?? 0) + Math.min(day, monthLengths[month - 1] ?? 30) - 1,
    labelOf: (days) => {
      const year = Math.floor(days / yearLength);
      let rest = days - year * yearLength;
      let month = 1;
      while (month < 12 && rest >= (monthLengths[month - 1] ?? 30)) {
        rest -= monthLengths[month - 1] ?? 30;
        month++;
      }
      return { year, month, day: rest + 1 };
    },
  };
}

const MODEL_CALENDARS: Readonly<Record<'noleap' | 'all_leap' | '360_day', ModelCalendar>> = {
  noleap: fixedYearCalendar([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]),
  all_leap: fixedYearCalendar([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]),
  '360_day': fixedYearCalendar(new Array<number>(12).fill(30)),
};

const MAX_MS = 8.64e15;

function isoOfInstant(ms: number): string | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_MS) return undefined;
  return formatIso(new Date(Math.round(ms)));
}

function isoOfLabel({ year, month, day, timeMs }: DateLabel): string | undefined {
  const ms = (gregorianDay({ year, month, day, timeMs: 0 }) * MS_PER_DAY) + timeMs;
  return isoOfInstant(ms);
}

/** RFC 3339 in UTC; years outside 0000..9999 cannot be written in RFC 3339 and give undefined. */
function formatIso(date: Date): string | undefined {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) return undefined;
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/**
 * An ISO 8601 duration for a regular step of `count` units ("P1D", "PT6H"), or undefined when the
 * step is not a whole number of units.
 */
export function isoDuration(count: number, unit: CfTimeDecoder['unit']): string | undefined {
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
