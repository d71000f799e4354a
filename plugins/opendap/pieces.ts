import { type Slice, sliceLength } from '../../kerchunk/array-values.js';

/**
 * Splits a hyperslab into pieces of at most `maxElements` values that follow one another in C
 * order, so a response can be written piece by piece in bounded memory. The outer dimensions are
 * fixed one index at a time until the inner block fits; along the first dimension that is cut,
 * pieces follow the source chunks (whole chunks together while they fit), so one piece reads as
 * few chunks as possible.
 */
export function* hyperslabPieces(slices: readonly Slice[], chunks: readonly number[], maxElements: number): Generator<Slice[]> {
  const rank = slices.length;
  const counts = slices.map(sliceLength);
  if (rank === 0) {
    yield [];
    return;
  }
  if (counts.some((n) => n === 0)) return;
  const limit = Math.max(1, Math.floor(maxElements));
  const trailing = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) trailing[i] = (trailing[i + 1] as number) * (counts[i + 1] as number);
  let cut = 0;
  while ((trailing[cut] as number) > limit) cut++;
  const maxRun = Math.max(1, Math.floor(limit / (trailing[cut] as number)));
  const outer = counts.slice(0, cut);
  const position = outer.map(() => 0);
  for (;;) {
    const fixed = position.map((k, i) => {
      const slice = slices[i] as Slice;
      const index = slice.start + k * slice.step;
      return { start: index, stop: index + 1, step: 1 };
    });
    for (const [first, last] of runs(slices[cut] as Slice, chunks[cut] ?? 1, maxRun)) {
      const slice = slices[cut] as Slice;
      yield [...fixed, { start: slice.start + first * slice.step, stop: slice.start + (last - 1) * slice.step + 1, step: slice.step }, ...slices.slice(cut + 1)];
    }
    // Next outer position, last dimension fastest.
    let i = outer.length - 1;
    while (i >= 0 && (position[i] as number) + 1 >= (outer[i] as number)) {
      position[i] = 0;
      i--;
    }
    if (i < 0) return;
    position[i] = (position[i] as number) + 1;
  }
}

/**
 * Runs `[first, last)` of selected positions along one dimension: positions in the same source
 * chunk stay together while a run fits `maxRun`, several whole chunks share a run when they fit.
 */
function* runs(slice: Slice, chunk: number, maxRun: number): Generator<[number, number]> {
  const count = sliceLength(slice);
  let runStart = 0;
  let k = 0;
  while (k < count) {
    // The group of positions inside the source chunk of position k.
    const chunkEnd = (Math.floor((slice.start + k * slice.step) / chunk) + 1) * chunk;
    const groupEnd = Math.min(count, Math.ceil((chunkEnd - slice.start) / slice.step));
    if (groupEnd - runStart <= maxRun) {
      k = groupEnd;
      continue;
    }
    if (k > runStart) {
      yield [runStart, k];
      runStart = k;
      continue;
    }
    // One chunk's group alone is larger than a run: cut it.
    const end = Math.min(groupEnd, runStart + maxRun);
    yield [runStart, end];
    runStart = end;
    k = end;
  }
  if (runStart < count) yield [runStart, count];
}
