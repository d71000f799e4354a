import { describe, expect, it } from 'vitest';
import { bboxesIntersect, geometryIntersectsBbox } from './geometry.js';
import { GLOBE, longitudeSpan, spansIntersect, unionOfSpans } from './longitude.js';

const range = (start: number, stop: number, step: number) => Array.from({ length: Math.floor((stop - start) / step) + 1 }, (_, i) => start + i * step);

describe('longitude spans', () => {
  it('global grids in either convention cover the globe', () => {
    expect(longitudeSpan(range(0, 315, 45))).toEqual(GLOBE);
    expect(longitudeSpan(range(0, 357.5, 2.5))).toEqual(GLOBE);
    expect(longitudeSpan(range(-180, 179, 1))).toEqual(GLOBE);
  });

  it('regional grids: 0..360 converted, across Greenwich, across the antimeridian', () => {
    expect(longitudeSpan([200, 250, 300])).toEqual({ west: -160, east: -60 });
    expect(longitudeSpan([340, 350, 0, 10, 20, 30])).toEqual({ west: -20, east: 30 });
    expect(longitudeSpan([170, 175, 180, -175, -170])).toEqual({ west: 170, east: -170 });
    expect(longitudeSpan([10, 20])).toEqual({ west: 10, east: 20 });
    expect(longitudeSpan([5])).toEqual({ west: 5, east: 5 });
    expect(longitudeSpan([NaN])).toBeUndefined();
  });

  it('unions and intersections', () => {
    expect(
      unionOfSpans([
        { west: -20, east: 30 },
        { west: 100, east: 120 },
      ]),
    ).toEqual({ west: -20, east: 120 });
    expect(
      unionOfSpans([
        { west: 170, east: -170 },
        { west: -160, east: -150 },
      ]),
    ).toEqual({ west: 170, east: -150 });
    expect(
      unionOfSpans([
        { west: -180, east: 180 },
        { west: 0, east: 1 },
      ]),
    ).toEqual(GLOBE);
    expect(spansIntersect({ west: 170, east: -170 }, { west: -175, east: -172 })).toBe(true);
    expect(spansIntersect({ west: 170, east: -170 }, { west: 0, east: 10 })).toBe(false);
    expect(bboxesIntersect([170, -10, -170, 10], [175, 0, 179, 5])).toBe(true);
  });

  it('geometries against a bbox', () => {
    const box = [0, 0, 10, 10] as const;
    expect(geometryIntersectsBbox({ type: 'Point', coordinates: [5, 5] }, box)).toBe(true);
    expect(geometryIntersectsBbox({ type: 'Point', coordinates: [15, 5] }, box)).toBe(false);
    expect(
      geometryIntersectsBbox(
        {
          type: 'LineString',
          coordinates: [
            [-5, 5],
            [15, 5],
          ],
        },
        box,
      ),
    ).toBe(true);
    const around = {
      type: 'Polygon' as const,
      coordinates: [
        [
          [-10, -10],
          [20, -10],
          [20, 20],
          [-10, 20],
          [-10, -10],
        ],
      ],
    };
    expect(geometryIntersectsBbox(around, box)).toBe(true);
    const withHole = {
      ...around,
      coordinates: [
        ...around.coordinates,
        [
          [-5, -5],
          [15, -5],
          [15, 15],
          [-5, 15],
          [-5, -5],
        ],
      ],
    };
    expect(geometryIntersectsBbox(withHole, box)).toBe(false);
    expect(geometryIntersectsBbox({ type: 'Point', coordinates: [175, 0] }, [170, -5, -170, 5])).toBe(true);
  });
});
