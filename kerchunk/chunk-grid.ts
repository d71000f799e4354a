/**
 * The chunk grid of a Zarr v2 array and the key ↔ index arithmetic on it.
 *
 * A chunk key suffix names one chunk by its grid indices joined with the array's
 * `dimension_separator` ('1.0.3', or '1/0/3'); a 0-d array has the single chunk '0'.
 * The linear index numbers chunks in C order (last dimension fastest), as numpy's
 * `ravel_multi_index` and fsspec's parquet references do.
 */
export type DimensionSeparator = '.' | '/';

const DECIMAL = /^(0|[1-9][0-9]*)$/;

export class ChunkGrid {
  /** Chunks along each dimension: ceil(shape / chunks). Empty for 0-d arrays. */
  readonly counts: readonly number[];
  /** Chunks in the whole grid (1 for a 0-d array, 0 when a dimension has length 0). */
  readonly size: number;
  /** Linear distance between neighbours along each dimension. */
  private readonly strides: readonly number[];

  /** Throws RangeError for shapes and chunks that are not counts, or grids beyond 2^53 chunks. */
  constructor(
    shape: readonly number[],
    chunks: readonly number[],
    readonly separator: DimensionSeparator = '.',
  ) {
    if (shape.length === 0) {
      this.counts = [];
      this.strides = [];
      this.size = 1;
      return;
    }
    if (chunks.length !== shape.length) {
      throw new RangeError(`${chunks.length} chunk lengths for ${shape.length} dimensions`);
    }
    const counts = shape.map((length, d) => {
      const chunk = chunks[d] as number;
      if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`shape[${d}] is not a count: ${length}`);
      if (!Number.isSafeInteger(chunk) || chunk <= 0) throw new RangeError(`chunks[${d}] is not a positive count: ${chunk}`);
      return Math.ceil(length / chunk);
    });
    const strides = new Array<number>(counts.length);
    let size = 1;
    for (let d = counts.length - 1; d >= 0; d--) {
      strides[d] = size;
      size *= counts[d] as number;
      if (!Number.isSafeInteger(size)) throw new RangeError(`chunk grid ${counts.join('×')} has more than 2^53 chunks`);
    }
    this.counts = counts;
    this.strides = strides;
    this.size = size;
  }

  /** The linear index of a chunk key suffix, or undefined when it names no chunk of this grid. */
  indexOf(suffix: string): number | undefined {
    if (this.counts.length === 0) return suffix === '0' ? 0 : undefined;
    const parts = suffix.split(this.separator);
    if (parts.length !== this.counts.length) return undefined;
    let index = 0;
    for (let d = 0; d < parts.length; d++) {
      const part = parts[d] as string;
      if (!DECIMAL.test(part)) return undefined;
      const i = Number(part);
      if (i >= (this.counts[d] as number)) return undefined;
      index += i * (this.strides[d] as number);
    }
    return index;
  }

  /** The chunk key suffix of a linear index (RangeError outside the grid). */
  suffixOf(index: number): string {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`chunk index ${index} is outside a grid of ${this.size} chunks`);
    }
    if (this.counts.length === 0) return '0';
    const parts = this.strides.map((stride, d) => Math.floor(index / stride) % (this.counts[d] as number));
    return parts.join(this.separator);
  }
}

/** Where a chunk key lies: the array it belongs to and the chunk's linear index in that array's grid. */
export interface ChunkLocation {
  readonly array: string;
  readonly index: number;
}

/**
 * Finds the array of a chunk key among arrays keyed by path ('tas', 'group/var'; '' for a root
 * array) and its linear index, or undefined when no array's grid has that chunk. Every '/' of the
 * key is tried as the end of the array path, so '/'-separated chunk keys ('v/1/0') resolve too.
 */
export function locateChunk(key: string, grids: ReadonlyMap<string, ChunkGrid>): ChunkLocation | undefined {
  const root = grids.get('');
  if (root !== undefined) {
    const index = root.indexOf(key);
    if (index !== undefined) return { array: '', index };
  }
  for (let slash = key.indexOf('/'); slash > 0; slash = key.indexOf('/', slash + 1)) {
    const array = key.slice(0, slash);
    const grid = grids.get(array);
    if (grid === undefined) continue;
    const index = grid.indexOf(key.slice(slash + 1));
    if (index !== undefined) return { array, index };
  }
  return undefined;
}
