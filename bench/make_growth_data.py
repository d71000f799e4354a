#!/usr/bin/env python3
"""Data for the "How cost grows" tables of bench/run.sh: one file of random bytes and kerchunk
references that cut it into chunks of each size, with a static copy of each for nginx.

    make_growth_data.py OUTDIR [--total-mib 64] [--sizes 16384,51200,262144,1048576,8388608]
        [--entry-chunks 16]

OUTDIR/data/blob.bin: --total-mib MiB of random bytes.
OUTDIR/refs/chunk-SIZE.json: array x (uint8, no compressor) of floor(total / SIZE) chunks of
SIZE bytes, chunk i = [blob.bin, i * SIZE, SIZE]; OUTDIR/keys-SIZE.txt: its chunk keys;
OUTDIR/static/chunk-SIZE/kerchunk/: every key as a file and a consolidated .zmetadata.
OUTDIR/refs/entry.json: a small table (--entry-chunks chunks of 51200 bytes), the dataset a
catalog of thousands of datasets repeats.
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True


def table(size, count):
    zarray = {"zarr_format": 2, "shape": [size * count], "chunks": [size], "dtype": "|u1", "compressor": None, "filters": None, "fill_value": 0, "order": "C"}
    metadata = {".zgroup": {"zarr_format": 2}, ".zattrs": {}, "x/.zarray": zarray, "x/.zattrs": {"_ARRAY_DIMENSIONS": ["x"]}}
    refs = {key: json.dumps(value) for key, value in metadata.items()}
    for i in range(count):
        refs[f"x/{i}"] = ["../data/blob.bin", i * size, size]
    return metadata, refs


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--total-mib", type=int, default=64)
    parser.add_argument("--sizes", default="16384,51200,262144,1048576,8388608")
    parser.add_argument("--entry-chunks", type=int, default=16)
    args = parser.parse_args(argv)
    out = os.path.abspath(args.out)
    total = args.total_mib * 1048576
    blob = os.urandom(total)
    write(os.path.join(out, "data", "blob.bin"), blob)
    for size in [int(s) for s in args.sizes.split(",")]:
        count = total // size
        metadata, refs = table(size, count)
        write(os.path.join(out, "refs", f"chunk-{size}.json"), json.dumps({"version": 1, "refs": refs}).encode())
        static = os.path.join(out, "static", f"chunk-{size}", "kerchunk")
        for key, value in metadata.items():
            write(os.path.join(static, key), json.dumps(value).encode())
        write(os.path.join(static, ".zmetadata"), json.dumps({"metadata": metadata, "zarr_consolidated_format": 1}).encode())
        for i in range(count):
            write(os.path.join(static, "x", str(i)), blob[i * size : (i + 1) * size])
        with open(os.path.join(out, f"keys-{size}.txt"), "w") as f:
            f.write("".join(f"x/{i}\n" for i in range(count)))
    _, refs = table(51200, args.entry_chunks)
    write(os.path.join(out, "refs", "entry.json"), json.dumps({"version": 1, "refs": refs}).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
