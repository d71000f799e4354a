#!/usr/bin/env python3
"""The codec limit of this machine (issue #14): the work the processed view does per cold chunk,
done by C codecs (Debian's python3-numcodecs) in a tight loop, one process per core.

    /usr/bin/python3 bench/codec-limit.py STORE_ARRAY_DIR [--seconds 5] [--processes NPROC]
        [--variants inflate,decode,lz4,kb10-lz4,kb10-zstd] [--busy] [--max-chunks 32]

STORE_ARRAY_DIR is a Zarr v2 array of the static store (make_bench_data.py:
OUT/static/tas/kerchunk/tas): its .zarray names the source codecs (NetCDF4: zlib, with HDF5's
shuffle filter) and its chunk files are the bytes strato reads. Variants, each per chunk:

    inflate    zlib inflate alone (numcodecs.Zlib.decode)
    decode     zlib inflate, then HDF5 byte unshuffle (Zlib.decode, Shuffle(elementsize).decode:
               the HDF5 pipeline applies shuffle before deflate, so decoding inflates first)
    lz4        decode, then Blosc(cname='lz4', clevel=5, shuffle=SHUFFLE) encode
    kb10-lz4   decode, BitRound(keepbits=10), Blosc lz4 encode (the processed view's default)
    kb10-zstd  decode, BitRound(keepbits=10), Zstd(level=1) encode

Each variant runs --processes processes (default: one per core) for --seconds, every process
cycling through the chunks held in its memory; blosc runs single-threaded in each. --busy adds a
busy-loop process pinned to CPU 0 ("another job taking a core") for the variant's whole run.
Prints one JSON line per variant: decoded MB/s of all processes together (chunks done × decoded
chunk size / wall seconds), CPU ms per chunk, mean encoded bytes per chunk.
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time

sys.dont_write_bytecode = True

import numcodecs  # noqa: E402
import numcodecs.blosc  # noqa: E402
import numpy as np  # noqa: E402
from numcodecs import BitRound, Blosc, Shuffle, Zlib, Zstd  # noqa: E402

VARIANTS = ("inflate", "decode", "lz4", "kb10-lz4", "kb10-zstd")


def load_chunks(array_dir, max_chunks):
    with open(os.path.join(array_dir, ".zarray")) as f:
        zarray = json.load(f)
    compressor = zarray.get("compressor") or {}
    filters = zarray.get("filters") or []
    if compressor.get("id") != "zlib" or [flt.get("id") for flt in filters] != ["shuffle"]:
        raise SystemExit(f"{array_dir}: expected zlib with an HDF5 shuffle filter, got {compressor} {filters}")
    dtype = np.dtype(zarray["dtype"])
    names = sorted((n for n in os.listdir(array_dir) if not n.startswith(".")), key=lambda n: [int(p) for p in n.split(".")])
    chunks = []
    for name in names[:max_chunks]:
        with open(os.path.join(array_dir, name), "rb") as f:
            chunks.append(f.read())
    if not chunks:
        raise SystemExit(f"{array_dir}: no chunks")
    return chunks, dtype, int(filters[0].get("elementsize", dtype.itemsize))


def make_work(variant, dtype, elementsize):
    inflate = Zlib()
    unshuffle = Shuffle(elementsize=elementsize)
    bitround = BitRound(keepbits=10)
    blosc = Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)
    zstd = Zstd(level=1)

    def decode(chunk):
        return np.frombuffer(unshuffle.decode(inflate.decode(chunk)), dtype=dtype)

    if variant == "inflate":
        return lambda chunk: len(inflate.decode(chunk))
    if variant == "decode":
        return lambda chunk: decode(chunk).nbytes and 0
    if variant == "lz4":
        return lambda chunk: len(blosc.encode(decode(chunk)))
    if variant == "kb10-lz4":
        return lambda chunk: len(blosc.encode(bitround.encode(decode(chunk))))
    if variant == "kb10-zstd":
        return lambda chunk: len(zstd.encode(bitround.encode(decode(chunk))))
    raise SystemExit(f"unknown variant {variant}; one of {', '.join(VARIANTS)}")


def worker(array_dir, max_chunks, variant, offset, start_at, seconds, results):
    numcodecs.blosc.use_threads = False
    numcodecs.blosc.set_nthreads(1)
    chunks, dtype, elementsize = load_chunks(array_dir, max_chunks)
    work = make_work(variant, dtype, elementsize)
    work(chunks[0])  # first-call setup outside the timed loop
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    cpu0 = time.process_time()
    done = encoded = 0
    i = offset
    while time.time() < deadline:
        encoded += work(chunks[i % len(chunks)])
        done += 1
        i += 1
    results.put({"chunks": done, "encoded": encoded, "cpu": time.process_time() - cpu0, "end": time.time()})


def busy_loop():
    os.sched_setaffinity(0, {0})
    while True:
        pass


def decoded_chunk_bytes(array_dir):
    with open(os.path.join(array_dir, ".zarray")) as f:
        zarray = json.load(f)
    return int(np.prod(zarray["chunks"])) * np.dtype(zarray["dtype"]).itemsize


def run_variant(args, variant):
    results = mp.Queue()
    start_at = time.time() + 1.0 + 0.02 * args.max_chunks  # after every process has loaded its chunks
    procs = [
        mp.Process(target=worker, args=(args.store, args.max_chunks, variant, p * 7, start_at, args.seconds, results))
        for p in range(args.processes)
    ]
    busy = mp.Process(target=busy_loop, daemon=True) if args.busy else None
    if busy:
        busy.start()
    for proc in procs:
        proc.start()
    parts = [results.get(timeout=args.seconds + 60 + 0.1 * args.max_chunks) for _ in procs]
    for proc in procs:
        proc.join()
    if busy:
        busy.terminate()
        busy.join()
    chunks = sum(p["chunks"] for p in parts)
    wall = max(p["end"] for p in parts) - start_at
    decoded = decoded_chunk_bytes(args.store)
    return {
        "variant": variant,
        "busy": bool(args.busy),
        "processes": args.processes,
        "chunks": chunks,
        "seconds": round(wall, 3),
        "decodedMBps": round(chunks * decoded / wall / 1e6, 1),
        "cpuMsPerChunk": round(sum(p["cpu"] for p in parts) * 1000 / max(chunks, 1), 2),
        "encodedBytes": round(sum(p["encoded"] for p in parts) / max(chunks, 1)) if variant not in ("decode",) else None,
        "numcodecs": numcodecs.__version__,
    }


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--busy", action="store_true")
    parser.add_argument("--max-chunks", type=int, default=32)
    args = parser.parse_args(argv)
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant}; one of {', '.join(VARIANTS)}")
    load_chunks(args.store, 1)  # a store of the wrong kind fails here, not in every worker
    for variant in args.variants.split(","):
        print(json.dumps(run_variant(args, variant)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
