/** A byte range resolved against a body size: `start` inclusive, `end` exclusive. */
export interface ResolvedRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Reads a `Range` header for a body of `size` bytes (RFC 9110 §14):
 * - undefined: no usable range, serve the whole body (absent, not `bytes=`, several ranges, malformed);
 * - 'unsatisfiable': a single well-formed range that lies wholly outside the body (→ 416);
 * - a range clipped to the body.
 */
export function parseRange(header: string | undefined, size: number): ResolvedRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first.length > 15 || last.length > 15) return first === '' ? undefined : 'unsatisfiable';
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size : Math.min(size, Number(last) + 1);
  return { start, end };
}
