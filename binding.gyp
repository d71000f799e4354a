{
  "targets": [
    {
      "target_name": "strato_native",
      "sources": ["native/addon.c", "native/shuffle.c", "native/lz4.c", "native/blosclz.c", "native/bitround.c"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags!": ["-O2", "-O1", "-O0"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
