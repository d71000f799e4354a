import { describe, expect, it } from 'vitest';
import { axisScale, coastlineSegments, coastlines } from './map-scale.js';

const range = (first: number, step: number, n: number) => Float64Array.from({ length: n }, (_, i) => first + i * step);

describe('axisScale', () => {
  it('places values linearly between cell centres, edges half a spacing out', () => {
    const scale = axisScale(range(0, 5, 72), 720);
    expect(scale?.lo).toBe(-2.5);
    expect(scale?.hi).toBe(357.5);
    expect(scale?.toOffset(0)).toBe(5);
    expect(scale?.toOffset(-2.5)).toBe(0);
    expect(scale?.toOffset(357.5)).toBe(720);
    expect(scale?.toOffset(180)).toBe(365);
    expect(scale?.toOffset(358)).toBeUndefined();
    expect(scale?.toOffset(Number.NaN)).toBeUndefined();
  });

  it('handles descending (north-up latitude) and irregular coordinates', () => {
    const lat = axisScale(range(90, -5, 37), 370);
    expect(lat?.toOffset(90)).toBe(5);
    expect(lat?.toOffset(0)).toBe(185);
    const irregular = axisScale(Float64Array.from([0, 1, 3, 7]), 40);
    expect(irregular?.toOffset(2)).toBe(20);
    expect(irregular?.toOffset(5)).toBe(30);
  });

  it('refuses what it cannot scale', () => {
    expect(axisScale(Float64Array.from([1]), 10)).toBeUndefined();
    expect(axisScale(Float64Array.from([0, 2, 1]), 10)).toBeUndefined();
    expect(axisScale(Float64Array.from([0, 0]), 10)).toBeUndefined();
    expect(axisScale(Float64Array.from([0, Number.NaN, 2]), 10)).toBeUndefined();
    expect(axisScale(Float64Array.from([0, 1]), 0)).toBeUndefined();
  });
});

describe('coastlines', () => {
  it("are Natural Earth's 110m lines in degrees", () => {
    const lines = coastlines();
    expect(lines.length).toBe(134);
    let points = 0;
    for (const line of lines) {
      points += line.length / 2;
      for (let i = 0; i < line.length; i += 2) {
        expect(Math.abs(line[i] as number)).toBeLessThanOrEqual(180);
        expect(Math.abs(line[i + 1] as number)).toBeLessThanOrEqual(90);
      }
    }
    expect(points).toBe(5128);
  });

  it('fall inside the map, on 0–360 and −180–180 grids alike, never across it', () => {
    for (const first of [0, -180]) {
      const x = axisScale(range(first + 2.5, 5, 72), 720);
      const y = axisScale(range(87.5, -5, 36), 360);
      if (!x || !y) throw new Error('no scale');
      const segments = coastlineSegments(x, y, 720);
      expect(segments.length).toBeGreaterThan(4000);
      for (const [x0, y0, x1, y1] of segments) {
        for (const v of [x0, x1]) expect(v! >= 0 && v! <= 720).toBe(true);
        for (const v of [y0, y1]) expect(v! >= 0 && v! <= 360).toBe(true);
        expect(Math.abs(x1! - x0!)).toBeLessThan(360);
      }
    }
  });

  it('leave out what lies outside a regional grid', () => {
    const x = axisScale(range(-10, 1, 31), 310); // Europe: 10.5°W .. 20.5°E
    const y = axisScale(range(70, -1, 36), 360); // 70.5°N .. 34.5°N
    if (!x || !y) throw new Error('no scale');
    const segments = coastlineSegments(x, y, 310);
    expect(segments.length).toBeGreaterThan(50);
    expect(segments.length).toBeLessThan(1000);
  });
});
