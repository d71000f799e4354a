import { describe, expect, it } from 'vitest';
import { parseNumericDtype } from './dtype.js';

describe('parseNumericDtype', () => {
  it.each([
    ['<f4', Float32Array],
    ['>f8', Float64Array],
    ['|i1', Int8Array],
    ['<i8', BigInt64Array],
    ['<u2', Uint16Array],
  ] as const)('%s: create and createUninitialised give whole native arrays of that type', (dtype, Constructor) => {
    const type = parseNumericDtype(dtype)!;
    for (const length of [0, 1, 7, 1000]) {
      const zeroed = type.create(length);
      const raw = type.createUninitialised(length);
      expect(zeroed).toBeInstanceOf(Constructor);
      expect(raw).toBeInstanceOf(Constructor);
      expect(raw.length).toBe(length);
      expect(raw.byteOffset).toBe(0);
      expect(raw.buffer.byteLength).toBe(length * type.size);
      expect(Array.from(zeroed as ArrayLike<number | bigint>).every((v) => v === 0 || v === 0n)).toBe(true);
    }
  });

  it('refuses what has no typed array', () => {
    for (const dtype of ['|b1', '<f2', '|S4', '<M8[s]', '|O']) expect(parseNumericDtype(dtype)).toBeUndefined();
  });
});
