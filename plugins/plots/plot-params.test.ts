import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../../server/http/problem.js';
import { parsePlotParams } from './plot-params.js';

const parse = (query: Record<string, string | string[]>) => parsePlotParams(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])));

describe('plot parameters', () => {
  it('reads time as index or date, level, colormap and range', () => {
    const params = parse({ time: '3', level: '2', cmap: 'magma_r', vmin: '-1.5', vmax: '2e3' });
    expect(params.time).toEqual({ index: 3 });
    expect(params.level).toBe(2);
    expect(params.colormap.name).toBe('magma_r');
    expect([params.vmin, params.vmax]).toEqual([-1.5, 2000]);
    expect(parse({ time: '2001-03-05' }).time).toMatchObject({ text: '2001-03-05', date: { precision: 3 } });
    expect(parse({}).colormap.name).toBe('viridis');
  });
  it('rejects bad values with 400 problems', () => {
    const queries: Array<Record<string, string | string[]>> = [
      { time: '-1' },
      { time: 'x' },
      { level: '1.5' },
      { cmap: 'jet' },
      { vmin: 'NaN' },
      { vmin: 'Infinity' },
      { vmin: '3', vmax: '3' },
      { cmap: ['viridis', 'magma'] },
    ];
    for (const query of queries) {
      expect(() => parse(query), JSON.stringify(query)).toThrow(HttpProblem);
      try {
        parse(query);
      } catch (error) {
        expect((error as HttpProblem).status).toBe(400);
      }
    }
  });
  it('F1 class: prototype names as colormaps are unknown colormaps (400), not a crash', () => {
    for (const cmap of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', '__proto___r', 'toString_r']) {
      expect(() => parse({ cmap }), cmap).toThrow(/unknown colormap/);
    }
  });
});
