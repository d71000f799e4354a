import { createHash } from 'node:crypto';

/**
 * ETags of text parts (a chunk's url, offset, length and version) already computed, by the exact
 * text hashed: a SHA-1 costs ~3 µs, a chunk request's whole budget is a few tens. Bounded; the
 * oldest entry goes first. Equal keys are equal hash inputs, so a hit is the value a hash would
 * give (and a new version is a new key, so a new ETag).
 */
const MEMO_MAX = 4096;
const memo = new Map<string, string>();

/** A strong ETag (quoted) from the parts that identify a representation. */
export function etagOf(...parts: ReadonlyArray<string | number | Uint8Array>): string {
  let key = '';
  for (const part of parts) {
    if (typeof part !== 'string' && typeof part !== 'number') return hashOf(parts);
    key += `${part}\0`;
  }
  const known = memo.get(key);
  if (known !== undefined) return known;
  const etag = hashOf(parts);
  if (memo.size >= MEMO_MAX) memo.delete(memo.keys().next().value as string);
  memo.set(key, etag);
  return etag;
}

function hashOf(parts: ReadonlyArray<string | number | Uint8Array>): string {
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
