/**
 * Why reading source bytes failed. The HTTP layer maps these onto 502/503/504 (never a crash):
 * - `not-found`: the referenced file or object does not exist (502: the reference is stale)
 * - `short-read`: the source ended before the referenced range did (502)
 * - `bad-response`: the upstream answered with something unusable (502)
 * - `unavailable`: the upstream refused or reset the connection, or answered 5xx (503)
 * - `timeout`: the upstream did not answer in time (504)
 */
export type SourceFailure = 'not-found' | 'short-read' | 'bad-response' | 'unavailable' | 'timeout';

export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    readonly failure: SourceFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A reference points outside the configured `sources.allow` roots. Never read. */
export class SourceForbiddenError extends Error {
  override readonly name = 'SourceForbiddenError';
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}
