/**
 * The calendars of the CF conventions (section 4.4.1), as CF and cftime define them:
 *
 * - `standard` (alias `gregorian`): the mixed Julian–Gregorian calendar. Dates before 1582-10-15
 *   are Julian, dates from 1582-10-15 on Gregorian; 1582-10-04 is followed by 1582-10-15. Years
 *   are numbered historically (no year 0: 1 BC is year -1), as cftime does by default.
 * - `proleptic_gregorian`: Gregorian rules for every year, with a year 0 (ISO 8601).
 * - `julian`: Julian rules (every fourth year is a leap year) for every year, no year 0.
 * - `noleap` (`365_day`), `all_leap` (`366_day`), `360_day` (twelve months of 30 days): model
 *   calendars, with a year 0.
 *
 * Dates are labels in their calendar. Real-world calendars (standard, proleptic_gregorian,
 * julian) number days from 1970-01-01 of the proleptic Gregorian calendar, so a day number is a
 * real instant and two real calendars agree on it; model calendars count their own days from the
 * start of their year 0 and have no instants.
 */

/** A date and time of day in some CF calendar (month and day 1-based; second may have a fraction). */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** The canonical CF calendar names (aliases resolved). */
export type CalendarName = 'standard' | 'proleptic_gregorian' | 'julian' | 'noleap' | 'all_leap' | '360_day';

export interface Calendar {
  readonly name: CalendarName;
  /** Real-world calendar: day numbers are days since 1970-01-01 (proleptic Gregorian), i.e. instants. */
  readonly real: boolean;
  /** Whether year 0 exists (astronomical numbering) or 1 BC is year -1 (historical numbering). */
  readonly hasYearZero: boolean;
  /** The day number of a date (a day past the end of a month counts as the month's last day in model calendars). */
  dayNumber(year: number, month: number, day: number): number;
  /** The date of a day number. */
  dateOf(dayNumber: number): { year: number; month: number; day: number };
  /** The last day of a month (in `standard`, October 1582 still ends on the 31st). */
  monthLength(year: number, month: number): number;
  isLeapYear(year: number): boolean;
}

const ALIASES: Readonly<Record<string, CalendarName>> = {
  standard: 'standard',
  gregorian: 'standard',
  proleptic_gregorian: 'proleptic_gregorian',
  julian: 'julian',
  noleap: 'noleap',
  '365_day': 'noleap',
  all_leap: 'all_leap',
  '366_day': 'all_leap',
  '360_day': '360_day',
};

/**
 * The calendar a CF `calendar` attribute names: absent, not a string or blank means `standard`
 * (the CF default); names are case-insensitive; an unknown name (also `none`) gives undefined.
 * Names come from files: only the table's own entries count (never `constructor` or `__proto__`).
 */
export function calendarNamed(name: unknown): Calendar | undefined {
  const key = typeof name === 'string' && name.trim() !== '' ? name.trim().toLowerCase() : 'standard';
  return Object.hasOwn(ALIASES, key) ? CALENDARS[ALIASES[key] as CalendarName] : undefined;
}

const floorDiv = (a: number, b: number) => Math.floor(a / b);

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical years). */
export function gregorianDayNumber(year: number, month: number, day: number): number {
  const y = year - (month <= 2 ? 1 : 0);
  const era = floorDiv(y, 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = floorDiv(153 * (month + (month > 2 ? -3 : 9)) + 2, 5) + day - 1; // from March 1st
  const dayOfEra = yearOfEra * 365 + floorDiv(yearOfEra, 4) - floorDiv(yearOfEra, 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The proleptic Gregorian date (astronomical years) of a day number. */
export function gregorianDateOf(dayNumber: number): { year: number; month: number; day: number } {
  const z = dayNumber + 719_468;
  const era = floorDiv(z, 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = floorDiv(dayOfEra - floorDiv(dayOfEra, 1460) + floorDiv(dayOfEra, 36_524) - floorDiv(dayOfEra, 146_096), 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + floorDiv(yearOfEra, 4) - floorDiv(yearOfEra, 100));
  return marchBased(yearOfEra + era * 400, dayOfYear);
}

function marchBased(year: number, dayOfYear: number): { year: number; month: number; day: number } {
  const m = floorDiv(5 * dayOfYear + 2, 153);
  const day = dayOfYear - floorDiv(153 * m + 2, 5) + 1;
  const month = m < 10 ? m + 3 : m - 9;
  return { year: year + (month <= 2 ? 1 : 0), month, day };
}

/** The same count for Julian dates, before moving its origin to 1970-01-01 (Gregorian). */
function julianCount(year: number, month: number, day: number): number {
  const y = year - (month <= 2 ? 1 : 0);
  const era = floorDiv(y, 4);
  const yearOfEra = y - era * 4;
  const dayOfYear = floorDiv(153 * (month + (month > 2 ? -3 : 9)) + 2, 5) + day - 1;
  return era * 1461 + yearOfEra * 365 + dayOfYear;
}

/** 1970-01-01 Gregorian is 1969-12-19 Julian. */
const JULIAN_ORIGIN = julianCount(1969, 12, 19);

/** Days since 1970-01-01 (Gregorian) of a Julian date (astronomical years). */
export function julianDayNumber(year: number, month: number, day: number): number {
  return julianCount(year, month, day) - JULIAN_ORIGIN;
}

/** The Julian date (astronomical years) of a day number. */
export function julianDateOf(dayNumber: number): { year: number; month: number; day: number } {
  const z = dayNumber + JULIAN_ORIGIN;
  const era = floorDiv(z, 1461);
  const dayOfEra = z - era * 1461;
  const yearOfEra = floorDiv(dayOfEra - floorDiv(dayOfEra, 1460), 365);
  return marchBased(yearOfEra + era * 4, dayOfEra - 365 * yearOfEra);
}

const COMMON_MONTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const monthOf = (months: readonly number[], month: number) => months[month - 1] ?? 30;

const gregorianLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const julianLeap = (year: number) => ((year % 4) + 4) % 4 === 0;

/** Historical year numbering (no year 0) to astronomical and back. */
const astronomical = (year: number) => (year < 0 ? year + 1 : year);
const historical = (year: number) => (year <= 0 ? year - 1 : year);

/** 1582-10-15, the first day of the Gregorian calendar, as a day number. */
export const GREGORIAN_REFORM_DAY = gregorianDayNumber(1582, 10, 15);

/** Whether a (historically numbered) date of the standard calendar lies before 1582-10-15. */
export function beforeGregorianReform(year: number, month: number, day: number): boolean {
  return year < 1582 || (year === 1582 && (month < 10 || (month === 10 && day < 15)));
}

const PROLEPTIC: Calendar = {
  name: 'proleptic_gregorian',
  real: true,
  hasYearZero: true,
  dayNumber: gregorianDayNumber,
  dateOf: gregorianDateOf,
  monthLength: (year, month) => (month === 2 && gregorianLeap(year) ? 29 : monthOf(COMMON_MONTHS, month)),
  isLeapYear: gregorianLeap,
};

const JULIAN: Calendar = {
  name: 'julian',
  real: true,
  hasYearZero: false,
  dayNumber: (year, month, day) => julianDayNumber(astronomical(year), month, day),
  dateOf(dayNumber) {
    const date = julianDateOf(dayNumber);
    return { ...date, year: historical(date.year) };
  },
  monthLength: (year, month) => (month === 2 && julianLeap(astronomical(year)) ? 29 : monthOf(COMMON_MONTHS, month)),
  isLeapYear: (year) => julianLeap(astronomical(year)),
};

const STANDARD: Calendar = {
  name: 'standard',
  real: true,
  hasYearZero: false,
  // The ten days 1582-10-05 ... 14 do not exist; written anyway, they count as Julian dates (as 15 ... 24).
  dayNumber: (year, month, day) => (beforeGregorianReform(year, month, day) ? JULIAN.dayNumber(year, month, day) : gregorianDayNumber(year, month, day)),
  dateOf: (dayNumber) => (dayNumber < GREGORIAN_REFORM_DAY ? JULIAN.dateOf(dayNumber) : gregorianDateOf(dayNumber)),
  monthLength: (year, month) => (year < 1582 ? JULIAN.monthLength(year, month) : PROLEPTIC.monthLength(year, month)),
  isLeapYear: (year) => (year < 1582 ? JULIAN.isLeapYear(year) : gregorianLeap(year)),
};

function fixedYear(name: CalendarName, months: readonly number[]): Calendar {
  const yearLength = months.reduce((a, b) => a + b, 0);
  const starts = months.map((_, i) => months.slice(0, i).reduce((a, b) => a + b, 0));
  return {
    name,
    real: false,
    hasYearZero: true,
    dayNumber: (year, month, day) => year * yearLength + (starts[month - 1] ?? 0) + Math.min(day, monthOf(months, month)) - 1,
    dateOf(dayNumber) {
      const year = floorDiv(dayNumber, yearLength);
      let rest = dayNumber - year * yearLength;
      let month = 1;
      while (month < 12 && rest >= monthOf(months, month)) rest -= monthOf(months, month++);
      return { year, month, day: rest + 1 };
    },
    monthLength: (_, month) => monthOf(months, month),
    isLeapYear: () => yearLength === 366,
  };
}

const CALENDARS: Readonly<Record<CalendarName, Calendar>> = {
  standard: STANDARD,
  proleptic_gregorian: PROLEPTIC,
  julian: JULIAN,
  noleap: fixedYear('noleap', COMMON_MONTHS),
  all_leap: fixedYear('all_leap', [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]),
  '360_day': fixedYear('360_day', new Array<number>(12).fill(30)),
};
