import type { TranscodePlan } from './codecs/transcode.js';

/**
 * Decoded values of a dataset's arrays: what the processed view, OPeNDAP, STAC extents and plots
 * read. The raw view never goes through here.
 */
export type NumericArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** A selection along one dimension, as Python's slice: `start` inclusive, `stop` exclusive, `step` ≥ 1. */
export interface Slice {
  readonly start: number;
  readonly stop: number;
  readonly step: number;
}

/** Number of indices a slice selects. */
export function sliceLength({ start, stop, step }: Slice): number {
  return stop <= start ? 0 : Math.ceil((stop - start) / step);
}

/** One array, decoded: values come back in native byte order as the stored type (no CF scaling). */
export interface ArrayValues {
  readonly name: string;
  /** Stored dtype as written in `.zarray` ('<f4', '>i2', '|u1'). */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly chunks: readonly number[];
  /** The Zarr fill value as a number (NaN for "NaN"), or undefined when `fill_value` is null. */
  readonly fillValue: number | bigint | undefined;
  /**
   * The values of a hyperslab in C order, one slice per dimension (0-d arrays: no slices).
   * Chunks the references do not have read as the fill value (0 when there is none).
   * Throws SourceError when a source cannot be read.
   */
  read(selection: readonly Slice[], signal?: AbortSignal, options?: ReadOptions): Promise<NumericArray>;
  /**
   * A selection that is exactly one whole stored chunk, not held decoded by anyone (as `read`
   * with `uncached` would hand it over): its stored bytes decoded, transformed and encoded in one
   * codec job (`ChunkCodecs.transcode`; `plan.source` is this array's metadata), charged to the
   * request's budget as that `read`. Undefined when the selection is anything else, or the chunk
   * is cached, being read, or missing: the caller reads the values instead.
   */
  transcode?(selection: readonly Slice[], plan: Omit<TranscodePlan, 'source'>, signal?: AbortSignal): Promise<Uint8Array | undefined>;
}

export interface ReadOptions {
  /**
   * The caller keeps what it makes of the values (the processed view caches encoded chunks), so a
   * selection that is exactly one whole chunk, not cached yet, is handed over as decoded instead
   * of copied, and not kept in the decoded-chunk cache. The result is the caller's own either way.
   */
  readonly uncached?: boolean;
}

/** The decoded arrays of one dataset. */
export interface DatasetValues {
  /** The array at this path ('tas', 'group/var'), or undefined when there is none or its dtype is not numeric. */
  array(name: string): ArrayValues | undefined;
}
