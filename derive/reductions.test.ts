import { describe, expect, it } from 'vitest';
import { Reducer } from './reductions.js';

const reduce = (op: ConstructorParameters<typeof Reducer>[0], values: number[], weights?: number[]) => {
  const reducer = new Reducer(op, 1, weights !== undefined);
  values.forEach((v, i) => reducer.add(0, v, weights?.[i] ?? 1));
  return reducer.result(0);
};

describe('reductions with numpy nan-function semantics', () => {
  const values = [1, Number.NaN, 2, 4, Number.NaN];
  it('skip NaN', () => {
    expect(reduce('mean', values)).toBeCloseTo(7 / 3, 15);
    expect(reduce('sum', values)).toBe(7);
    expect(reduce('min', values)).toBe(1);
    expect(reduce('max', values)).toBe(4);
    expect(reduce('count', values)).toBe(3);
    // ddof = 0
    const mean = 7 / 3;
    expect(reduce('std', values)).toBeCloseTo(Math.sqrt(((1 - mean) ** 2 + (2 - mean) ** 2 + (4 - mean) ** 2) / 3), 14);
  });

  it('of nothing: NaN except sum (0) and count (0)', () => {
    const none = [Number.NaN, Number.NaN];
    expect(reduce('mean', none)).toBeNaN();
    expect(reduce('min', none)).toBeNaN();
    expect(reduce('max', none)).toBeNaN();
    expect(reduce('std', none)).toBeNaN();
    expect(reduce('sum', none)).toBe(0);
    expect(reduce('count', none)).toBe(0);
    expect(reduce('mean', [])).toBeNaN();
  });

  it('weighted mean and sum as xarray weighted(): weights of missing values left out', () => {
    expect(reduce('mean', [1, 3, Number.NaN], [1, 3, 100])).toBeCloseTo(10 / 4, 15);
    expect(reduce('sum', [1, 3, Number.NaN], [1, 3, 100])).toBe(10);
  });

  it('std stays accurate for large offsets (Welford)', () => {
    const big = Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 2));
    expect(reduce('std', big)).toBeCloseTo(0.5, 9);
  });

  it('keeps cells apart', () => {
    const reducer = new Reducer('max', 3);
    reducer.add(0, 5);
    reducer.add(2, -1);
    expect([reducer.result(0), reducer.result(1), reducer.result(2)]).toEqual([5, Number.NaN, -1]);
  });
});
