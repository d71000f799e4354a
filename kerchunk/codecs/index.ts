/** Zarr v2 codecs, numcodecs-compatible: one interface, a registry, whole-chunk decode and encode. */
export { CodecError, UnsupportedCodecError, type Codec, type CodecConfig, type CodecContext } from './codec.js';
export { codecFromConfig, SUPPORTED_CODECS } from './registry.js';
export { chunkByteLength, codecChain, decodeChunk, decodeLimits, encodeChunk, type EncodeChunkOptions } from './chunk.js';
export { bitRound, bitRoundInPlace, MANTISSA_BITS, type BitRoundOptions } from './bitround.js';
export { fletcher32 } from './fletcher32.js';
export { bloscHeader, type BloscHeader } from './blosc.js';
export { zstdBackend, type ZstdBackend } from './zstd.js';
export { itemsize, elementType, type ElementType } from './element-type.js';
