import { itemsize } from '../dtype.js';
import type { JsonValue } from '../reference.js';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { type Codec, CodecError } from './codec.js';
import { nativeCodecs } from './native.js';
import { codecFromConfig } from './registry.js';
import { uninitialisedBytes } from './spare-bytes.js';

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
 * encodes (a filter with `astype` changes it for those after it) and the most bytes its decode
 * may return (decodeLimits).
 */
export function codecChain(meta: ZarrArrayMetadata, preserveFill = false): Codec[] {
  const chain: Codec[] = [];
  const limits = decodeLimits(meta);
  let dtype: string | JsonValue[] = meta.dtype;
  (meta.filters ?? []).forEach((config, i) => {
    const context = { dtype, maxDecodedBytes: limits?.[i], ...(preserveFill ? { preserveFill: meta.fill_value } : {}) };
    chain.push(codecFromConfig(config as JsonValue, context));
    const astype = config.astype ?? (config.id === 'astype' ? config.encode_dtype : undefined);
    if (typeof astype === 'string') dtype = astype;
  });
  if (meta.compressor) chain.push(codecFromConfig(meta.compressor as JsonValue, { dtype, maxDecodedBytes: limits?.[chain.length] }));
  return chain;
}

/**
 * The most bytes each stage's decode may return, for the filters in order then the compressor:
 * the chunk's decoded size (prod(chunks) × itemsize) carried forward through what each filter's
 * encode makes of it. A filter decodes to what it was given to encode, so its limit is the size
 * before it; the compressor's is the size after the last filter. Filters whose encoded size is
 * fixed by their configuration (delta, fixedscaleoffset, astype: elements × the `astype` size;
 * checksums: 4 more bytes; shuffle, bitround: the same) give exact sizes; a codec of any other
 * kind used as a filter (a compressor) gets a generous bound of its worst-case expansion.
 * Undefined when the dtype has no itemsize (such chunks cannot be decoded anyway).
 */
export function decodeLimits(meta: ZarrArrayMetadata): number[] | undefined {
  const size = itemsize(meta.dtype);
  if (size === undefined) return undefined;
  let bytes = meta.chunks.reduce((product, n) => product * n, size);
  const limits: number[] = [];
  for (const filter of meta.filters ?? []) {
    limits.push(bytes);
    bytes = encodedSize(filter as Record<string, JsonValue>, bytes);
  }
  limits.push(bytes);
  return limits;
}

/** Bytes a filter's encode returns for `bytes` bytes of input (an upper bound where not fixed). */
function encodedSize(filter: Record<string, JsonValue>, bytes: number): number {
  const resize = (from: JsonValue | undefined, to: JsonValue | undefined): number => {
    const fromSize = from === undefined ? undefined : itemsize(from);
    const toSize = to === undefined ? fromSize : itemsize(to);
    if (!fromSize || toSize === undefined) return bytes;
    return Math.ceil(bytes / fromSize) * toSize;
  };
  switch (filter.id) {
    case 'delta':
    case 'fixedscaleoffset':
      return resize(filter.dtype, filter.astype ?? filter.dtype);
    case 'astype':
      return resize(filter.decode_dtype, filter.encode_dtype);
    case 'crc32':
    case 'adler32':
    case 'fletcher32':
      return bytes + 4;
    case 'shuffle':
    case 'bitround':
      return bytes;
    default:
      // a compressor used as a filter: none expands data by more than this
      return bytes + Math.ceil(bytes / 8) + 64 * 1024;
  }
}

/**
 * Decodes one stored chunk: the compressor, then the filters in reverse (Zarr v2 order). The
 * result is the whole chunk in the array's dtype and byte order (not converted to native order),
 * and exactly prod(chunks) × itemsize bytes long, else a CodecError.
 */
export async function decodeChunk(bytes: Uint8Array, meta: ZarrArrayMetadata): Promise<Uint8Array> {
  const expected = chunkByteLength(meta);
  const chain = codecChain(meta);
  const fused = inflateUnshuffled(bytes, chain, expected);
  if (fused) return fused;
  let data = bytes;
  for (let i = chain.length - 1; i >= 0; i--) data = await (chain[i] as Codec).decode(data);
  if (data.byteLength !== expected) {
    const ids = chain.map((codec) => codec.config.id).join(', ') || 'no codecs';
    throw new CodecError('chunk', `decoded ${data.byteLength} bytes (${ids}), a ${meta.chunks.join('×')} chunk of ${JSON.stringify(meta.dtype)} is ${expected} bytes`);
  }
  return data;
}

/** Chunks up to this size take the one-step NetCDF4 decode (zlib.ts inflates larger ones in pieces). */
const FUSED_MAX_BYTES = 64 * 1024 * 1024;

/**
 * NetCDF4's usual chunk (HDF5 shuffle, then deflate: filters [shuffle], compressor zlib) in one
 * native step where libdeflate is linked: inflated into the codec thread's scratch and unshuffled
 * straight into the chunk, so no intermediate chunk-sized array is allocated (and faulted in, and
 * collected). The chain was built first, so configurations are checked as always. Undefined when
 * this does not apply, or the stream does not inflate to exactly the chunk: then the codecs
 * decode it one by one, and their answer (bytes or error) is the reference.
 */
function inflateUnshuffled(bytes: Uint8Array, chain: readonly Codec[], expected: number): Uint8Array | undefined {
  if (!nativeCodecs?.hasLibdeflate || chain.length !== 2 || expected === 0 || expected > FUSED_MAX_BYTES) return undefined;
  const [shuffle, zlib] = chain as [Codec, Codec];
  if (shuffle.config.id !== 'shuffle' || zlib.config.id !== 'zlib') return undefined;
  // the shuffle codec checked it: an integer 0..65536 (≤ 1: a plain copy)
  const elementsize = typeof shuffle.config.elementsize === 'number' ? shuffle.config.elementsize : 4;
  if (elementsize > 1 && expected % elementsize !== 0) return undefined;
  const out = uninitialisedBytes(expected);
  return nativeCodecs.inflateZlib(bytes, out, elementsize) === expected ? out : undefined;
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
