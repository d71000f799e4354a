/** Zarr v2 codecs, numcodecs-compatible: one interface, a registry, whole-chunk decode and encode. */

export { type ElementType, elementType, itemsize } from '../dtype.js';
export { type BitRoundOptions, bitRound, bitRoundInPlace, MANTISSA_BITS } from './bitround.js';
export { type BloscHeader, bloscHeader } from './blosc.js';
export { chunkByteLength, codecChain, decodeChunk, decodeLimits, type EncodeChunkOptions, encodeChunk } from './chunk.js';
export { type Codec, type CodecConfig, type CodecContext, CodecError, UnsupportedCodecError } from './codec.js';
export { fletcher32 } from './fletcher32.js';
export { type CodecFactory, codecFromConfig, registerCodec, registerCodecModule, supportedCodecs } from './registry.js';
export { type ZstdBackend, zstdBackend } from './zstd.js';
