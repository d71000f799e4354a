/** A byte range resolved against a body size: `start` inclusive, `end` exclusive. */
export interface ResolvedRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Reads a `Range` header for a body of `size` bytes (RFC 9110 §14):
 * - undefined: no usable range, serve the whole body (absent, not `bytes=`, several ranges,
 *   malformed, or a last position before the first: an invalid range-spec is ignored);
 * - 'unsatisfiable': a single well-formed range that starts at or past the end of the body, or a
 *   suffix of length 0 (→ 416);
 * - a range clipped to the body: a last position past the end means the end (§14.1.2), a suffix
 *   longer than the body means all of it, however many digits either has.
 */
export function parseRange(header: string | undefined, size: number): ResolvedRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  // positions compared exactly (BigInt): `bytes=0-<20 digits>` is a valid range, not an overflow
  const length = BigInt(size);
  if (first === '') {
    const suffix = BigInt(last);
    if (suffix === 0n) return 'unsatisfiable';
    return { start: Number(suffix >= length ? 0n : length - suffix), end: size };
  }
  const start = BigInt(first);
  if (last !== '' && BigInt(last) < start) return undefined;
  if (start >= length) return 'unsatisfiable';
  const end = last === '' || BigInt(last) >= length ? length : BigInt(last) + 1n;
  return { start: Number(start), end: Number(end) };
}
