import type { NumericArray } from '../kerchunk/array-values.js';
import type { ValueStep } from '../kerchunk/codecs/transcode.js';
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
  /** Named by a variable's CF `bounds` or `climatology` attribute: cell edges of a coordinate. */
  readonly isBounds: boolean;
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
  /**
   * The same transform as `values`, described as data for a codec thread (kerchunk/codecs/
   * transcode.ts), which applies it to a chunk between its decode and its encode, bit for bit as
   * `values` would. A view whose steps all have one makes a target chunk that is one whole source
   * chunk in one codec job; without it, the chunk's values come to this thread for `values`.
   */
  readonly valueStep?: ValueStep;
  /**
   * Attributes this stage sets on the array's `.zattrs` in the view, given the source's (e.g. what
   * a lossy stage did to the values); the other attributes are kept as written.
   */
  attributes?(source: Readonly<Record<string, JsonValue>>): Record<string, JsonValue>;
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

/** A configured stage: the step it takes for one array (undefined: the array is left alone). */
export type StepFactory = (array: StageArray) => StageStep | undefined;

/** Each stage configured from its key of the processing block; unknown keys are an error. */
export function configureStages(stages: readonly ProcessingStage[], processing: JsonValue | undefined): StepFactory[] {
  const block = processing ?? {};
  if (typeof block !== 'object' || block === null || Array.isArray(block)) throw new ProcessingConfigError('"processing" must be a mapping');
  const known = new Set(stages.map((stage) => stage.key));
  const unknown = Object.keys(block).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new ProcessingConfigError(`unknown processing setting(s) ${unknown.map((k) => `"${k}"`).join(', ')}; known: ${[...known].join(', ')}`);
  }
  return stages.map((stage) => stage.configure(Object.hasOwn(block, stage.key) ? block[stage.key] : undefined));
}

/** Why a `processing` block cannot be used by these stages, or undefined when it can. */
export function processingProblem(stages: readonly ProcessingStage[], processing: JsonValue | undefined): string | undefined {
  try {
    configureStages(stages, processing);
    return undefined;
  } catch (error) {
    if (error instanceof ProcessingConfigError) return error.message;
    throw error;
  }
}
