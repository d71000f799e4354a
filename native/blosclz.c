/*
 * A checked decoder of blosclz streams (c-blosc's FastLZ-derived block codec). Every read is
 * checked against the input's end, every write against the output's capacity, every match
 * against the start of the output: a corrupt or hostile stream returns -1, never reads or writes
 * out of bounds.
 *
 * Stream: the first byte's low 5 bits are a literal-run control (its high bits mark the level).
 * A control byte below 32 copies control + 1 literal bytes. Otherwise it is a match:
 * length code = control >> 5 (7: more length bytes follow, each added, until one is not 255),
 * distance = ((control & 31) << 8) + next byte, and when that byte is 255 and the high part is 31,
 * two more bytes (big-endian) give a far distance beyond 8191. The match copies length code + 2
 * bytes from distance + 1 bytes back (overlap repeats bytes).
 */
#include "strato_native.h"

#include <string.h>

#define MAX_DISTANCE 8191

long strato_blosclz_decompress(const uint8_t *src, size_t length, uint8_t *dst, size_t capacity) {
  if (length == 0) return 0;
  const uint8_t *ip = src;
  const uint8_t *const ip_end = src + length;
  size_t op = 0;
  unsigned ctrl = *ip++ & 31u;
  for (;;) {
    if (ctrl >= 32) {
      size_t len = (ctrl >> 5) - 1;
      size_t distance = (size_t)(ctrl & 31u) << 8;
      if (len == 6) {
        uint8_t code;
        do {
          if (ip >= ip_end) return -1;
          code = *ip++;
          len += code;
        } while (code == 255);
      }
      if (ip >= ip_end) return -1;
      uint8_t code = *ip++;
      distance += code;
      if (code == 255 && (ctrl & 31u) == 31u) {
        if (ip + 2 > ip_end) return -1;
        distance = (((size_t)ip[0] << 8) | ip[1]) + MAX_DISTANCE;
        ip += 2;
      }
      len += 3;
      /* the match starts distance + 1 bytes back */
      if (distance + 1 > op) return -1;
      if (len > capacity - op) return -1;
      size_t from = op - distance - 1;
      if (distance + 1 >= len) {
        memcpy(dst + op, dst + from, len);
      } else {
        for (size_t k = 0; k < len; k++) dst[op + k] = dst[from + k];
      }
      op += len;
      /* compressors end every stream with literals (c-blosc drops a final match): corrupt */
      if (ip >= ip_end) return -1;
      ctrl = *ip++;
    } else {
      size_t run = (size_t)ctrl + 1;
      if (run > (size_t)(ip_end - ip)) return -1;
      if (run > capacity - op) return -1;
      memcpy(dst + op, ip, run);
      ip += run;
      op += run;
      if (ip >= ip_end) break;
      ctrl = *ip++;
    }
  }
  return (long)op;
}
