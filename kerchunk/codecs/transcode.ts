/**
 * One stored chunk decoded, its values transformed and encoded again, in one step: the processed
 * view's work for a target chunk that is exactly one source chunk, done where the codecs run (a
 * codec thread), so the decoded chunk never travels between threads. Moving it to the main
 * thread and back made a chunk-sized ArrayBuffer there per chunk, and V8 collects its heap on
 * the external memory they add up to: scavenges and mark-compacts that took a fifth of a cold
 * pass's CPU.
 */
import { elementType, swapBytes } from '../dtype.js';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { bitRoundInPlace } from './bitround.js';
import { chunkByteLength, decodeChunk, encodeChunk } from './chunk.js';
import { CodecError } from './codec.js';

/**
 * A transform of decoded values, described as plain data (it is cloned to a codec thread):
 * `bitround` is `bitRoundInPlace` with the fill value and every NaN kept.
 */
export interface BitRoundStep {
  readonly kind: 'bitround';
  readonly keepbits: number;
  /** Elements equal to this are left as they are (null: none). */
  readonly fillValue: number | null;
}

export type ValueStep = BitRoundStep;

/** What becomes of a stored chunk: how it decodes, what is done to its values, how it is encoded. */
export interface TranscodePlan {
  /** The source array's metadata: the stored bytes decode with its codecs to its chunk. */
  readonly source: ZarrArrayMetadata;
  /**
   * The target array's metadata: the same chunk shape and element size as the source, in native
   * (little-endian) order; the values are encoded with its codecs.
   */
  readonly target: ZarrArrayMetadata;
  /** The value transforms, in order. */
  readonly steps: readonly ValueStep[];
}

/**
 * `stored` decoded as `plan.source`, put in native byte order, transformed by the steps, encoded
 * as `plan.target`: the same bytes as decodeChunk, the steps and encodeChunk one after the
 * other. `recycle` is given the decoded chunk once nothing reads it any more (not when the
 * encoded result is that very array, as with no codecs at all). A plan whose target does not fit
 * its source, or a step of an unknown kind, is a CodecError.
 */
export async function transcodeChunk(stored: Uint8Array, plan: TranscodePlan, recycle?: (decoded: Uint8Array) => void): Promise<Uint8Array> {
  const { source, target } = plan;
  const sourceType = elementType(source.dtype);
  const targetType = elementType(target.dtype);
  if (!sourceType || !targetType || sourceType.size !== targetType.size || sourceType.kind !== targetType.kind || !targetType.littleEndian) {
    throw new CodecError('transcode', `cannot transcode ${JSON.stringify(source.dtype)} chunks to ${JSON.stringify(target.dtype)}`);
  }
  if (chunkByteLength(source) !== chunkByteLength(target)) {
    throw new CodecError('transcode', `a ${source.chunks.join('×')} source chunk is not a ${target.chunks.join('×')} target chunk`);
  }
  const decoded = await decodeChunk(stored, source);
  // a chain without codecs returns its input: the stored bytes are not ours to change
  const values = decoded.buffer === stored.buffer ? decoded.slice() : decoded;
  if (!sourceType.littleEndian) swapBytes(values, sourceType.size);
  for (const step of plan.steps) applyStep(values, target.dtype as string, step);
  const encoded = await encodeChunk(values, target);
  if (recycle && encoded.buffer !== values.buffer) recycle(values);
  return encoded;
}

function applyStep(values: Uint8Array, dtype: string, step: ValueStep): void {
  // a plan is cloned from another thread: its steps are checked here, not trusted
  if (step?.kind !== 'bitround') throw new CodecError('transcode', `unknown value step ${JSON.stringify((step as { kind?: unknown } | undefined)?.kind)}`);
  const fill = step.fillValue;
  if (fill !== null && typeof fill !== 'number') throw new CodecError('transcode', 'a bitround step needs a numeric fill value or null');
  bitRoundInPlace(values, dtype, step.keepbits, { fillValue: fill, keepNaN: true });
}
