import { createHash } from 'node:crypto';

/** A strong ETag (quoted) from the parts that identify a representation. */
export function etagOf(...parts: ReadonlyArray<string | number | Uint8Array>): string {
  const hash = createHash('sha1');
  for (const part of parts) {
    hash.update(typeof part === 'number' ? String(part) : part);
    hash.update('\0');
  }
  return `"${hash.digest('base64url').slice(0, 27)}"`;
}

/** Whether an If-None-Match header matches the ETag (weak comparison, as RFC 9110 asks for GET/HEAD). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === opaque;
  });
}
