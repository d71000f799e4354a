import type { NumericArray } from '../kerchunk/array-values.js';
import type { NumericDtype } from '../kerchunk/dtype.js';
import type { JsonValue } from '../kerchunk/reference.js';
import type { ZarrArrayMetadata } from '../kerchunk/zarr-metadata.js';

/** What a stage knows about the array it processes. */
export interface StageArray {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  /** Coordinates (named like a dimension, or listed in `coordinates`) are never made lossy. */
  readonly isCoordinate: boolean;
  readonly dtype: NumericDtype;
  readonly fillValue: number | bigint | undefined;
}

/** A stage applied to one array: its effect on the advertised metadata and on the values. */
export interface StageStep {
  /** The `.zarray` after this stage (chunks, compressor, filters, ...). */
  metadata(meta: ZarrArrayMetadata): ZarrArrayMetadata;
  /**
   * Transforms the decoded values of one target chunk. The chunk is this request's own: a stage
   * may change it in place and return it. What it returns is handed over to the encoder (possibly
   * moved to another thread), so it must not be an array the stage keeps.
   */
  values?(chunk: NumericArray): NumericArray;
}

/**
 * A processing stage of the processed view (`/zarr`). It reads one key of the dataset's
 * `processing` block; the stages run in the order the plugins are loaded.
 */
export interface ProcessingStage {
  /** The key of the `processing` block this stage reads ('chunks', 'keepbits', 'compressor'). */
  readonly key: string;
  /**
   * Checks the setting (undefined when the block does not name it) and returns the step for
   * each array (undefined: the array is left alone). Throws ProcessingConfigError.
   */
  configure(setting: JsonValue | undefined): (array: StageArray) => StageStep | undefined;
}

/** A `processing` block that cannot be used; the message names the setting. */
export class ProcessingConfigError extends Error {
  override readonly name = 'ProcessingConfigError';
}
