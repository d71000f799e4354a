import type { JsonValue } from '../reference.js';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { CodecError, type Codec } from './codec.js';
import { itemsize } from './element-type.js';
import { codecFromConfig } from './registry.js';

/** Options of encodeChunk. */
export interface EncodeChunkOptions {
  /**
   * Leave elements equal to the array's fill value untouched in a bitround filter (see
   * BitRoundOptions). Default false: exactly numcodecs.BitRound, which rounds them too.
   */
  readonly preserveFill?: boolean;
}

/** Bytes of one whole chunk of the array: prod(chunks) × itemsize. */
export function chunkByteLength(meta: ZarrArrayMetadata): number {
  const size = itemsize(meta.dtype);
  if (size === undefined) throw new CodecError('chunk', `cannot size elements of dtype ${JSON.stringify(meta.dtype)}`);
  return meta.chunks.reduce((product, n) => product * n, size);
}

/**
 * The filters then the compressor of an array, each built knowing the dtype of the bytes it
 * encodes (a filter with `astype` changes it for those after it).
 */
export function codecChain(meta: ZarrArrayMetadata, preserveFill = false): Codec[] {
  const chain: Codec[] = [];
  let dtype: string | JsonValue[] = meta.dtype;
  for (const config of meta.filters ?? []) {
    const context = preserveFill ? { dtype, preserveFill: meta.fill_value } : { dtype };
    chain.push(codecFromConfig(config as JsonValue, context));
    const astype = config.astype ?? (config.id === 'astype' ? config.encode_dtype : undefined);
    if (typeof astype === 'string') dtype = astype;
  }
  if (meta.compressor) chain.push(codecFromConfig(meta.compressor as JsonValue, { dtype }));
  return chain;
}

/**
 * Decodes one stored chunk: the compressor, then the filters in reverse (Zarr v2 order). The
 * result is the whole chunk in the array's dtype and byte order (not converted to native order),
 * and exactly prod(chunks) × itemsize bytes long, else a CodecError.
 */
export async function decodeChunk(bytes: Uint8Array, meta: ZarrArrayMetadata): Promise<Uint8Array> {
  const chain = codecChain(meta);
  let data = bytes;
  for (let i = chain.length - 1; i >= 0; i--) data = await (chain[i] as Codec).decode(data);
  const expected = chunkByteLength(meta);
  if (data.byteLength !== expected) {
    const ids = chain.map((codec) => codec.config.id).join(', ') || 'no codecs';
    throw new CodecError(
      'chunk',
      `decoded ${data.byteLength} bytes (${ids}), a ${meta.chunks.join('×')} chunk of ${JSON.stringify(meta.dtype)} is ${expected} bytes`,
    );
  }
  return data;
}

/**
 * Encodes one whole chunk (prod(chunks) × itemsize bytes in the array's dtype and byte order):
 * the filters in order, then the compressor.
 */
export async function encodeChunk(raw: Uint8Array, meta: ZarrArrayMetadata, options: EncodeChunkOptions = {}): Promise<Uint8Array> {
  const expected = chunkByteLength(meta);
  if (raw.byteLength !== expected) {
    throw new CodecError('chunk', `cannot encode ${raw.byteLength} bytes: a ${meta.chunks.join('×')} chunk of ${JSON.stringify(meta.dtype)} is ${expected} bytes`);
  }
  let data = raw;
  for (const codec of codecChain(meta, options.preserveFill ?? false)) data = await codec.encode(data);
  return data;
}
