import type { SourceFailure } from './source-error.js';

/** Which kind of byte source served a read. */
export type SourceKind = 'file' | 'http' | 's3';

/** One finished read of source bytes (one request to the source, after coalescing). */
export interface SourceReadEvent {
  readonly kind: SourceKind;
  readonly seconds: number;
  /** Bytes returned (0 when the read failed). */
  readonly bytes: number;
  /** Why it failed: a SourceError failure, `aborted` (the client went away) or `other`. */
  readonly failure?: SourceFailure | 'aborted' | 'other';
}

/** Watches reads of source bytes (metrics). Called inline: must be cheap and never throw. */
export interface SourceReadObserver {
  read(event: SourceReadEvent): void;
}
