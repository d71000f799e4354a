import { describe, expect, it } from 'vitest';
import { parseConstraint } from './constraint.js';
import { DapError } from './dap-error.js';

describe('parseConstraint', () => {
  it('reads an empty constraint as the whole dataset', () => {
    expect(parseConstraint('')).toEqual({ projections: [] });
    expect(parseConstraint('&')).toEqual({ projections: [] });
  });

  it('reads [i], [start:stop] and [start:stride:stop] (stop inclusive)', () => {
    expect(parseConstraint('tas[2][0:5][1:2:7]').projections).toEqual([
      {
        path: [
          {
            name: 'tas',
            hyperslabs: [
              { start: 2, stride: 1, stop: 2 },
              { start: 0, stride: 1, stop: 5 },
              { start: 1, stride: 2, stop: 7 },
            ],
          },
        ],
      },
    ]);
  });

  it('reads several projections, Grid fields and percent-encoded text', () => {
    const { projections } = parseConstraint('tas.tas%5B0:1:0%5D%5B0:1:5%5D,tas.lat,time%5B3%5D, lon');
    expect(projections.map((p) => p.path.map((c) => c.name).join('.'))).toEqual(['tas.tas', 'tas.lat', 'time', 'lon']);
    expect(projections[0]?.path[1]?.hyperslabs).toHaveLength(2);
    expect(projections[2]?.path[0]?.hyperslabs).toEqual([{ start: 3, stride: 1, stop: 3 }]);
  });

  it('decodes escaped names', () => {
    expect(parseConstraint('air%2520temp[0]').projections[0]?.path[0]?.name).toBe('air temp');
  });

  it.each([
    ['tas[1:0]', /stop is before start/],
    ['tas[0:0:3]', /stride/],
    ['tas[a]', /malformed hyperslab/],
    ['tas[1:2:3:4]', /malformed hyperslab/],
    ['tas[-1]', /malformed hyperslab/],
    ['tas[0', /unclosed/],
    ['tas]', /unexpected/],
    ['tas,,lat', /empty projection/],
    ['tas&time>3', /selections are not supported/],
    ['grid(tas,"lat>0")', /functions are not supported/],
    ['tas%ZZ', /percent-encoding/],
    ['tas[99999999999999999999]', /too large/],
    ['tas.[0]', /expected a variable name/],
  ])('refuses %s with a DAP error', (text, message) => {
    let caught: unknown;
    try {
      parseConstraint(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DapError);
    expect((caught as DapError).status).toBe(400);
    expect((caught as DapError).message).toMatch(message);
  });
});
