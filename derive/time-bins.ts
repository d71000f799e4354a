import type { GroupKey, ResampleFrequency } from '../catalog/derive-entry.js';
import type { Calendar, CalendarDate } from '../cf/calendar.js';
import type { TimeCoder } from '../cf/time-units.js';

/**
 * Time bins in a variable's own calendar: `resample` (consecutive periods, labelled by their
 * start as xarray's `1MS`, `QS-DEC`, `YS`, `D`, `h`) and `groupby` (one bin per month, season,
 * day of year or hour of day, over all years). Every bin lists the source time indices it takes
 * as runs `[start, stop)`; values are numbers in the time variable's units.
 */
export interface TimeBin {
  /** The new time value (resample: the period's start; groupby: the group's start in the first year). */
  readonly value: number;
  /** `time_bnds` (resample) or `climatology_bnds` (groupby): [start, end). */
  readonly bounds: readonly [number, number];
  /** Source time indices in this bin, as sorted runs [start, stop). */
  readonly runs: ReadonlyArray<readonly [number, number]>;
  /** The group label (groupby only): month 1–12, season 'DJF', day of year, hour. */
  readonly label?: number | string;
}

/** More bins than this is a spec error (e.g. hourly bins over millennia). */
export const MAX_BINS = 1_000_000;

const midnight = (year: number, month: number, day: number): CalendarDate => ({ year, month, day, hour: 0, minute: 0, second: 0 });

/** The start of the period of `frequency` that contains `date`. */
export function periodStart(date: CalendarDate, frequency: ResampleFrequency): CalendarDate {
  switch (frequency) {
    case 'hour':
      return { ...midnight(date.year, date.month, date.day), hour: date.hour };
    case 'day':
      return midnight(date.year, date.month, date.day);
    case 'month':
      return midnight(date.year, date.month, 1);
    case 'season': {
      // DJF, MAM, JJA, SON: quarters starting in December (xarray's QS-DEC)
      const month = date.month === 12 ? 12 : date.month < 3 ? 12 : date.month - ((date.month - 3) % 3);
      return midnight(date.month < 3 ? date.year - 1 : date.year, month, 1);
    }
    case 'year':
      return midnight(date.year, 1, 1);
  }
}

/** The start of the period after the one starting at `start`. */
export function nextPeriod(start: CalendarDate, frequency: ResampleFrequency, calendar: Calendar): CalendarDate {
  const addMonths = (n: number) => {
    const index = start.year * 12 + (start.month - 1) + n;
    return midnight(Math.floor(index / 12), (index % 12) + 1, 1);
  };
  switch (frequency) {
    case 'hour': {
      if (start.hour < 23) return { ...start, hour: start.hour + 1 };
      const next = calendar.dateOf(calendar.dayNumber(start.year, start.month, start.day) + 1);
      return midnight(next.year, next.month, next.day);
    }
    case 'day': {
      const next = calendar.dateOf(calendar.dayNumber(start.year, start.month, start.day) + 1);
      return midnight(next.year, next.month, next.day);
    }
    case 'month':
      return addMonths(1);
    case 'season':
      return addMonths(3);
    case 'year':
      return midnight(start.year + 1, 1, 1);
  }
}

/** Years without a year 0 (standard, julian): the year after -1 is 1. */
function fixYear(date: CalendarDate, calendar: Calendar): CalendarDate {
  if (calendar.hasYearZero || date.year !== 0) return date;
  return { ...date, year: date.year > 0 ? 1 : -1 };
}

/** Dates of the time values (NaN → a problem). */
function datesOf(times: ArrayLike<number>, coder: TimeCoder): CalendarDate[] | string {
  const dates: CalendarDate[] = [];
  for (let i = 0; i < times.length; i++) {
    const date = coder.date(times[i] as number);
    if (!date) return `time value ${i} is not a date`;
    if (i > 0 && !((times[i] as number) > (times[i - 1] as number))) return 'the time coordinate is not strictly increasing';
    dates.push(date);
  }
  return dates;
}

/** Consecutive periods from the one holding the first time to the one holding the last (empty periods included). */
export function resampleBins(times: ArrayLike<number>, coder: TimeCoder, frequency: ResampleFrequency): TimeBin[] | string {
  const dates = datesOf(times, coder);
  if (typeof dates === 'string') return dates;
  if (dates.length === 0) return 'the time coordinate is empty';
  // cheap bound first: the span over the shortest period of this frequency
  const shortestDays = { hour: 1 / 24, day: 1, month: 28, season: 89, year: 365 }[frequency];
  const spanDays = (((times[times.length - 1] as number) - (times[0] as number)) * coder.unitMs) / 86_400_000;
  if (spanDays / shortestDays > MAX_BINS + 2) return `resampling to ${frequency} makes more than ${MAX_BINS} time steps`;
  const bins: TimeBin[] = [];
  let start = periodStart(dates[0] as CalendarDate, frequency);
  let i = 0;
  while (i < dates.length) {
    if (bins.length >= MAX_BINS) return `resampling to ${frequency} makes more than ${MAX_BINS} time steps`;
    const next = fixYear(nextPeriod(start, frequency, coder.calendar), coder.calendar);
    const end = coder.value(next);
    const first = i;
    while (i < dates.length && (times[i] as number) < end) i++;
    bins.push({ value: coder.value(start), bounds: [coder.value(start), end], runs: i > first ? [[first, i]] : [] });
    start = next;
  }
  return bins;
}

const SEASONS = ['DJF', 'MAM', 'JJA', 'SON'] as const;
/** The season of a month: 0 DJF, 1 MAM, 2 JJA, 3 SON. */
const seasonIndex = (month: number) => Math.floor((month % 12) / 3);

/** The day of the year of a date in its calendar (1 on 1 January). */
function dayOfYear(date: CalendarDate, calendar: Calendar): number {
  return calendar.dayNumber(date.year, date.month, date.day) - calendar.dayNumber(date.year, 1, 1) + 1;
}

/**
 * One bin per group present (months 1–12, seasons DJF MAM JJA SON, days of year, hours), in that
 * order. Its time value is the group's start in the first year of data and its climatology bounds
 * run from the start of the group's earliest period to the end of its latest one (CF 7.4).
 */
export function groupBins(times: ArrayLike<number>, coder: TimeCoder, key: GroupKey): TimeBin[] | string {
  const dates = datesOf(times, coder);
  if (typeof dates === 'string') return dates;
  if (dates.length === 0) return 'the time coordinate is empty';
  const { calendar } = coder;
  const groupOf = (date: CalendarDate): number => {
    switch (key) {
      case 'month':
        return date.month;
      case 'season':
        return seasonIndex(date.month);
      case 'dayofyear':
        return dayOfYear(date, calendar);
      case 'hour':
        return date.hour;
    }
  };
  const frequency: ResampleFrequency = key === 'month' ? 'month' : key === 'season' ? 'season' : key === 'dayofyear' ? 'day' : 'hour';
  const groups = new Map<number, { runs: Array<[number, number]>; lo: number; hi: number }>();
  dates.forEach((date, i) => {
    const group = groupOf(date);
    let entry = groups.get(group);
    const start = periodStart(date, frequency);
    const lo = coder.value(start);
    const hi = coder.value(fixYear(nextPeriod(start, frequency, calendar), calendar));
    if (!entry) {
      entry = { runs: [], lo, hi };
      groups.set(group, entry);
    }
    entry.lo = Math.min(entry.lo, lo);
    entry.hi = Math.max(entry.hi, hi);
    const last = entry.runs[entry.runs.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else entry.runs.push([i, i + 1]);
  });
  const first = dates[0] as CalendarDate;
  const year = first.year;
  const valueOf = (group: number): number => {
    switch (key) {
      case 'month':
        return coder.value(midnight(year, group, 1));
      case 'season':
        return coder.value(fixYear(group === 0 ? midnight(year - 1, 12, 1) : midnight(year, group * 3, 1), calendar));
      case 'dayofyear': {
        const date = calendar.dateOf(calendar.dayNumber(year, 1, 1) + group - 1);
        return coder.value(midnight(date.year, date.month, date.day));
      }
      case 'hour':
        return coder.value({ ...midnight(first.year, first.month, first.day), hour: group });
    }
  };
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .map((group) => {
      const entry = groups.get(group) as { runs: Array<[number, number]>; lo: number; hi: number };
      return { value: valueOf(group), bounds: [entry.lo, entry.hi] as const, runs: entry.runs, label: key === 'season' ? (SEASONS[group] as string) : group };
    });
}
