{
  "variables": {
    "libdeflate": "<!(pkg-config --exists libdeflate 2>/dev/null && echo 1 || echo 0)",
    "liblz4": "<!(pkg-config --exists liblz4 2>/dev/null && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "strato_native",
      "sources": ["native/addon.c", "native/shuffle.c", "native/lz4.c", "native/blosclz.c", "native/bitround.c", "native/inflate.c"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags!": ["-O2", "-O1", "-O0"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["libdeflate==1", {
          "defines": ["STRATO_HAVE_LIBDEFLATE"],
          "cflags": ["<!@(pkg-config --cflags libdeflate)"],
          "libraries": ["<!@(pkg-config --libs libdeflate)"]
        }],
        ["liblz4==1", {
          "defines": ["STRATO_HAVE_LIBLZ4"],
          "cflags": ["<!@(pkg-config --cflags liblz4)"],
          "libraries": ["<!@(pkg-config --libs liblz4)"]
        }]
      ]
    },
    {
      "target_name": "strato_sendfile",
      "sources": ["native/sendfile.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["native/sendfile.c"] }]
      ]
    }
  ]
}
