import { type ArrayValues, type DatasetValues, type NumericArray, type Slice, sliceLength } from '../../kerchunk/array-values.js';

type TypedConstructor = { new (length: number): NumericArray };

/**
 * ArrayValues over a typed array held in memory (C order): for tests of everything that reads
 * values, and for small derived arrays. `reads` records every selection asked for.
 */
export class MemoryArrayValues implements ArrayValues {
  readonly reads: Slice[][] = [];

  constructor(
    readonly name: string,
    readonly dtype: string,
    readonly shape: readonly number[],
    private readonly data: NumericArray,
    readonly chunks: readonly number[] = shape,
    readonly fillValue: number | bigint | undefined = undefined,
  ) {
    const size = shape.reduce((n, s) => n * s, 1);
    if (data.length !== size) throw new Error(`"${name}": ${data.length} values for shape [${shape.join(', ')}]`);
  }

  async read(selection: readonly Slice[], signal?: AbortSignal): Promise<NumericArray> {
    signal?.throwIfAborted();
    if (selection.length !== this.shape.length) throw new Error(`"${this.name}": ${selection.length} slices for rank ${this.shape.length}`);
    this.reads.push(selection.map((s) => ({ ...s })));
    const counts = selection.map(sliceLength);
    const out = new (this.data.constructor as TypedConstructor)(counts.reduce((n, c) => n * c, 1));
    const strides = this.shape.map((_, i) => this.shape.slice(i + 1).reduce((n, s) => n * s, 1));
    let written = 0;
    const walk = (dim: number, offset: number): void => {
      if (dim === this.shape.length) {
        (out as unknown as unknown[])[written++] = (this.data as unknown as unknown[])[offset];
        return;
      }
      const slice = selection[dim] as Slice;
      for (let k = 0; k < (counts[dim] as number); k++) walk(dim + 1, offset + (slice.start + k * slice.step) * (strides[dim] as number));
    };
    if (counts.every((c) => c > 0)) walk(0, 0);
    return out;
  }
}

/** DatasetValues over a set of in-memory arrays. */
export function memoryDatasetValues(arrays: readonly ArrayValues[]): DatasetValues {
  const byName = new Map(arrays.map((a) => [a.name, a]));
  return { array: (name) => byName.get(name) };
}
