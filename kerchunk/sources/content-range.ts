/** A parsed `Content-Range: bytes start-end/size` response header (end inclusive, size unknown for `*`). */
export interface ContentRange {
  readonly start: number;
  readonly end: number;
  readonly size: number | undefined;
}

const CONTENT_RANGE = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i;

/** The byte range a 206 response says it carries; undefined when the header is missing or malformed. */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (value === undefined) return undefined;
  const match = CONTENT_RANGE.exec(value);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const size = match[3] === '*' ? undefined : Number(match[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  if (size !== undefined && (!Number.isSafeInteger(size) || end >= size)) return undefined;
  return { start, end, size };
}
