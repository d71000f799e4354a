/*
 * strato's native codec addon (plain Node-API, C): byte shuffle/unshuffle, blosc 1 frames of
 * LZ4 blocks, float32 bit rounding, and a checked blosclz block decoder. Every length and number coming from
 * JavaScript is checked here again: a wrong argument throws a JavaScript error, never touches
 * memory outside the arrays given. Scratch memory is per thread (per Node environment), reused.
 */

#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strato_native.h"

#define HEADER_BYTES 16
#define FORMAT_VERSION 2
#define LZ4_FORMAT_VERSION 1
#define FLAG_SHUFFLE 0x01
#define FLAG_MEMCPYED 0x02
#define FLAG_DONT_SPLIT 0x10
#define LZ4_CODE 1
#define MAX_SPLITS 16
#define MIN_BUFFERSIZE 128
/* c-blosc 1 frames hold at most this many bytes (INT32_MAX less the header) */
#define MAX_FRAME_BYTES (2147483647u - HEADER_BYTES)

typedef struct {
  uint8_t *frame;
  size_t frame_capacity;
  uint8_t *block;
  size_t block_capacity;
  uint8_t *inflated;
  size_t inflated_capacity;
  void *lz4_state;
  void *inflater;
} Scratch;

static void free_scratch(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Scratch *scratch = data;
  free(scratch->frame);
  free(scratch->block);
  free(scratch->inflated);
  free(scratch->lz4_state);
  strato_inflater_free(scratch->inflater);
  free(scratch);
}

static int grow(uint8_t **buffer, size_t *capacity, size_t needed) {
  if (*capacity >= needed) return 1;
  uint8_t *bigger = malloc(needed);
  if (!bigger) return 0;
  free(*buffer);
  *buffer = bigger;
  *capacity = needed;
  return 1;
}

/* The LZ4 compressor's state, made once per thread. */
static void *lz4_state(Scratch *scratch) {
  if (!scratch->lz4_state) scratch->lz4_state = malloc(strato_lz4_state_bytes());
  return scratch->lz4_state;
}

static Scratch *scratch_of(napi_env env) {
  Scratch *scratch = NULL;
  if (napi_get_instance_data(env, (void **)&scratch) != napi_ok) return NULL;
  return scratch;
}

/* A Uint8Array argument's bytes, else a TypeError. */
static int bytes_arg(napi_env env, napi_value value, const char *name, uint8_t **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", name);
    return 0;
  }
  napi_typedarray_type type;
  void *pointer = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", name);
    return 0;
  }
  *data = pointer;
  return 1;
}

/* An integer argument in [min, max], else a RangeError. */
static int integer_arg(napi_env env, napi_value value, const char *name, double min, double max, size_t *out) {
  double number = 0;
  if (napi_get_value_double(env, value, &number) != napi_ok || !(number >= min && number <= max) || number != (double)(size_t)number) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", name);
    return 0;
  }
  *out = (size_t)number;
  return 1;
}

static napi_value new_bytes(napi_env env, const uint8_t *data, size_t length) {
  void *memory = NULL;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, length, &memory, &buffer) != napi_ok) return NULL;
  if (length > 0) memcpy(memory, data, length);
  if (napi_create_typedarray(env, napi_uint8_array, length, buffer, 0, &array) != napi_ok) return NULL;
  return array;
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

/* shuffle(src, dst, size) / unshuffle(src, dst, size): dst the same length as src. */
static napi_value shuffle_like(napi_env env, napi_callback_info info, int inverse) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "expected (src, dst, size)");
    return NULL;
  }
  uint8_t *src, *dst;
  size_t src_length, dst_length, size;
  if (!bytes_arg(env, argv[0], "src must be a Uint8Array", &src, &src_length)) return NULL;
  if (!bytes_arg(env, argv[1], "dst must be a Uint8Array", &dst, &dst_length)) return NULL;
  if (!integer_arg(env, argv[2], "size must be an integer in 0..65536", 0, 65536, &size)) return NULL;
  if (src_length != dst_length) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "dst must be as long as src");
    return NULL;
  }
  if (src_length > 0 && src < dst + dst_length && dst < src + src_length) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "src and dst must not overlap");
    return NULL;
  }
  if (inverse) strato_unshuffle(src, dst, src_length, size);
  else strato_shuffle(src, dst, src_length, size);
  return NULL;
}

static napi_value shuffle(napi_env env, napi_callback_info info) { return shuffle_like(env, info, 0); }
static napi_value unshuffle(napi_env env, napi_callback_info info) { return shuffle_like(env, info, 1); }

/* lz4Compress(src, own): one LZ4 block (no size prefix); own: by strato's compressor even where liblz4 is linked. */
static napi_value lz4_compress(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "expected (src, own)");
    return NULL;
  }
  uint8_t *src;
  size_t length;
  bool own = false;
  if (!bytes_arg(env, argv[0], "src must be a Uint8Array", &src, &length)) return NULL;
  if (argc >= 2) {
    napi_valuetype type;
    if (napi_typeof(env, argv[1], &type) != napi_ok || (type != napi_undefined && (type != napi_boolean || napi_get_value_bool(env, argv[1], &own) != napi_ok))) {
      napi_throw_type_error(env, NULL, "own must be a boolean");
      return NULL;
    }
  }
  if (length > MAX_FRAME_BYTES) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "at most 2 GiB may be compressed at once");
    return NULL;
  }
  Scratch *scratch = scratch_of(env);
  if (!scratch || !grow(&scratch->frame, &scratch->frame_capacity, strato_lz4_bound(length)) || !lz4_state(scratch)) {
    napi_throw_error(env, "ERR_MEMORY", "out of memory");
    return NULL;
  }
  size_t capacity = strato_lz4_bound(length);
  size_t written = own ? strato_lz4_compress_own(src, length, scratch->frame, capacity, 1, scratch->lz4_state)
                       : strato_lz4_compress(src, length, scratch->frame, capacity, 1, scratch->lz4_state);
  return new_bytes(env, scratch->frame, written);
}

static void write_header(uint8_t *frame, uint8_t flags, size_t typesize, size_t nbytes, size_t blocksize, size_t cbytes) {
  frame[0] = FORMAT_VERSION;
  frame[1] = LZ4_FORMAT_VERSION;
  frame[2] = flags;
  frame[3] = (uint8_t)typesize;
  uint32_t words[3] = {(uint32_t)nbytes, (uint32_t)blocksize, (uint32_t)cbytes};
  for (int w = 0; w < 3; w++) {
    for (int b = 0; b < 4; b++) frame[4 + 4 * w + b] = (uint8_t)(words[w] >> (8 * b));
  }
}

static void write_int32(uint8_t *at, size_t value) {
  for (int b = 0; b < 4; b++) at[b] = (uint8_t)(value >> (8 * b));
}

/*
 * bloscLz4Frame(data, typesize, blocksize, shuffle, clevel): a blosc 1 frame (format version 2)
 * of LZ4 streams, made as c-blosc 1.x makes them: each byte plane of a whole block is its own
 * stream when typesize ≤ 16 and a block holds ≥ 128 elements (else one stream per block and the
 * "don't split" flag); a stream LZ4 does not make smaller is stored as it is; the whole data are
 * stored ("memcpyed") when they are under 128 bytes or the frame would pass nbytes + 16 bytes.
 * `blocksize` is the final block length; LZ4 runs with c-blosc's acceleration for `clevel`
 * (10 - clevel). With liblz4 linked and c-blosc's block size (blosc-frame.ts), the frame is
 * numcodecs' byte for byte.
 */
static napi_value blosc_lz4_frame(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "expected (data, typesize, blocksize, shuffle, clevel)");
    return NULL;
  }
  uint8_t *data;
  size_t nbytes, typesize, blocksize, clevel;
  bool shuffled = false;
  if (!bytes_arg(env, argv[0], "data must be a Uint8Array", &data, &nbytes)) return NULL;
  if (!integer_arg(env, argv[1], "typesize must be an integer in 1..255", 1, 255, &typesize)) return NULL;
  if (!integer_arg(env, argv[2], "blocksize must be an integer in 1..2^31-17", 1, MAX_FRAME_BYTES, &blocksize)) return NULL;
  if (napi_get_value_bool(env, argv[3], &shuffled) != napi_ok) {
    napi_throw_type_error(env, NULL, "shuffle must be a boolean");
    return NULL;
  }
  if (!integer_arg(env, argv[4], "clevel must be an integer in 1..9", 1, 9, &clevel)) return NULL;
  /* c-blosc's LZ4 acceleration for a level */
  unsigned acceleration = (unsigned)(10 - clevel);
  if (nbytes > MAX_FRAME_BYTES) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "a blosc frame holds at most 2^31-17 bytes");
    return NULL;
  }
  if (blocksize > nbytes && nbytes > 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "blocksize must not exceed the data's length");
    return NULL;
  }
  Scratch *scratch = scratch_of(env);
  size_t limit = nbytes + HEADER_BYTES;
  if (!scratch || !grow(&scratch->frame, &scratch->frame_capacity, limit) || !grow(&scratch->block, &scratch->block_capacity, blocksize) ||
      !lz4_state(scratch)) {
    napi_throw_error(env, "ERR_MEMORY", "out of memory");
    return NULL;
  }
  uint8_t *frame = scratch->frame;
  int use_shuffle = shuffled && typesize > 1;
  /* c-blosc's split: each byte plane of a block is its own stream (blocks of whole elements, ≥ 128 of them) */
  int split = typesize <= MAX_SPLITS && blocksize % typesize == 0 && blocksize / typesize >= MIN_BUFFERSIZE;
  /* as c-blosc's header: the shuffle flag as asked (readers ignore it for 1-byte elements), the split flag as decided */
  uint8_t flags = (uint8_t)((LZ4_CODE << 5) | (split ? 0 : FLAG_DONT_SPLIT) | (shuffled ? FLAG_SHUFFLE : 0));
  if (nbytes >= MIN_BUFFERSIZE) {
    size_t blocks = (nbytes + blocksize - 1) / blocksize;
    size_t cbytes = HEADER_BYTES + 4 * blocks;
    int fits = cbytes <= limit;
    for (size_t b = 0; fits && b < blocks; b++) {
      size_t start = b * blocksize;
      size_t bsize = nbytes - start < blocksize ? nbytes - start : blocksize;
      const uint8_t *prepared = data + start;
      if (use_shuffle) {
        strato_shuffle(data + start, scratch->block, bsize, typesize);
        prepared = scratch->block;
      }
      size_t streams = split && bsize == blocksize ? typesize : 1;
      size_t neblock = bsize / streams;
      write_int32(frame + HEADER_BYTES + 4 * b, cbytes);
      for (size_t s = 0; s < streams; s++) {
        const uint8_t *part = prepared + s * neblock;
        /* c-blosc's room for a stream: at most the part, and what is left of nbytes + 16 */
        if (cbytes + 4 > limit) {
          fits = 0;
          break;
        }
        size_t room = limit - cbytes - 4 < neblock ? limit - cbytes - 4 : neblock;
        size_t slen = room > 0 ? strato_lz4_compress(part, neblock, frame + cbytes + 4, room, acceleration, scratch->lz4_state) : 0;
        if (slen == 0 || slen >= neblock) {
          /* a stream that does not get smaller is stored as it is (its length = the part's length) */
          if (cbytes + 4 + neblock > limit) {
            fits = 0;
            break;
          }
          memcpy(frame + cbytes + 4, part, neblock);
          slen = neblock;
        }
        write_int32(frame + cbytes, slen);
        cbytes += 4 + slen;
      }
    }
    if (fits) {
      write_header(frame, flags, typesize, nbytes, blocksize, cbytes);
      return new_bytes(env, frame, cbytes);
    }
  }
  /* stored as it is (the header as c-blosc's: the flags and block size it would have had) */
  write_header(frame, (uint8_t)(flags | FLAG_MEMCPYED), typesize, nbytes, blocksize, limit);
  if (nbytes > 0) memcpy(frame + HEADER_BYTES, data, nbytes);
  return new_bytes(env, frame, limit);
}

/* bitround32(src, dst, maskbits, keepNaN, keep): float32 words rounded (keep: a word left as it is, or -1). */
static napi_value bitround32(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "expected (src, dst, maskbits, keepNaN, keep)");
    return NULL;
  }
  uint8_t *src, *dst;
  size_t src_length, dst_length, maskbits;
  bool keep_nan = false;
  double keep = -1;
  if (!bytes_arg(env, argv[0], "src must be a Uint8Array", &src, &src_length)) return NULL;
  if (!bytes_arg(env, argv[1], "dst must be a Uint8Array", &dst, &dst_length)) return NULL;
  if (!integer_arg(env, argv[2], "maskbits must be an integer in 1..23", 1, 23, &maskbits)) return NULL;
  if (napi_get_value_bool(env, argv[3], &keep_nan) != napi_ok || napi_get_value_double(env, argv[4], &keep) != napi_ok ||
      !(keep == -1 || (keep >= 0 && keep <= 4294967295.0 && keep == (double)(uint32_t)keep))) {
    napi_throw_type_error(env, NULL, "keepNaN must be a boolean, keep a uint32 or -1");
    return NULL;
  }
  if (src_length != dst_length || src_length % 4 != 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "src and dst must be the same whole number of 4-byte words");
    return NULL;
  }
  if (src != dst && src_length > 0 && src < dst + dst_length && dst < src + src_length) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "src and dst must be the same bytes or not overlap");
    return NULL;
  }
  strato_bitround32(src, dst, src_length / 4, (unsigned)maskbits, keep_nan, keep >= 0, keep >= 0 ? (uint32_t)keep : 0);
  return NULL;
}

/* The (stream, out) arguments of the decoders (argv[0], argv[1]): two Uint8Arrays that do not overlap, else a thrown error. */
static int stream_out_args(napi_env env, napi_value *argv, uint8_t **src, size_t *src_length, uint8_t **dst, size_t *dst_length) {
  if (!bytes_arg(env, argv[0], "stream must be a Uint8Array", src, src_length)) return 0;
  if (!bytes_arg(env, argv[1], "out must be a Uint8Array", dst, dst_length)) return 0;
  if (*src_length > 0 && *dst_length > 0 && *src < *dst + *dst_length && *dst < *src + *src_length) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "stream and out must not overlap");
    return 0;
  }
  return 1;
}

/*
 * inflateZlib(stream, out, unshuffle): bytes written into out, -1 refused (ask node:zlib), -2 more
 * than out holds, -3 no libdeflate. unshuffle > 1 (optional): the stream holds HDF5-shuffled
 * elements of that many bytes (NetCDF4's shuffle + deflate): they are inflated into this thread's
 * scratch and unshuffled into out, only when they fill out exactly (else -4: nothing usable in out).
 */
static napi_value inflate_zlib(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "expected (stream, out, unshuffle)");
    return NULL;
  }
  uint8_t *src, *dst;
  size_t src_length, dst_length, size = 1;
  if (!stream_out_args(env, argv, &src, &src_length, &dst, &dst_length)) return NULL;
  if (argc >= 3) {
    napi_valuetype type;
    if (napi_typeof(env, argv[2], &type) != napi_ok) return NULL;
    if (type != napi_undefined && !integer_arg(env, argv[2], "unshuffle must be an integer in 0..65536", 0, 65536, &size)) return NULL;
  }
  Scratch *scratch = scratch_of(env);
  if (!scratch) return number(env, -3);
  if (!scratch->inflater && strato_has_libdeflate()) scratch->inflater = strato_inflater_new();
  if (size <= 1 || dst_length == 0) return number(env, (double)strato_inflate_zlib(scratch->inflater, src, src_length, dst, dst_length));
  if (!strato_has_libdeflate()) return number(env, -3);
  if (!grow(&scratch->inflated, &scratch->inflated_capacity, dst_length)) {
    napi_throw_error(env, "ERR_MEMORY", "out of memory");
    return NULL;
  }
  long written = strato_inflate_zlib(scratch->inflater, src, src_length, scratch->inflated, dst_length);
  if (written < 0) return number(env, (double)written);
  if ((size_t)written != dst_length) return number(env, -4);
  strato_unshuffle(scratch->inflated, dst, dst_length, size);
  return number(env, (double)written);
}

/* blosclzDecompress(stream, out): bytes written into out (all of it), or -1 for a corrupt stream. */
static napi_value blosclz_decompress(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "expected (stream, out)");
    return NULL;
  }
  uint8_t *src, *dst;
  size_t src_length, dst_length;
  if (!stream_out_args(env, argv, &src, &src_length, &dst, &dst_length)) return NULL;
  return number(env, (double)strato_blosclz_decompress(src, src_length, dst, dst_length));
}

/*
 * adjustExternalMemory(change): adds `change` bytes (may be negative) to the external memory V8
 * counts for this thread's heap, and returns the new count. V8 counts every ArrayBuffer's bytes
 * there and treats what it grew by since the last full GC as old-generation growth; a cache that
 * holds its buffers for a long time takes them out of that count while it holds them (see
 * kerchunk/external-memory.ts).
 */
static napi_value adjust_external_memory(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t change, count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int64(env, argv[0], &change) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected (change)");
    return NULL;
  }
  if (napi_adjust_external_memory(env, change, &count) != napi_ok) {
    napi_throw_error(env, NULL, "cannot adjust the external memory count");
    return NULL;
  }
  return number(env, (double)count);
}

NAPI_MODULE_INIT() {
  Scratch *scratch = calloc(1, sizeof(Scratch));
  if (!scratch || napi_set_instance_data(env, scratch, free_scratch, NULL) != napi_ok) {
    free(scratch);
    napi_throw_error(env, NULL, "cannot set up the native codecs");
    return NULL;
  }
  napi_property_descriptor methods[] = {
      {"shuffle", NULL, shuffle, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unshuffle", NULL, unshuffle, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lz4Compress", NULL, lz4_compress, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bloscLz4Frame", NULL, blosc_lz4_frame, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bitround32", NULL, bitround32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"inflateZlib", NULL, inflate_zlib, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blosclzDecompress", NULL, blosclz_decompress, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adjustExternalMemory", NULL, adjust_external_memory, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods);
  napi_value has_libdeflate;
  napi_get_boolean(env, strato_has_libdeflate(), &has_libdeflate);
  napi_set_named_property(env, exports, "hasLibdeflate", has_libdeflate);
  napi_value has_liblz4, lz4_implementation;
  napi_get_boolean(env, strato_has_liblz4(), &has_liblz4);
  napi_set_named_property(env, exports, "hasLiblz4", has_liblz4);
  /* which LZ4 makes the blocks of bloscLz4Frame (its bytes depend on it): "liblz4 1.9.4", "strato" */
  const char *library = strato_lz4_implementation();
  char name[64] = "strato";
  if (library) snprintf(name, sizeof(name), "liblz4 %s", library);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &lz4_implementation);
  napi_set_named_property(env, exports, "lz4Implementation", lz4_implementation);
  return exports;
}
