import { describe, expect, it } from 'vitest';
import { timeCoder } from '../cf/time-units.js';
import { groupBins, resampleBins } from './time-bins.js';

const coder = (calendar: string, units = 'days since 2000-01-01') => {
  const made = timeCoder(units, calendar);
  if (!made) throw new Error('no coder');
  return made;
};
const days = (n: number, from = 0) => Float64Array.from({ length: n }, (_, i) => from + i + 0.5);

describe('resample bins in every CF calendar', () => {
  it('months of a leap year (standard), labelled by their start (1MS)', () => {
    const bins = resampleBins(days(366), coder('standard'), 'month');
    if (typeof bins === 'string') throw new Error(bins);
    expect(bins.map((b) => b.runs[0]?.[1] ?? 0).slice(0, 3)).toEqual([31, 60, 91]);
    expect(bins[1]?.value).toBe(31);
    expect(bins[1]?.bounds).toEqual([31, 60]);
    expect(bins).toHaveLength(12);
  });

  it('noleap February has 28 days, all_leap 29, 360_day months are 30', () => {
    for (const [calendar, feb] of [
      ['noleap', 28],
      ['365_day', 28],
      ['all_leap', 29],
      ['366_day', 29],
      ['360_day', 30],
      ['julian', 29],
      ['proleptic_gregorian', 29],
      ['gregorian', 29],
    ] as const) {
      const bins = resampleBins(days(120), coder(calendar), 'month');
      if (typeof bins === 'string') throw new Error(bins);
      const [start, stop] = bins[1]?.runs[0] ?? [0, 0];
      expect(stop - start, calendar).toBe(feb);
    }
  });

  it('seasons start in December of the year before (QS-DEC); years on 1 January', () => {
    const seasons = resampleBins(days(365), coder('noleap'), 'season');
    if (typeof seasons === 'string') throw new Error(seasons);
    expect(coder('noleap').date(seasons[0]?.value ?? 0)).toMatchObject({ year: 1999, month: 12, day: 1 });
    expect(seasons[0]?.runs).toEqual([[0, 59]]);
    expect(seasons).toHaveLength(5);
    const years = resampleBins(days(720), coder('360_day'), 'year');
    if (typeof years === 'string') throw new Error(years);
    expect(years.map((b) => b.runs)).toEqual([[[0, 360]], [[360, 720]]]);
  });

  it('hours and days; empty periods kept as empty bins', () => {
    const hours = resampleBins(Float64Array.from([0, 0.01, 0.05, 0.2]), coder('standard'), 'hour');
    if (typeof hours === 'string') throw new Error(hours);
    expect(hours.map((b) => b.runs)).toEqual([[[0, 2]], [[2, 3]], [], [], [[3, 4]]]);
    const gap = resampleBins(Float64Array.from([0.5, 1.5, 5.5]), coder('standard'), 'day');
    if (typeof gap === 'string') throw new Error(gap);
    expect(gap.map((b) => b.runs.length)).toEqual([1, 1, 0, 0, 0, 1]);
  });

  it('refuses decreasing times and too many bins', () => {
    expect(resampleBins(Float64Array.from([2, 1]), coder('standard'), 'day')).toMatch(/increasing/);
    expect(resampleBins(Float64Array.from([0, 1e7]), coder('standard', 'hours since 2000-01-01'), 'hour')).toMatch(/more than/);
  });
});

describe('groupby bins', () => {
  it('months over two noleap years: runs per year, climatology bounds over both', () => {
    const bins = groupBins(days(730), coder('noleap'), 'month');
    if (typeof bins === 'string') throw new Error(bins);
    expect(bins).toHaveLength(12);
    expect(bins[0]?.runs).toEqual([
      [0, 31],
      [365, 396],
    ]);
    expect(bins[0]?.bounds).toEqual([0, 396]);
    expect(bins[1]?.label).toBe(2);
  });

  it('seasons in time order DJF MAM JJA SON; day of year; hour', () => {
    const seasons = groupBins(days(365), coder('360_day'), 'season');
    if (typeof seasons === 'string') throw new Error(seasons);
    expect(seasons.map((b) => b.label)).toEqual(['DJF', 'MAM', 'JJA', 'SON']);
    expect(seasons.map((b) => b.value)).toEqual([...seasons.map((b) => b.value)].sort((a, b) => a - b));
    const doy = groupBins(days(366 + 365), coder('standard'), 'dayofyear');
    if (typeof doy === 'string') throw new Error(doy);
    expect(doy).toHaveLength(366);
    expect(doy[365]?.runs).toEqual([[365, 366]]);
    const hours = groupBins(
      Float64Array.from({ length: 48 }, (_, i) => i / 24),
      coder('standard'),
      'hour',
    );
    if (typeof hours === 'string') throw new Error(hours);
    expect(hours).toHaveLength(24);
    expect(hours[5]?.runs).toEqual([
      [5, 6],
      [29, 30],
    ]);
  });
});
