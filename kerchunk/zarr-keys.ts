/** Zarr v2 store keys: which are metadata documents, and which are safe to look up. */

const METADATA_NAMES = new Set(['.zarray', '.zattrs', '.zgroup', '.zmetadata']);

/** `.zgroup`, `a/.zarray`, `g/v/.zattrs`, `.zmetadata` — documents, not chunks. */
export function isMetadataKey(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return METADATA_NAMES.has(name);
}

export const MAX_KEY_LENGTH = 1024;

/**
 * Why a requested key can never name anything in a store, or undefined when it is well formed.
 * Keys never reach a file system, but rejecting these early keeps answers clear (400, not 404).
 */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'empty key';
  if (key.length > MAX_KEY_LENGTH) return `key longer than ${MAX_KEY_LENGTH} characters`;
  if (key.includes('\0')) return 'key contains a NUL byte';
  if (key.includes('\\')) return 'key contains a backslash';
  for (const segment of key.split('/')) {
    if (segment === '') return 'key has an empty path segment';
    if (segment === '.' || segment === '..') return `key has a "${segment}" path segment`;
  }
  return undefined;
}

/** The array path and chunk part of a chunk key: `g/v/0.1` → { array: 'g/v', chunk: '0.1' }. */
export function splitChunkKey(key: string): { array: string; chunk: string } | undefined {
  const slash = key.lastIndexOf('/');
  if (slash <= 0) return undefined;
  return { array: key.slice(0, slash), chunk: key.slice(slash + 1) };
}
