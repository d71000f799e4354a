import type { JsonValue } from '../reference.js';

/** A numcodecs configuration as stored in `.zarray` (`compressor`, `filters[i]`). */
export interface CodecConfig {
  readonly id: string;
  readonly [option: string]: JsonValue;
}

/**
 * One Zarr v2 codec (numcodecs-compatible), zarrita style: a tiny object turning bytes into bytes.
 * Outputs may share memory with inputs (a checksum decode returns a view); inputs are never modified.
 */
export interface Codec {
  readonly config: CodecConfig;
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}

/** What a codec may need to know beyond its configuration. */
export interface CodecContext {
  /**
   * The dtype of the bytes the codec encodes (= what its decode returns): the array's dtype for
   * the first filter, the previous filter's `astype` further along. Blosc takes its typesize from
   * it, bitround its float width.
   */
  readonly dtype?: string | JsonValue[];
  /**
   * Bitround only: leave elements equal to this Zarr fill value untouched (bit for bit; a NaN fill
   * keeps every NaN). numcodecs.BitRound has no such option and rounds the fill value too.
   */
  readonly preserveFill?: JsonValue;
  /**
   * The most bytes `decode` may return (the chunk's decoded size, carried back through the
   * filters; see decodeLimits in chunk.ts). A decode that would produce more is refused with a
   * CodecError before the output is allocated: a small corrupt or hostile chunk must not make the
   * server allocate gigabytes. Absent: no limit (codecs used on their own, encoding).
   */
  readonly maxDecodedBytes?: number | undefined;
}

/** A codec id, or an option of a known codec, that this implementation does not handle. */
export class UnsupportedCodecError extends Error {
  override readonly name = 'UnsupportedCodecError';
  constructor(
    readonly codecId: string,
    detail?: string,
  ) {
    super(detail ? `unsupported codec "${codecId}": ${detail}` : `unsupported codec "${codecId}"`);
  }
}

/** Bytes a codec cannot decode (corrupt stream, checksum mismatch) or encode (wrong length). */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(
    readonly codecId: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`codec "${codecId}": ${detail}`, options);
  }
}

/**
 * Refuses a decode whose output would be `bytes` long when at most `limit` bytes are allowed
 * (`limit` undefined: no limit). Call it before allocating the output.
 */
export function checkDecodedSize(codecId: string, bytes: number, limit: number | undefined, what = 'decodes to'): void {
  if (limit !== undefined && !(bytes <= limit)) {
    throw new CodecError(codecId, `corrupt data: ${what} ${bytes} bytes, more than the ${limit} bytes this chunk may hold`);
  }
}

/** Runs a codec step, turning whatever a library throws into a CodecError naming the codec. */
export async function guarded<T>(codecId: string, action: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof CodecError || error instanceof UnsupportedCodecError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CodecError(codecId, `cannot ${action}: ${message}`, { cause: error });
  }
}
