/* strato's native codec kernels: plain C, no allocation inside, every length given by the caller. */
#ifndef STRATO_NATIVE_H
#define STRATO_NATIVE_H

#include <stddef.h>
#include <stdint.h>

void strato_shuffle(const uint8_t *src, uint8_t *dst, size_t length, size_t size);
void strato_unshuffle(const uint8_t *src, uint8_t *dst, size_t length, size_t size);

size_t strato_lz4_bound(size_t length);
/* Bytes of the scratch state strato_lz4_compress needs (8-byte aligned, e.g. from malloc; reusable, not shared between threads). */
size_t strato_lz4_state_bytes(void);
/* Compresses `length` bytes into at most `capacity` bytes of `dst`: the bytes written, 0 when they do not fit. */
size_t strato_lz4_compress(const uint8_t *src, size_t length, uint8_t *dst, size_t capacity, unsigned acceleration, void *state);
/* strato's own LZ4 compressor (what strato_lz4_compress runs without liblz4), the same contract. */
size_t strato_lz4_compress_own(const uint8_t *src, size_t length, uint8_t *dst, size_t capacity, unsigned acceleration, void *state);
/* liblz4's version string where it was linked (it makes the blocks then), else NULL (strato's own compressor). */
const char *strato_lz4_implementation(void);
int strato_has_liblz4(void);

/* Decodes one blosclz stream into exactly `capacity` bytes at most; returns the bytes written, or -1 for a corrupt stream. */
long strato_blosclz_decompress(const uint8_t *src, size_t length, uint8_t *dst, size_t capacity);

/* float32 bit rounding (maskbits 1..23) of `count` words from src to dst (the same or not overlapping). */
void strato_bitround32(const uint8_t *src, uint8_t *dst, size_t count, unsigned maskbits, int keep_nan, int has_keep, uint32_t keep);

/* zlib streams through libdeflate where it was linked (inflate.c): bytes written, -1 refused, -2 past capacity, -3 unavailable. */
void *strato_inflater_new(void);
void strato_inflater_free(void *inflater);
long strato_inflate_zlib(void *inflater, const uint8_t *src, size_t length, uint8_t *dst, size_t capacity);
int strato_has_libdeflate(void);

#endif
