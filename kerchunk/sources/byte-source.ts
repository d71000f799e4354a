/**
 * Reads bytes from one kind of location (local files, http(s), s3). URLs given to a ByteSource
 * are already resolved and checked against the allow list (see allow-list.ts): a ByteSource never
 * decides what may be read, only how.
 */
export interface ByteSource {
  /** `length` bytes at `offset`; throws SourceError (short-read when the source is shorter). */
  read(url: string, offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** The whole object. */
  readWhole(url: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** The object's length in bytes (fstat, HEAD or a Range probe; cached briefly); undefined when the source does not say. */
  size(url: string, signal?: AbortSignal): Promise<number | undefined>;
  /** A version tag of the object (size + mtime, or ETag) for cache validation; undefined when unknown. */
  version(url: string, signal?: AbortSignal): Promise<string | undefined>;
  close(): Promise<void>;
}
