import type { DeriveReduce } from '../catalog/derive-entry.js';

/**
 * Reductions of many cells at once, with xarray's (numpy's nan-function) semantics: NaN is
 * skipped; `count` counts the values that are not; `mean` and `std` of nothing are NaN, `sum`
 * of nothing is 0 (numpy `nansum`), `min`/`max` of nothing NaN; `std` has ddof = 0. Weighted
 * `mean` and `sum` follow xarray's `weighted(w)`: Σ w·x / Σ w over the valid x, and Σ w·x.
 * Sums are kept in float64 (Welford's update for the variance).
 */
export class Reducer {
  private readonly count: Float64Array;
  /** sum (sum, mean), running mean (std), extreme (min, max). */
  private readonly first: Float64Array;
  /** sum of weights (weighted mean), M2 (std). */
  private readonly second: Float64Array | undefined;

  constructor(
    readonly op: DeriveReduce,
    readonly cells: number,
    private readonly weighted = false,
  ) {
    this.count = new Float64Array(cells);
    this.first = new Float64Array(cells);
    if (op === 'min') this.first.fill(Number.POSITIVE_INFINITY);
    if (op === 'max') this.first.fill(Number.NEGATIVE_INFINITY);
    this.second = op === 'std' || (weighted && op === 'mean') ? new Float64Array(cells) : undefined;
  }

  /** Takes one value for one cell (NaN is skipped); `weight` only for weighted reductions. */
  add(cell: number, value: number, weight = 1): void {
    if (Number.isNaN(value)) return;
    const n = (this.count[cell] as number) + 1;
    this.count[cell] = n;
    switch (this.op) {
      case 'count':
        return;
      case 'sum':
        this.first[cell] = (this.first[cell] as number) + (this.weighted ? value * weight : value);
        return;
      case 'mean':
        if (this.weighted) {
          this.first[cell] = (this.first[cell] as number) + value * weight;
          (this.second as Float64Array)[cell] = ((this.second as Float64Array)[cell] as number) + weight;
        } else {
          this.first[cell] = (this.first[cell] as number) + value;
        }
        return;
      case 'min':
        if (value < (this.first[cell] as number)) this.first[cell] = value;
        return;
      case 'max':
        if (value > (this.first[cell] as number)) this.first[cell] = value;
        return;
      case 'std': {
        const mean = this.first[cell] as number;
        const delta = value - mean;
        const next = mean + delta / n;
        this.first[cell] = next;
        (this.second as Float64Array)[cell] = ((this.second as Float64Array)[cell] as number) + delta * (value - next);
        return;
      }
    }
  }

  /**
   * Takes `length` values from `values[from…]` for the cells `cell…cell+length-1` (unweighted):
   * the hot loop of time binning, one loop per reduction.
   */
  addRow(cell: number, values: Float64Array, from: number, length: number): void {
    if (this.weighted || this.op === 'std') {
      for (let i = 0; i < length; i++) this.add(cell + i, values[from + i] as number);
      return;
    }
    const count = this.count;
    const first = this.first;
    switch (this.op) {
      case 'count':
        for (let i = 0; i < length; i++) if (!Number.isNaN(values[from + i] as number)) count[cell + i] = (count[cell + i] as number) + 1;
        return;
      case 'sum':
      case 'mean':
        for (let i = 0; i < length; i++) {
          const v = values[from + i] as number;
          if (!Number.isNaN(v)) {
            count[cell + i] = (count[cell + i] as number) + 1;
            first[cell + i] = (first[cell + i] as number) + v;
          }
        }
        return;
      case 'min':
        for (let i = 0; i < length; i++) {
          const v = values[from + i] as number;
          if (!Number.isNaN(v)) {
            count[cell + i] = (count[cell + i] as number) + 1;
            if (v < (first[cell + i] as number)) first[cell + i] = v;
          }
        }
        return;
      case 'max':
        for (let i = 0; i < length; i++) {
          const v = values[from + i] as number;
          if (!Number.isNaN(v)) {
            count[cell + i] = (count[cell + i] as number) + 1;
            if (v > (first[cell + i] as number)) first[cell + i] = v;
          }
        }
        return;
    }
  }

  /** The result of one cell. */
  result(cell: number): number {
    const n = this.count[cell] as number;
    switch (this.op) {
      case 'count':
        return n;
      case 'sum':
        return this.first[cell] as number;
      case 'mean':
        if (n === 0) return Number.NaN;
        return (this.first[cell] as number) / (this.weighted ? ((this.second as Float64Array)[cell] as number) : n);
      case 'min':
      case 'max':
        return n === 0 ? Number.NaN : (this.first[cell] as number);
      case 'std':
        return n === 0 ? Number.NaN : Math.sqrt(Math.max(0, ((this.second as Float64Array)[cell] as number) / n));
    }
  }
}
