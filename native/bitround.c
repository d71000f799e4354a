/*
 * numcodecs BitRound on float32 words: b += ((b >> maskbits) & 1) + 2^(maskbits-1) - 1, then the
 * low maskbits bits are cleared (wrapping, as numcodecs does on uint32). Words equal to `keep`
 * (when has_keep) and, with keep_nan, every NaN stay as they are. A plain loop gcc vectorises.
 */
#include "strato_native.h"

#include <string.h>

void strato_bitround32(const uint8_t *src, uint8_t *dst, size_t count, unsigned maskbits, int keep_nan, int has_keep, uint32_t keep) {
  const uint32_t half = (1u << (maskbits - 1)) - 1u;
  const uint32_t mask = ~0u << maskbits;
  const uint32_t nan_limit = keep_nan ? 0x7f800000u : 0xffffffffu;
  const uint32_t fill = keep;
  for (size_t i = 0; i < count; i++) {
    uint32_t x;
    memcpy(&x, src + 4 * i, 4);
    uint32_t rounded = (x + ((x >> maskbits) & 1u) + half) & mask;
    int kept = (has_keep && x == fill) || (x & 0x7fffffffu) > nan_limit;
    uint32_t y = kept ? x : rounded;
    memcpy(dst + 4 * i, &y, 4);
  }
}
