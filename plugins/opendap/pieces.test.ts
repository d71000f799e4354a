import { describe, expect, it } from 'vitest';
import { type Slice, sliceLength } from '../../kerchunk/array-values.js';
import { hyperslabPieces } from './pieces.js';

/** Every index tuple a selection covers, in C order. */
function indices(slices: readonly Slice[]): string[] {
  const out: string[] = [];
  const walk = (dim: number, prefix: number[]) => {
    if (dim === slices.length) {
      out.push(prefix.join(','));
      return;
    }
    const s = slices[dim] as Slice;
    for (let k = 0; k < sliceLength(s); k++) walk(dim + 1, [...prefix, s.start + k * s.step]);
  };
  walk(0, []);
  return out;
}

const count = (slices: readonly Slice[]) => slices.reduce((n, s) => n * sliceLength(s), 1);

describe('hyperslabPieces', () => {
  const cases: Array<[string, Slice[], number[], number]> = [
    [
      'fits whole',
      [
        { start: 0, stop: 12, step: 1 },
        { start: 0, stop: 6, step: 1 },
      ],
      [5, 4],
      1000,
    ],
    [
      'cut along the first dimension by chunks',
      [
        { start: 0, stop: 12, step: 1 },
        { start: 0, stop: 6, step: 1 },
      ],
      [5, 4],
      40,
    ],
    [
      'strided, cut inside chunks',
      [
        { start: 1, stop: 12, step: 3 },
        { start: 0, stop: 8, step: 1 },
      ],
      [5, 8],
      10,
    ],
    [
      'cut along an inner dimension',
      [
        { start: 0, stop: 3, step: 1 },
        { start: 2, stop: 9, step: 2 },
        { start: 0, stop: 5, step: 1 },
      ],
      [2, 3, 5],
      7,
    ],
    [
      'one value per piece',
      [
        { start: 4, stop: 7, step: 1 },
        { start: 0, stop: 2, step: 1 },
      ],
      [2, 2],
      1,
    ],
  ];
  it.each(cases)('%s: covers the hyperslab in C order, each piece within the limit', (_, slices, chunks, max) => {
    const pieces = [...hyperslabPieces(slices, chunks, max)];
    expect(pieces.flatMap(indices)).toEqual(indices(slices));
    for (const piece of pieces) expect(count(piece)).toBeLessThanOrEqual(max);
  });

  it('keeps whole source chunks together along the cut dimension', () => {
    const pieces = [
      ...hyperslabPieces(
        [
          { start: 0, stop: 12, step: 1 },
          { start: 0, stop: 6, step: 1 },
        ],
        [5, 6],
        60,
      ),
    ];
    // 10 rows fit; rows 0-9 are two whole chunks, 10-11 the third.
    expect(pieces.map((p) => [p[0]?.start, p[0]?.stop])).toEqual([
      [0, 10],
      [10, 12],
    ]);
  });

  it('gives one empty selection for a scalar and nothing for an empty hyperslab', () => {
    expect([...hyperslabPieces([], [], 10)]).toEqual([[]]);
    expect([...hyperslabPieces([{ start: 0, stop: 0, step: 1 }], [4], 10)]).toEqual([]);
  });
});
