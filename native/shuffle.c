/*
 * Byte shuffle and unshuffle (numcodecs Shuffle, HDF5's shuffle filter, blosc's byte shuffle):
 * byte j of element i goes to j * count + i. Only whole elements move; the bytes of a trailing
 * partial element are copied where they are (as blosc does). Plain C that gcc vectorises at -O3,
 * with SSE2 (every x86-64 has it) for the 4-byte case that float32 data takes.
 */
#include "strato_native.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Element sizes with their own loop: the size is a constant there, so gcc unrolls and vectorises. */
#define SHUFFLE_FIXED(size)                                                        \
  static void shuffle_##size(const uint8_t *src, uint8_t *dst, size_t count) {    \
    for (size_t j = 0; j < (size); j++) {                                          \
      uint8_t *plane = dst + j * count;                                            \
      for (size_t i = 0; i < count; i++) plane[i] = src[i * (size) + j];           \
    }                                                                              \
  }                                                                                \
  static void unshuffle_##size(const uint8_t *src, uint8_t *dst, size_t count) {  \
    for (size_t j = 0; j < (size); j++) {                                          \
      const uint8_t *plane = src + j * count;                                      \
      for (size_t i = 0; i < count; i++) dst[i * (size) + j] = plane[i];           \
    }                                                                              \
  }

SHUFFLE_FIXED(2)
SHUFFLE_FIXED(8)
SHUFFLE_FIXED(16)

static void shuffle_any(const uint8_t *src, uint8_t *dst, size_t count, size_t size) {
  for (size_t j = 0; j < size; j++) {
    uint8_t *plane = dst + j * count;
    const uint8_t *from = src + j;
    for (size_t i = 0; i < count; i++, from += size) plane[i] = *from;
  }
}

static void unshuffle_any(const uint8_t *src, uint8_t *dst, size_t count, size_t size) {
  for (size_t j = 0; j < size; j++) {
    const uint8_t *plane = src + j * count;
    uint8_t *to = dst + j;
    for (size_t i = 0; i < count; i++, to += size) *to = plane[i];
  }
}

/* 4-byte elements: 16 at a time with SSE2 byte/word interleaves, the rest one by one. */
static void shuffle_4(const uint8_t *src, uint8_t *dst, size_t count) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= count; i += 16) {
    const uint8_t *s = src + 4 * i;
    __m128i x0 = _mm_loadu_si128((const __m128i *)(s));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(s + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(s + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(s + 48));
    /* round 1: interleave elements i and i+8 byte by byte */
    __m128i a0 = _mm_unpacklo_epi8(x0, x2);
    __m128i a1 = _mm_unpackhi_epi8(x0, x2);
    __m128i a2 = _mm_unpacklo_epi8(x1, x3);
    __m128i a3 = _mm_unpackhi_epi8(x1, x3);
    /* rounds 2..4: the same on the results transposes the 16x4 byte matrix */
    __m128i b0 = _mm_unpacklo_epi8(a0, a2);
    __m128i b1 = _mm_unpackhi_epi8(a0, a2);
    __m128i b2 = _mm_unpacklo_epi8(a1, a3);
    __m128i b3 = _mm_unpackhi_epi8(a1, a3);
    __m128i c0 = _mm_unpacklo_epi8(b0, b2);
    __m128i c1 = _mm_unpackhi_epi8(b0, b2);
    __m128i c2 = _mm_unpacklo_epi8(b1, b3);
    __m128i c3 = _mm_unpackhi_epi8(b1, b3);
    __m128i d0 = _mm_unpacklo_epi8(c0, c2);
    __m128i d1 = _mm_unpackhi_epi8(c0, c2);
    __m128i d2 = _mm_unpacklo_epi8(c1, c3);
    __m128i d3 = _mm_unpackhi_epi8(c1, c3);
    _mm_storeu_si128((__m128i *)(dst + i), d0);
    _mm_storeu_si128((__m128i *)(dst + count + i), d1);
    _mm_storeu_si128((__m128i *)(dst + 2 * count + i), d2);
    _mm_storeu_si128((__m128i *)(dst + 3 * count + i), d3);
  }
#endif
  for (; i < count; i++) {
    dst[i] = src[4 * i];
    dst[count + i] = src[4 * i + 1];
    dst[2 * count + i] = src[4 * i + 2];
    dst[3 * count + i] = src[4 * i + 3];
  }
}

static void unshuffle_4(const uint8_t *src, uint8_t *dst, size_t count) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= count; i += 16) {
    __m128i p0 = _mm_loadu_si128((const __m128i *)(src + i));
    __m128i p1 = _mm_loadu_si128((const __m128i *)(src + count + i));
    __m128i p2 = _mm_loadu_si128((const __m128i *)(src + 2 * count + i));
    __m128i p3 = _mm_loadu_si128((const __m128i *)(src + 3 * count + i));
    __m128i lo01 = _mm_unpacklo_epi8(p0, p1); /* bytes 0,1 of elements 0..7 */
    __m128i hi01 = _mm_unpackhi_epi8(p0, p1); /* bytes 0,1 of elements 8..15 */
    __m128i lo23 = _mm_unpacklo_epi8(p2, p3);
    __m128i hi23 = _mm_unpackhi_epi8(p2, p3);
    uint8_t *d = dst + 4 * i;
    _mm_storeu_si128((__m128i *)(d), _mm_unpacklo_epi16(lo01, lo23));
    _mm_storeu_si128((__m128i *)(d + 16), _mm_unpackhi_epi16(lo01, lo23));
    _mm_storeu_si128((__m128i *)(d + 32), _mm_unpacklo_epi16(hi01, hi23));
    _mm_storeu_si128((__m128i *)(d + 48), _mm_unpackhi_epi16(hi01, hi23));
  }
#endif
  for (; i < count; i++) {
    dst[4 * i] = src[i];
    dst[4 * i + 1] = src[count + i];
    dst[4 * i + 2] = src[2 * count + i];
    dst[4 * i + 3] = src[3 * count + i];
  }
}

void strato_shuffle(const uint8_t *src, uint8_t *dst, size_t length, size_t size) {
  if (size <= 1 || length < size) {
    if (length > 0) memcpy(dst, src, length);
    return;
  }
  size_t count = length / size;
  switch (size) {
    case 2: shuffle_2(src, dst, count); break;
    case 4: shuffle_4(src, dst, count); break;
    case 8: shuffle_8(src, dst, count); break;
    case 16: shuffle_16(src, dst, count); break;
    default: shuffle_any(src, dst, count, size); break;
  }
  size_t whole = count * size;
  if (whole < length) memcpy(dst + whole, src + whole, length - whole);
}

void strato_unshuffle(const uint8_t *src, uint8_t *dst, size_t length, size_t size) {
  if (size <= 1 || length < size) {
    if (length > 0) memcpy(dst, src, length);
    return;
  }
  size_t count = length / size;
  switch (size) {
    case 2: unshuffle_2(src, dst, count); break;
    case 4: unshuffle_4(src, dst, count); break;
    case 8: unshuffle_8(src, dst, count); break;
    case 16: unshuffle_16(src, dst, count); break;
    default: unshuffle_any(src, dst, count, size); break;
  }
  size_t whole = count * size;
  if (whole < length) memcpy(dst + whole, src + whole, length - whole);
}
