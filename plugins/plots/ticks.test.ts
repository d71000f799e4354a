import { describe, expect, it } from 'vitest';
import { decimalsOf, degreeStep, latitudeLabel, longitudeLabel, niceStep, tickLabel, ticksOf } from './ticks.js';

describe('nice ticks', () => {
  it('steps are 1, 2, 2.5 or 5 × 10^n, no more ticks than asked', () => {
    for (const [lo, hi, max] of [
      [0, 1, 5],
      [215.3, 312.9, 6],
      [0, 9.92e-5, 5],
      [-3.7, 3.7, 7],
      [1e6, 3.3e6, 4],
      [0.1, 0.1000003, 5],
    ] as const) {
      const step = niceStep(lo, hi, max);
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
      expect([1, 2, 2.5, 5]).toContainEqual(Number(mantissa.toFixed(6)));
      const ticks = ticksOf(lo, hi, step);
      expect(ticks.length).toBeLessThanOrEqual(max);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      for (const t of ticks) expect(t >= lo - 1e-12 && t <= hi + 1e-12).toBe(true);
    }
    expect(ticksOf(215.3, 312.9, niceStep(215.3, 312.9, 6))).toEqual([220, 240, 260, 280, 300]);
    expect(ticksOf(0, 0.3, 0.1)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(ticksOf(-1, 1, 0.5).map((t) => Object.is(t, -0))).not.toContain(true);
  });

  it('survives degenerate ranges', () => {
    expect(niceStep(5, 5, 5)).toBe(1);
    expect(niceStep(0, Number.POSITIVE_INFINITY, 5)).toBe(1);
    expect(niceStep(Number.NaN, 1, 5)).toBe(1);
    expect(ticksOf(0, 1e12, 1e-3).length).toBe(1000);
  });

  it('labels without float noise', () => {
    expect(tickLabel(0.30000000000000004, 0.1)).toBe('0.3');
    expect(tickLabel(7.5, 2.5)).toBe('7.5');
    expect(tickLabel(5, 2.5)).toBe('5.0');
    expect(tickLabel(260, 20)).toBe('260');
    expect(tickLabel(2e-5, 2e-5)).toBe('2e-5');
    expect(tickLabel(7.5e-5, 2.5e-5)).toBe('7.5e-5');
    expect(tickLabel(1.2e-4, 2e-5)).toBe('1.2e-4');
    expect(tickLabel(1.5e6, 5e5)).toBe('1.5e+6');
    expect(tickLabel(1e-20, 1)).toBe('0');
    expect(decimalsOf(0.25)).toBe(2);
    expect(decimalsOf(1e-5)).toBe(5);
    const labels = ticksOf(0, 9.92e-5, niceStep(0, 9.92e-5, 5)).map((t) => tickLabel(t, niceStep(0, 9.92e-5, 5)));
    expect(labels).toEqual(['0', '2e-5', '4e-5', '6e-5', '8e-5']);
  });

  it('labels degrees with hemispheres, wrapping 0–360 longitudes', () => {
    expect(degreeStep(-2.5, 357.5, 7)).toBe(60);
    expect(degreeStep(-92.5, 92.5, 7)).toBe(30);
    expect(degreeStep(10, 11, 5)).toBe(0.25);
    expect([0, 60, 180, 240, 300, 360, -60].map((v) => longitudeLabel(v, 60))).toEqual(['0°', '60°E', '180°', '120°W', '60°W', '0°', '60°W']);
    expect([-90, -30, 0, 45, 90].map((v) => latitudeLabel(v, 15))).toEqual(['90°S', '30°S', '0°', '45°N', '90°N']);
    expect(longitudeLabel(-180, 30)).toBe('180°');
    expect(latitudeLabel(0.5, 0.5)).toBe('0.5°N');
  });
});
