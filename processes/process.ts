import type { Dataset } from '../catalog/dataset.js';
import type { DerivedChunkCache } from '../derive/derived-dataset.js';
import type { DatasetValues } from '../kerchunk/array-values.js';
import type { JsonValue } from '../kerchunk/reference.js';
import type { BudgetLimits } from '../kerchunk/request-budget.js';
import type { ResultFile } from './job-store.js';

/** What a process may use while it validates and runs. */
export interface ProcessEnvironment {
  /** A dataset by id: a public one, or a protected one this execution's caller was granted (undefined: no such dataset, or not granted). */
  dataset(id: string): Dataset | undefined;
  values(dataset: Dataset): DatasetValues;
  readonly budget: BudgetLimits;
  readonly maxOutputBytes: number;
  /** Chunks of derived datasets a process opens (the `derive` input of subset). */
  readonly derivedCache: DerivedChunkCache;
}

/** One run of a process. */
export interface RunContext {
  /** Directory for result files (created before the run). */
  readonly dir: string;
  /** 0..100 */
  progress(percent: number): void;
}

export interface ProcessOutputs {
  readonly outputs?: { readonly [name: string]: JsonValue };
  readonly files?: readonly ResultFile[];
}

/** A validated execution, ready to run. */
export interface PreparedRun {
  run(context: RunContext): Promise<ProcessOutputs>;
}

/** An OGC process: its description (OGC Process Description, without links) and its execution. */
export interface ProcessDefinition {
  readonly id: string;
  readonly description: { readonly [key: string]: JsonValue };
  /**
   * Checks the inputs (HttpProblem 400 / 404 / 413) and returns the run; `formats` holds the
   * media type asked for each output (`outputs: {name: {format: {mediaType}}}`).
   */
  prepare(inputs: ReadonlyMap<string, JsonValue>, environment: ProcessEnvironment, formats?: ReadonlyMap<string, string>): Promise<PreparedRun>;
}
