import { describe, expect, it } from 'vitest';
import { parseDeriveSpec } from './derive-entry.js';

describe('the derive block of a catalog entry', () => {
  it('parses every operation', () => {
    expect(parseDeriveSpec({ from: 'tas-day', resample: { time: 'month' }, reduce: 'mean' })).toEqual({
      from: 'tas-day',
      select: [],
      resample: { dim: 'time', frequency: 'month' },
      reduce: 'mean',
      over: [],
    });
    expect(parseDeriveSpec({ from: 'a', groupby: 'time.season', reduce: 'std' })).toMatchObject({ groupby: { dim: 'time', key: 'season' } });
    expect(parseDeriveSpec({ from: 'a', reduce: 'mean', over: ['lat', 'lon'], weights: 'area' })).toMatchObject({ over: ['lat', 'lon'], weights: 'area' });
    expect(parseDeriveSpec({ from: 'a', select: { lat: [70, 30], time: ['1950-01-05', '1950-02-10'] }, variables: ['tas'] })).toMatchObject({
      select: [
        { dim: 'lat', from: 70, to: 30 },
        { dim: 'time', from: '1950-01-05', to: '1950-02-10' },
      ],
      variables: ['tas'],
    });
  });

  it('refuses hostile and malformed blocks with a message', () => {
    const bad: unknown[] = [
      null,
      'tas',
      {},
      { from: '../etc' },
      { from: 'a', evil: 1 },
      { from: 'a', variables: ['__proto__'] },
      { from: 'a', variables: ['constructor'] },
      JSON.parse('{"from": "a", "select": {"__proto__": [1, 2]}}'),
      { from: 'a', select: { lat: [1, 2, 3] } },
      { from: 'a', select: { lat: [Number.POSITIVE_INFINITY, 2] } },
      { from: 'a', select: { lat: [1, 'x'] } },
      { from: 'a', select: { time: ['x'.repeat(100), '2000'] } },
      { from: 'a', resample: { time: 'fortnight' }, reduce: 'mean' },
      { from: 'a', resample: { time: 'month', lat: 'day' }, reduce: 'mean' },
      { from: 'a', resample: { time: 'month' } },
      { from: 'a', reduce: 'median', over: ['lat'] },
      { from: 'a', reduce: 'mean' },
      { from: 'a', groupby: 'time.week', reduce: 'mean' },
      { from: 'a', groupby: 'time.month', resample: { time: 'month' }, reduce: 'mean' },
      { from: 'a', reduce: 'max', over: ['lat'], weights: 'area' },
      { from: 'a', reduce: 'mean', over: ['lat'], weights: 'volume' },
      { from: 'a', reduce: 'mean', over: Array.from({ length: 1000 }, (_, i) => `d${i}`) },
      { from: 'a', groupby: 'time.month', reduce: 'mean', over: ['time'] },
    ];
    for (const value of bad) expect(typeof parseDeriveSpec(value), JSON.stringify(value)).toBe('string');
  });
});
