/*
 * LZ4 blocks (the block format of the LZ4 specification, as every LZ4 decoder and c-blosc read
 * it). Where the build found liblz4 (Debian's liblz4-dev, STRATO_HAVE_LIBLZ4), blocks are made by
 * its LZ4_compress_fast, as c-blosc makes them; else by strato's own compressor below.
 *
 * strato's own: greedy matching through a hash table of 4-byte sequences, with the format's
 * end-of-block rules (the last 5 bytes are literals, no match starts within the last 12 bytes).
 * `acceleration` ≥ 1 as LZ4's: the first step between match attempts (larger: faster, less compression).
 * Written for blosc blocks (≤ 2 GiB; offsets ≤ 65535). Writes at most `capacity` bytes: returns 0
 * when the block does not fit (strato_lz4_bound(length) always fits).
 */
#include "strato_native.h"

#include <string.h>

#ifdef STRATO_HAVE_LIBLZ4
#include <lz4.h>
#endif

#define MINMATCH 4
#define LAST_LITERALS 5
#define MFLIMIT 12
#define MAX_DISTANCE 65535
#define HASH_LOG 12
#define SKIP_TRIGGER 6

static inline uint32_t read32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline uint64_t read64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* A hash of the 5 bytes at p (read as 8: never within 12 bytes of the end); 5 bytes find fewer
 * but longer matches than 4, which is faster for the noisy byte planes of float data. */
static inline uint32_t hash_at(const uint8_t *p) { return (uint32_t)(((read64(p) << 24) * 889523592379ULL) >> (64 - HASH_LOG)); }

/* Bytes equal from p and ref onwards, p never reaching limit. */
static inline size_t common_length(const uint8_t *p, const uint8_t *ref, const uint8_t *limit) {
  const uint8_t *start = p;
  while (p + 8 <= limit) {
    uint64_t diff = read64(p) ^ read64(ref);
    if (diff) return (size_t)(p - start) + (size_t)(__builtin_ctzll(diff) >> 3);
    p += 8;
    ref += 8;
  }
  while (p < limit && *p == *ref) {
    p++;
    ref++;
  }
  return (size_t)(p - start);
}

size_t strato_lz4_bound(size_t length) { return length + length / 255 + 16; }

static uint8_t *write_length(uint8_t *op, size_t length) {
  while (length >= 255) {
    *op++ = 255;
    length -= 255;
  }
  *op++ = (uint8_t)length;
  return op;
}

/* Copies 8 bytes at a time, up to 7 past `length` (callers leave that room on both sides). */
static inline void wild_copy(uint8_t *dst, const uint8_t *src, size_t length) {
  for (size_t k = 0; k < length; k += 8) memcpy(dst + k, src + k, 8);
}

static uint8_t *write_literals(uint8_t *op, const uint8_t *anchor, size_t literals, size_t match_code, int has_match) {
  uint8_t *token = op++;
  uint8_t high = literals >= 15 ? 15 : (uint8_t)literals;
  if (literals >= 15) op = write_length(op, literals - 15);
  /* before a match, the source has ≥ 12 bytes after the literals and the output the room checked */
  if (has_match) wild_copy(op, anchor, literals);
  else memcpy(op, anchor, literals);
  op += literals;
  uint8_t low = 0;
  if (has_match) low = match_code >= 15 ? 15 : (uint8_t)match_code;
  *token = (uint8_t)((high << 4) | low);
  return op;
}

size_t strato_lz4_compress_own(const uint8_t *src, size_t length, uint8_t *dst, size_t capacity, unsigned acceleration, void *state) {
  uint32_t *table = state;
  uint8_t *op = dst;
  uint8_t *const op_end = dst + capacity;
  const uint8_t *anchor = src;
  if (length >= MFLIMIT + 1) {
    const uint8_t *ip = src;
    const uint8_t *const end = src + length;
    const uint8_t *const mflimit = end - MFLIMIT;
    const uint8_t *const match_limit = end - LAST_LITERALS;
    memset(table, 0, sizeof(uint32_t) << HASH_LOG);
    table[hash_at(ip)] = 0;
    ip++;
    for (;;) {
      /* find a match, stepping faster through data that does not compress */
      const uint8_t *ref;
      unsigned attempts = (acceleration < 1 ? 1u : acceleration > 65537 ? 65537u : acceleration) << SKIP_TRIGGER;
      const uint8_t *next = ip;
      for (;;) {
        ip = next;
        next = ip + (attempts++ >> SKIP_TRIGGER);
        if (next > mflimit) goto last_literals;
        uint32_t h = hash_at(ip);
        ref = src + table[h];
        table[h] = (uint32_t)(ip - src);
        if (ref < ip && (size_t)(ip - ref) <= MAX_DISTANCE && read32(ref) == read32(ip)) break;
      }
      /* extend backwards over literals */
      while (ip > anchor && ref > src && ip[-1] == ref[-1]) {
        ip--;
        ref--;
      }
      for (;;) {
        size_t literals = (size_t)(ip - anchor);
        size_t extra = common_length(ip + MINMATCH, ref + MINMATCH, match_limit);
        /* token, literal length bytes, literals, offset, match length bytes */
        if ((size_t)(op_end - op) < 1 + literals / 255 + 1 + literals + 2 + extra / 255 + 1 + 8) return 0;
        op = write_literals(op, anchor, literals, extra, 1);
        uint16_t offset = (uint16_t)(ip - ref);
        op[0] = (uint8_t)offset;
        op[1] = (uint8_t)(offset >> 8);
        op += 2;
        if (extra >= 15) op = write_length(op, extra - 15);
        ip += MINMATCH + extra;
        anchor = ip;
        if (ip > mflimit) goto last_literals;
        table[hash_at(ip - 2)] = (uint32_t)(ip - 2 - src);
        /* a match right here? then no literals in between */
        uint32_t h = hash_at(ip);
        ref = src + table[h];
        table[h] = (uint32_t)(ip - src);
        if (ref < ip && (size_t)(ip - ref) <= MAX_DISTANCE && read32(ref) == read32(ip)) continue;
        ip++;
        break;
      }
    }
  }
last_literals:
  if ((size_t)(op_end - op) < 1 + (size_t)(src + length - anchor) / 255 + 1 + (size_t)(src + length - anchor)) return 0;
  op = write_literals(op, anchor, (size_t)(src + length - anchor), 0, 0);
  return (size_t)(op - dst);
}

#ifdef STRATO_HAVE_LIBLZ4
size_t strato_lz4_state_bytes(void) {
  size_t own = sizeof(uint32_t) << HASH_LOG;
  size_t library = (size_t)LZ4_sizeofState();
  return library > own ? library : own;
}

size_t strato_lz4_compress(const uint8_t *src, size_t length, uint8_t *dst, size_t capacity, unsigned acceleration, void *state) {
  /* liblz4 takes int sizes and at most LZ4_MAX_INPUT_SIZE bytes: anything larger is ours */
  if (length > LZ4_MAX_INPUT_SIZE) return strato_lz4_compress_own(src, length, dst, capacity, acceleration, state);
  int room = capacity > 0x7fffffff ? 0x7fffffff : (int)capacity;
  int accel = acceleration > 65537 ? 65537 : (int)acceleration;
  int written = LZ4_compress_fast_extState(state, (const char *)src, (char *)dst, (int)length, room, accel);
  return written > 0 ? (size_t)written : 0;
}

const char *strato_lz4_implementation(void) { return LZ4_versionString(); }
int strato_has_liblz4(void) { return 1; }
#else
size_t strato_lz4_state_bytes(void) { return sizeof(uint32_t) << HASH_LOG; }

size_t strato_lz4_compress(const uint8_t *src, size_t length, uint8_t *dst, size_t capacity, unsigned acceleration, void *state) {
  return strato_lz4_compress_own(src, length, dst, capacity, acceleration, state);
}

const char *strato_lz4_implementation(void) { return NULL; }
int strato_has_liblz4(void) { return 0; }
#endif
