/**
 * What a kerchunk reference table says about one Zarr key.
 *
 * - `inline`: the bytes are in the table itself (inline string or `base64:` payload, parquet `raw`).
 * - `range`: `length` bytes at `offset` of the file at `url`.
 * - `whole`: the whole file at `url` (fsspec `[url]`, or parquet offset = size = 0).
 */
export type ChunkReference =
  | { readonly kind: 'inline'; readonly data: Uint8Array }
  | { readonly kind: 'range'; readonly url: string; readonly offset: number; readonly length: number }
  | { readonly kind: 'whole'; readonly url: string };

/** A parsed JSON document, as found in Zarr metadata keys. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A reference table opened for serving: Zarr v2 metadata documents plus a chunk lookup.
 * Implementations: JSON v0/v1 (`json-references.ts`), fsspec parquet (`parquet-references.ts`).
 */
export interface ReferenceStore {
  /** Zarr v2 metadata documents ('.zgroup', '.zattrs', 'v/.zarray', 'v/.zattrs'), parsed. */
  readonly metadata: ReadonlyMap<string, JsonValue>;
  /**
   * The same documents as JSON text exactly as the table wrote them (same keys as `metadata`).
   * Served as is: re-serialising parsed JSON turns `150.0` into `150`, which Python clients
   * then read as an int attribute instead of a float.
   */
  readonly metadataText: ReadonlyMap<string, string>;
  /**
   * The reference of a chunk key ('v/0.1.2'), or undefined when the table has no such chunk
   * (a missing chunk: clients use the fill value). Throws ReferenceError for malformed keys of
   * known variables only when the table cannot answer (corrupt record); unknown keys → undefined.
   */
  chunk(key: string): Promise<ChunkReference | undefined>;
  /**
   * Every distinct source URL the table references, as written in the table (before resolution).
   * Lazy stores may read all their records to answer; used for validation at registration.
   */
  urls(): AsyncIterable<string>;
  /** Frees caches and file handles. */
  close(): Promise<void>;
}

/** A reference table that cannot be read or is malformed. The message names the table and the problem. */
export class ReferenceFormatError extends Error {
  override readonly name = 'ReferenceFormatError';
}
