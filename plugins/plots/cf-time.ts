/** A date and time of day in some CF calendar (month and day 1-based). */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** How many leading fields of a CalendarDate an ISO string gave (1 = year only ... 6 = seconds). */
export interface DateQuery {
  readonly date: CalendarDate;
  readonly precision: number;
}

interface Calendar {
  /** Days from year 0, January 1st, to the date. */
  toDays(year: number, month: number, day: number): number;
  fromDays(days: number): { year: number; month: number; day: number };
}

const NOLEAP = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ALL_LEAP = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function fixedLengthCalendar(months: readonly number[]): Calendar {
  const yearLength = months.reduce((a, b) => a + b, 0);
  const before = months.map((_, i) => months.slice(0, i).reduce((a, b) => a + b, 0));
  return {
    toDays: (year, month, day) => year * yearLength + (before[month - 1] ?? 0) + day - 1,
    fromDays(days) {
      const year = Math.floor(days / yearLength);
      let rest = days - year * yearLength;
      let month = 1;
      while (month < 12 && rest >= (months[month - 1] as number)) rest -= months[month++ - 1] as number;
      return { year, month, day: rest + 1 };
    },
  };
}

const MS_PER_DAY = 86_400_000;
/** Proleptic Gregorian via the JS Date arithmetic (the "standard" calendar without the 1582 switch). */
const GREGORIAN: Calendar = {
  toDays(year, month, day) {
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    const zero = new Date(0);
    zero.setUTCFullYear(0, 0, 1);
    return Math.round((date.getTime() - zero.getTime()) / MS_PER_DAY);
  },
  fromDays(days) {
    const date = new Date(0);
    date.setUTCFullYear(0, 0, 1 + days);
    return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
  },
};

const CALENDARS: Readonly<Record<string, Calendar>> = {
  standard: GREGORIAN,
  gregorian: GREGORIAN,
  proleptic_gregorian: GREGORIAN,
  noleap: fixedLengthCalendar(NOLEAP),
  '365_day': fixedLengthCalendar(NOLEAP),
  all_leap: fixedLengthCalendar(ALL_LEAP),
  '366_day': fixedLengthCalendar(ALL_LEAP),
  '360_day': fixedLengthCalendar(Array.from({ length: 12 }, () => 30)),
};

const UNIT_SECONDS: ReadonlyArray<[RegExp, number]> = [
  [/^(seconds?|secs?|s)$/, 1],
  [/^(minutes?|mins?)$/, 60],
  [/^(hours?|hrs?|h)$/, 3600],
  [/^(days?|d)$/, 86_400],
  [/^weeks?$/, 7 * 86_400],
];

const DATE_PATTERN = /^(-?\d{1,6})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ](\d{1,2})(?::(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?)?)?)?\s*(?:Z|UTC|[+-]00:?00)?$/i;

/** Parses an ISO-like date ('2001', '2001-03', '2001-03-05', '2001-03-05T12:00'), or undefined. */
export function parseDateQuery(text: string): DateQuery | undefined {
  const match = DATE_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const fields = match.slice(1, 7);
  const precision = fields.filter((f) => f !== undefined).length;
  const [year, month = 1, day = 1, hour = 0, minute = 0, second = 0] = fields.map((f) => (f === undefined ? undefined : Number(f)));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second >= 61) return undefined;
  return { date: { year: year as number, month, day, hour, minute, second }, precision };
}

/** Decodes CF time values (`<unit> since <date>`, calendar per CF) into calendar dates. */
export interface TimeDecoder {
  decode(value: number): CalendarDate;
}

/** A decoder for these units and calendar, or undefined when they are not a CF time. */
export function timeDecoder(units: unknown, calendar: unknown = 'standard'): TimeDecoder | undefined {
  if (typeof units !== 'string') return undefined;
  const cal = CALENDARS[typeof calendar === 'string' ? calendar.toLowerCase() : 'standard'];
  const match = /^\s*(\w+)\s+since\s+(.+?)\s*$/i.exec(units);
  if (!cal || !match) return undefined;
  const unit = UNIT_SECONDS.find(([pattern]) => pattern.test((match[1] as string).toLowerCase()))?.[1];
  const reference = parseDateQuery((match[2] as string).replace(/\s+(UTC|Z)$/i, ''));
  if (unit === undefined || !reference) return undefined;
  const { year, month, day, hour, minute, second } = reference.date;
  const referenceSeconds = cal.toDays(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
  return {
    decode(value) {
      // whole milliseconds, so 0.1-day steps do not print as 02:23:59.999
      const total = Math.round((referenceSeconds + value * unit) * 1000) / 1000;
      const days = Math.floor(total / 86_400);
      let rest = total - days * 86_400;
      const hour = Math.floor(rest / 3600);
      rest -= hour * 3600;
      const minute = Math.floor(rest / 60);
      return { ...cal.fromDays(days), hour, minute, second: Math.round((rest - minute * 60) * 1000) / 1000 };
    },
  };
}

const FIELDS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;

/** Whether a date lies in the period a query names (same fields up to the query's precision). */
export function dateMatches(date: CalendarDate, query: DateQuery): boolean {
  return FIELDS.slice(0, query.precision).every((field) =>
    field === 'second' ? Math.floor(date.second) === Math.floor(query.date.second) : date[field] === query.date[field],
  );
}

const pad = (n: number, width = 2) => String(Math.floor(Math.abs(n))).padStart(width, '0');

/** '2001-03-05', with ' 12:30' (and ':15') when the time of day is not midnight. */
export function formatDate(date: CalendarDate): string {
  const day = `${date.year < 0 ? '-' : ''}${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
  if (date.hour === 0 && date.minute === 0 && date.second === 0) return day;
  return `${day} ${pad(date.hour)}:${pad(date.minute)}${date.second ? `:${pad(date.second)}` : ''}`;
}
