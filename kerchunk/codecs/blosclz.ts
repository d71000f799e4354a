/**
 * A checked decoder of blosclz streams (c-blosc's FastLZ-derived block codec): the JavaScript
 * twin of native/blosclz.c, its reference and fallback. Returns the bytes written into `out`, or
 * -1 for a corrupt stream (a read past the input, a write past `out`, a match reaching before the
 * output's start, a stream ending on a match); never touches anything outside `out`.
 *
 * Stream: the first byte's low 5 bits are a literal-run control (its high bits mark the level).
 * A control below 32 copies control + 1 literal bytes. Otherwise it is a match: length code =
 * control >> 5 (7: more length bytes follow, each added, until one is not 255), distance =
 * ((control & 31) << 8) + next byte, and when that byte is 255 and the high part is 31, two more
 * bytes (big-endian) + 8191 give a far distance. The match copies length code + 2 bytes from
 * distance + 1 bytes back (an overlap repeats bytes).
 */
export function blosclzDecompressJs(stream: Uint8Array, out: Uint8Array): number {
  const end = stream.length;
  if (end === 0) return 0;
  const capacity = out.length;
  let ip = 0;
  let op = 0;
  let ctrl = (stream[ip++] as number) & 31;
  for (;;) {
    if (ctrl >= 32) {
      let length = (ctrl >> 5) - 1;
      let distance = (ctrl & 31) << 8;
      if (length === 6) {
        let code: number;
        do {
          if (ip >= end) return -1;
          code = stream[ip++] as number;
          length += code;
        } while (code === 255);
      }
      if (ip >= end) return -1;
      const code = stream[ip++] as number;
      distance += code;
      if (code === 255 && (ctrl & 31) === 31) {
        if (ip + 2 > end) return -1;
        distance = (((stream[ip] as number) << 8) | (stream[ip + 1] as number)) + 8191;
        ip += 2;
      }
      length += 3;
      if (distance + 1 > op || length > capacity - op) return -1;
      const from = op - distance - 1;
      if (distance + 1 >= length) out.copyWithin(op, from, from + length);
      else for (let k = 0; k < length; k++) out[op + k] = out[from + k] as number;
      op += length;
      // compressors end every stream with literals (c-blosc drops a final match): corrupt
      if (ip >= end) return -1;
      ctrl = stream[ip++] as number;
    } else {
      const run = ctrl + 1;
      if (run > end - ip || run > capacity - op) return -1;
      out.set(stream.subarray(ip, ip + run), op);
      ip += run;
      op += run;
      if (ip >= end) break;
      ctrl = stream[ip++] as number;
    }
  }
  return op;
}
