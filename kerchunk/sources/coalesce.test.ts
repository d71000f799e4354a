import { describe, expect, it } from 'vitest';
import { planReads, readCoalesced } from './coalesce.js';

const r = (offset: number, length: number) => ({ offset, length });

describe('planReads', () => {
  it('merges adjacent ranges into one read', () => {
    expect(planReads([r(0, 10), r(10, 10), r(20, 5)])).toEqual([{ offset: 0, length: 25, members: [0, 1, 2] }]);
  });

  it('merges across a gap up to the threshold, not beyond', () => {
    expect(planReads([r(0, 10), r(20, 10)], { gapBytes: 10 })).toEqual([{ offset: 0, length: 30, members: [0, 1] }]);
    expect(planReads([r(0, 10), r(21, 10)], { gapBytes: 10 })).toEqual([
      { offset: 0, length: 10, members: [0] },
      { offset: 21, length: 10, members: [1] },
    ]);
  });

  it('never merges beyond maxReadBytes, but reads a larger single range alone', () => {
    const plan = planReads([r(0, 40), r(40, 40), r(80, 40), r(200, 500)], { gapBytes: 1000, maxReadBytes: 100 });
    expect(plan).toEqual([
      { offset: 0, length: 80, members: [0, 1] },
      { offset: 80, length: 40, members: [2] },
      { offset: 200, length: 500, members: [3] },
    ]);
  });

  it('sorts unordered input, handles overlaps and duplicates, and skips empty ranges', () => {
    const plan = planReads([r(100, 10), r(0, 10), r(5, 10), r(0, 10), r(50, 0)], { gapBytes: 0 });
    expect(plan).toEqual([
      { offset: 0, length: 15, members: [1, 3, 2] },
      { offset: 100, length: 10, members: [0] },
    ]);
  });

  it('a range contained in another does not extend the read', () => {
    expect(planReads([r(0, 100), r(10, 5)], { gapBytes: 0 })).toEqual([{ offset: 0, length: 100, members: [0, 1] }]);
  });

  it('rejects negative, fractional and unsafe ranges', () => {
    expect(() => planReads([r(-1, 5)])).toThrow(RangeError);
    expect(() => planReads([r(0, 1.5)])).toThrow(RangeError);
    expect(() => planReads([r(Number.MAX_SAFE_INTEGER, 2)])).toThrow(RangeError);
    expect(() => planReads([r(0, 1)], { maxReadBytes: 0 })).toThrow(RangeError);
  });
});

describe('readCoalesced', () => {
  const source = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);

  it('issues one read per planned group and slices results back in input order', async () => {
    const calls: Array<[number, number]> = [];
    const read = async (offset: number, length: number) => {
      calls.push([offset, length]);
      return source.slice(offset, offset + length);
    };
    const ranges = [r(500, 10), r(0, 10), r(20, 30), r(15, 0), r(505, 10), r(900, 100)];
    const results = await readCoalesced(ranges, read, { gapBytes: 16 });
    expect(calls.sort((a, b) => a[0] - b[0])).toEqual([
      [0, 50],
      [500, 15],
      [900, 100],
    ]);
    results.forEach((bytes, i) => {
      const range = ranges[i]!;
      expect(Array.from(bytes)).toEqual(Array.from(source.subarray(range.offset, range.offset + range.length)));
    });
  });

  it('copies partial slices so they do not share the merged buffer', async () => {
    const results = await readCoalesced([r(0, 4), r(8, 4)], async (offset, length) => source.slice(offset, offset + length));
    expect(results[0]!.buffer.byteLength).toBe(4);
    expect(results[1]!.buffer.byteLength).toBe(4);
  });

  it('returns the read itself when a range is the whole read', async () => {
    const bytes = source.slice(0, 10);
    const [result] = await readCoalesced([r(0, 10)], async () => bytes);
    expect(result).toBe(bytes);
  });

  it('fails when a read returns the wrong number of bytes', async () => {
    await expect(readCoalesced([r(0, 10)], async () => new Uint8Array(5))).rejects.toThrow(/5 bytes instead of 10/);
  });

  it('reads nothing for no ranges', async () => {
    let called = false;
    expect(
      await readCoalesced([], async () => {
        called = true;
        return new Uint8Array(0);
      }),
    ).toEqual([]);
    expect(called).toBe(false);
  });
});
