import type { ByteRange } from './byte-source.js';

/**
 * Coalescing of byte ranges: ranges of one object that are adjacent, overlapping or separated by
 * at most `gapBytes` are fetched as one read (bounded by `maxReadBytes`), and each input range
 * gets its own slice back, in input order. Every ByteSource's `readRanges` goes through here.
 */
export interface CoalesceOptions {
  /** Largest hole between two ranges that is read (and thrown away) to save a request. Default 64 KiB. */
  readonly gapBytes?: number;
  /** Largest merged read; a single range larger than this is still read, alone. Default 8 MiB. */
  readonly maxReadBytes?: number;
}

export const DEFAULT_GAP_BYTES = 64 * 1024;
export const DEFAULT_MAX_READ_BYTES = 8 * 1024 * 1024;

/** One read of the plan and the input ranges (by index) it serves. */
export interface CoalescedRead {
  readonly offset: number;
  readonly length: number;
  /** Indices into the input ranges, ascending by offset. */
  readonly members: readonly number[];
}

/**
 * Groups the non-empty input ranges into reads. Empty ranges (length 0) belong to no read.
 * Throws RangeError for a negative, fractional or unsafe offset or length.
 */
export function planReads(ranges: readonly ByteRange[], options: CoalesceOptions = {}): CoalescedRead[] {
  const gap = options.gapBytes ?? DEFAULT_GAP_BYTES;
  const max = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
  if (!(gap >= 0) || !(max > 0)) throw new RangeError(`coalescing needs gapBytes >= 0 and maxReadBytes > 0 (got ${gap}, ${max})`);
  ranges.forEach(checkRange);
  const order = ranges
    .map((range, index) => ({ range, index }))
    .filter(({ range }) => range.length > 0)
    .sort((a, b) => a.range.offset - b.range.offset || a.range.length - b.range.length || a.index - b.index);

  const reads: CoalescedRead[] = [];
  let start = 0;
  let end = 0;
  let members: number[] = [];
  for (const { range, index } of order) {
    const rangeEnd = range.offset + range.length;
    const mergedEnd = Math.max(end, rangeEnd);
    if (members.length > 0 && range.offset <= end + gap && mergedEnd - start <= max) {
      end = mergedEnd;
      members.push(index);
      continue;
    }
    if (members.length > 0) reads.push({ offset: start, length: end - start, members });
    start = range.offset;
    end = rangeEnd;
    members = [index];
  }
  if (members.length > 0) reads.push({ offset: start, length: end - start, members });
  return reads;
}

/**
 * Reads `ranges` through `read` (one call per planned read, all started at once) and returns one
 * array per input range, in input order. A slice that is all of its read is returned as is; other
 * slices are copied, so a small result never pins a large merged buffer in memory.
 */
export async function readCoalesced(
  ranges: readonly ByteRange[],
  read: (offset: number, length: number) => Promise<Uint8Array>,
  options: CoalesceOptions = {},
): Promise<Uint8Array[]> {
  const plan = planReads(ranges, options);
  const results: Uint8Array[] = ranges.map(() => new Uint8Array(0));
  await Promise.all(
    plan.map(async (planned) => {
      const bytes = await read(planned.offset, planned.length);
      if (bytes.byteLength !== planned.length) {
        throw new RangeError(`coalesced read returned ${bytes.byteLength} bytes instead of ${planned.length}`);
      }
      for (const index of planned.members) {
        const range = ranges[index] as ByteRange;
        const from = range.offset - planned.offset;
        const whole = from === 0 && range.length === planned.length;
        results[index] = whole ? bytes : bytes.slice(from, from + range.length);
      }
    }),
  );
  return results;
}

function checkRange(range: ByteRange): void {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(offset + length)) {
    throw new RangeError(`invalid byte range: offset ${offset}, length ${length}`);
  }
}
