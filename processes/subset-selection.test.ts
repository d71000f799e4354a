import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../server/http/problem.js';
import { indexRange, longitudeInterval, parseBbox, parseDatetime } from './subset-selection.js';

describe('subset selection', () => {
  it('bbox: four finite numbers in range, south below north', () => {
    expect(parseBbox([-10, -20, 30, 40])).toEqual({ west: -10, south: -20, east: 30, north: 40 });
    for (const bad of [[1, 2, 3], [0, 0, 'a', 1], [0, 10, 1, 0], [0, -100, 1, 0], [-1e308, -90, 1e308, 90], [Number.NaN, 0, 1, 1], '0,0,1,1', null]) {
      expect(() => parseBbox(bad)).toThrow(HttpProblem);
    }
  });
  it('longitudes in the dataset convention; a box across its seam is refused', () => {
    expect(longitudeInterval({ west: -100, south: 0, east: -20, north: 1 }, 355)).toEqual([260, 340]);
    expect(longitudeInterval({ west: 200, south: 0, east: 300, north: 1 }, 175)).toEqual([-160, -60]);
    expect(longitudeInterval({ west: -30, south: 0, east: 60, north: 1 }, 355)).toBeUndefined();
    expect(longitudeInterval({ west: -180, south: 0, east: 180, north: 1 }, 355)).toEqual([-Infinity, Infinity]);
  });
  it('datetime: start/end with open ends, UTC only, bounded length', () => {
    expect(parseDatetime('2001-01-01T00:00:00Z/..')).toEqual({ start: { year: 2001, month: 1, day: 1, hour: 0, minute: 0, second: 0 } });
    expect(parseDatetime('../2001-02-30')).toEqual({ end: { year: 2001, month: 2, day: 30, hour: 0, minute: 0, second: 0 } }); // 360_day calendars have it
    for (const bad of ['2001-01-01T00:00:00+02:00/..', 'a/b/c', 'yesterday', 'x'.repeat(1000), 5, '2001-13-01/..']) expect(() => parseDatetime(bad)).toThrow(HttpProblem);
  });
  it('index ranges of increasing and decreasing coordinates, none when nothing matches', () => {
    expect(indexRange([0, 5, 10, 15], 4, 10)).toEqual([1, 3]);
    expect(indexRange([90, 45, 0, -45, -90], -50, 10)).toEqual([2, 4]);
    expect(indexRange([0, 5], 6, 7)).toBeUndefined();
  });
});
