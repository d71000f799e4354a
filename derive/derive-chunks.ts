import type { DatasetValues, NumericArray, Slice } from '../kerchunk/array-values.js';
import { parseFillValue, parseNumericDtype } from '../kerchunk/dtype.js';
import { currentBudget } from '../kerchunk/request-budget.js';
import type { DerivedArray, IndexRange, ReducedArray } from './derive-plan.js';
import { Reducer } from './reductions.js';

/**
 * One chunk of a derived array, computed from the source chunks it needs (read through the
 * source's decoded values, so every read is counted against the request's budget) and returned
 * as the bytes of an uncompressed little-endian Zarr v2 chunk (full size: edge chunks padded).
 */

/** Source elements read at once when binning (one piece of a bin's run). */
const PIECE_ELEMENTS = 4 * 1024 * 1024;

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

/** The region [start, stop) of chunk `index` along every dimension. */
function regionOf(array: DerivedArray, index: readonly number[]): IndexRange[] {
  return array.meta.shape.map((length, d) => {
    const size = array.meta.chunks[d] as number;
    const start = (index[d] as number) * size;
    return { start, stop: Math.min(start + size, length) };
  });
}

function bytesOf(values: NumericArray): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Values of a region placed in a full chunk (the rest `fill`). */
function padded<T extends NumericArray>(values: T, counts: readonly number[], chunks: readonly number[], make: (n: number) => T, fill: number | bigint | undefined): T {
  if (counts.every((n, d) => n === chunks[d])) return values;
  const full = make(product(chunks));
  if (fill !== undefined) (full as unknown as { fill(v: number | bigint): void }).fill(fill);
  const rank = counts.length;
  const copy = (d: number, from: number, to: number): void => {
    if (d === rank - 1) {
      (full as unknown as { set(a: ArrayLike<number | bigint>, o: number): void }).set(
        (values as unknown as { subarray(a: number, b: number): ArrayLike<number | bigint> }).subarray(from, from + (counts[d] as number)),
        to,
      );
      return;
    }
    const fromStride = product(counts.slice(d + 1));
    const toStride = product(chunks.slice(d + 1));
    for (let i = 0; i < (counts[d] as number); i++) copy(d + 1, from + i * fromStride, to + i * toStride);
  };
  if (rank > 0) copy(0, 0, 0);
  return full;
}

/** The bytes of chunk `index` of a derived array. */
export async function computeChunk(array: DerivedArray, index: readonly number[], values: DatasetValues, signal?: AbortSignal): Promise<Uint8Array> {
  const region = regionOf(array, index);
  const counts = region.map((r) => r.stop - r.start);
  const chunks = array.meta.chunks;
  const { recipe } = array;
  if (recipe.kind === 'constant') {
    const width = array.meta.shape.length === 2 ? (array.meta.shape[1] as number) : 1;
    const rows = recipe.values.subarray((region[0]?.start ?? 0) * width, (region[0]?.stop ?? 0) * width);
    return bytesOf(padded(Float64Array.from(rows), counts, chunks, (n) => new Float64Array(n), Number.NaN));
  }
  if (recipe.kind === 'copy') {
    const source = values.array(recipe.source);
    const type = parseNumericDtype(array.meta.dtype);
    if (!source || !type) throw new Error(`derived array "${array.name}" lost its source`);
    const selection: Slice[] = region.map((r, d) => ({ start: (recipe.ranges[d] as IndexRange).start + r.start, stop: (recipe.ranges[d] as IndexRange).start + r.stop, step: 1 }));
    const read = await source.read(selection, signal);
    return bytesOf(padded(read, counts, chunks, (n) => type.create(n), parseFillValue(array.meta.fill_value, type)));
  }
  const result = await reduceRegion(recipe, region, values, signal);
  if (array.meta.dtype === '<i8')
    return bytesOf(
      padded(
        BigInt64Array.from(result, (v) => BigInt(v)),
        counts,
        chunks,
        (n) => new BigInt64Array(n),
        0n,
      ),
    );
  if (array.meta.dtype === '<f4') return bytesOf(padded(Float32Array.from(result), counts, chunks, (n) => new Float32Array(n), Number.NaN));
  return bytesOf(padded(result, counts, chunks, (n) => new Float64Array(n), Number.NaN));
}

/** Physical values of the reduced array over an output region (C order of the output dims). */
async function reduceRegion(recipe: ReducedArray, outRegion: readonly IndexRange[], values: DatasetValues, signal?: AbortSignal): Promise<Float64Array> {
  const source = values.array(recipe.source);
  if (!source) throw new Error(`derived array lost its source "${recipe.source}"`);
  const budget = currentBudget();
  const rank = recipe.ranges.length;
  const over = new Set(recipe.over);
  // the intermediate region (after time binning, before `over`) along every source dimension
  const region: IndexRange[] = [];
  let out = 0;
  for (let axis = 0; axis < rank; axis++) {
    const full = recipe.time?.axis === axis ? recipe.time.bins.length : (recipe.ranges[axis] as IndexRange).stop - (recipe.ranges[axis] as IndexRange).start;
    if (over.has(axis)) region.push({ start: 0, stop: full });
    else region.push(outRegion[out++] as IndexRange);
  }
  const shape = region.map((r) => r.stop - r.start);
  const sourceSlice = (axis: number, r: IndexRange): Slice => ({
    start: (recipe.ranges[axis] as IndexRange).start + r.start,
    stop: (recipe.ranges[axis] as IndexRange).start + r.stop,
    step: 1,
  });
  let stage: Float64Array;
  if (recipe.time) {
    const t = recipe.time.axis;
    const outer = product(shape.slice(0, t));
    const inner = product(shape.slice(t + 1));
    const cells = outer * inner;
    const binsHere = shape[t] as number;
    stage = new Float64Array(outer * binsHere * inner);
    const stepsPerPiece = Math.max(1, Math.floor(PIECE_ELEMENTS / Math.max(1, cells)));
    for (let j = 0; j < binsHere; j++) {
      const bin = recipe.time.bins[(region[t] as IndexRange).start + j];
      if (!bin) continue;
      const reducer = new Reducer(recipe.op, cells);
      for (const [runStart, runStop] of bin.runs) {
        for (let p = runStart; p < runStop; p += stepsPerPiece) {
          await budget.checkpoint();
          const q = Math.min(runStop, p + stepsPerPiece);
          const selection = region.map((r, axis) => (axis === t ? { start: p, stop: q, step: 1 } : sourceSlice(axis, r)));
          const piece = recipe.unpack(await source.read(selection, signal));
          const steps = q - p;
          for (let o = 0; o < outer; o++) {
            for (let s = 0; s < steps; s++) {
              const base = (o * steps + s) * inner;
              reducer.addRow(o * inner, piece, base, inner);
            }
          }
        }
      }
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) stage[(o * binsHere + j) * inner + i] = reducer.result(o * inner + i);
    }
  } else {
    await budget.checkpoint();
    stage = recipe.unpack(
      await source.read(
        region.map((r, axis) => sourceSlice(axis, r)),
        signal,
      ),
    );
  }
  if (recipe.over.length === 0) return stage;
  return reduceOver(stage, shape, recipe);
}

/** Reduces the intermediate values over the `over` axes (weighted by cos(latitude) with weights: area). */
async function reduceOver(stage: Float64Array, shape: readonly number[], recipe: ReducedArray): Promise<Float64Array> {
  const budget = currentBudget();
  const rank = shape.length;
  const over = new Set(recipe.over);
  const kept = shape.map((_, axis) => axis).filter((axis) => !over.has(axis));
  const outShape = kept.map((axis) => shape[axis] as number);
  const outStrides = outShape.map((_, k) => product(outShape.slice(k + 1)));
  const reducer = new Reducer(recipe.op, product(outShape), recipe.weights !== undefined);
  const weightAxis = recipe.weights?.axis ?? -1;
  const weights = recipe.weights?.values;
  // each axis's step in the output cell index (0 along the reduced axes)
  const contribution = shape.map((_, axis) => (over.has(axis) ? 0 : (outStrides[kept.indexOf(axis)] as number)));
  const last = rank - 1;
  const rowLength = rank === 0 ? 1 : (shape[last] as number);
  const lastStep = rank === 0 ? 0 : (contribution[last] as number);
  const counter = new Array<number>(Math.max(0, rank - 1)).fill(0);
  const rows = rowLength === 0 ? 0 : stage.length / rowLength;
  for (let row = 0; row < rows; row++) {
    let base = 0;
    for (let axis = 0; axis < last; axis++) base += (counter[axis] as number) * (contribution[axis] as number);
    const rowWeight = weights && weightAxis < last ? (weights[counter[weightAxis] as number] as number) : 1;
    const from = row * rowLength;
    if (weights && weightAxis === last) for (let i = 0; i < rowLength; i++) reducer.add(base + i * lastStep, stage[from + i] as number, weights[i] as number);
    else for (let i = 0; i < rowLength; i++) reducer.add(base + i * lastStep, stage[from + i] as number, rowWeight);
    // odometer over the axes before the last
    for (let axis = last - 1; axis >= 0; axis--) {
      const next = (counter[axis] as number) + 1;
      if (next < (shape[axis] as number)) {
        counter[axis] = next;
        break;
      }
      counter[axis] = 0;
    }
    if ((row & 0x3ff) === 0x3ff) await budget.checkpoint();
  }
  return Float64Array.from({ length: product(outShape) }, (_, cell) => reducer.result(cell));
}
