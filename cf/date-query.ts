import type { CalendarDate } from './calendar.js';

/**
 * Dates people type (`?time=2001-03` of a plot) matched against the dates of a time axis, and
 * dates written for people. Queries are labels in the axis's own calendar: `2000-02-30` exists
 * in 360_day, `1582-10-10` in julian.
 */

/** A queried date and how many of its leading fields the text gave (1 = year only ... 6 = seconds). */
export interface DateQuery {
  readonly date: CalendarDate;
  readonly precision: number;
}

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

const FIELDS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;

/** Whether a date lies in the period a query names (same fields up to the query's precision). */
export function dateMatches(date: CalendarDate, query: DateQuery): boolean {
  return FIELDS.slice(0, query.precision).every((field) => (field === 'second' ? Math.floor(date.second) === Math.floor(query.date.second) : date[field] === query.date[field]));
}

/** -1 when a date lies before the period a query names, 0 inside it, 1 after it. */
export function compareToQuery(date: CalendarDate, query: DateQuery): number {
  if (dateMatches(date, query)) return 0;
  for (const field of FIELDS) {
    if (date[field] !== query.date[field]) return date[field] < query.date[field] ? -1 : 1;
  }
  return 0;
}

const pad = (n: number, width = 2) => String(Math.floor(Math.abs(n))).padStart(width, '0');

/** '2001-03-05', with ' 12:30' (and ':15') when the time of day is not midnight. */
export function formatDate(date: CalendarDate): string {
  const day = `${date.year < 0 ? '-' : ''}${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
  if (date.hour === 0 && date.minute === 0 && date.second === 0) return day;
  return `${day} ${pad(date.hour)}:${pad(date.minute)}${date.second ? `:${pad(date.second)}` : ''}`;
}
