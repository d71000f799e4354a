#!/usr/bin/env python3
"""Benchmark data: daily 0.25-degree float32 fields (1440 x 721), NetCDF4 zlib+shuffle, one chunk
per day, its kerchunk JSON references, and a static copy of the same dataset as a complete Zarr v2
store (for nginx).

    make_bench_data.py OUTDIR [--days 60]

OUTDIR/data/tas.nc, OUTDIR/refs/tas.json, OUTDIR/catalog.yaml, OUTDIR/keys.txt (every chunk key of
tas, one a line) and OUTDIR/static/tas/kerchunk/: every key of the references as a file (the
chunk bytes the raw view serves, the metadata documents, and a consolidated .zmetadata), so a Zarr
client opens it from nginx as it opens the raw view.
"""
import argparse
import json
import os
import sys

import netCDF4
import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
import make_netcdf  # noqa: E402  (its reference scanner, built on h5py's chunk index)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    path = os.path.join(out, "data", "tas.nc")
    rng = np.random.default_rng(7)
    lat = np.linspace(-90, 90, 721, dtype="f4")
    lon = np.arange(1440, dtype="f4") * 0.25
    base = 288 - 40 * np.abs(np.sin(np.deg2rad(lat)))[:, None] + 3 * np.cos(np.deg2rad(lon))[None, :]
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", 721)
        ds.createDimension("lon", 1440)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2001-01-01"
        t.calendar = "standard"
        ds.createVariable("lat", "f4", ("lat",))[:] = lat
        ds.createVariable("lon", "f4", ("lon",))[:] = lon
        tas = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, shuffle=True, complevel=4, chunksizes=(1, 721, 1440))
        tas.units = "K"
        tas.long_name = "Near-surface air temperature"
        for day in range(args.days):
            noise = rng.normal(0, 1.5, size=(721, 1440)).astype("f4")
            tas[day] = (base + 5 * np.sin(2 * np.pi * day / 365) + noise).astype("f4")
            t[day] = day
    refs = make_netcdf.scan_hdf5(path, "../data/tas.nc")
    make_netcdf.write_v1(refs, os.path.join(out, "refs", "tas.json"))
    keys = []
    store = os.path.join(out, "static", "tas", "kerchunk")
    metadata = {}
    with open(path, "rb") as raw:
        for key, value in refs.items():
            if make_netcdf.is_metadata_key(key):
                metadata[key] = value
                data = json.dumps(value).encode("ascii")
            elif isinstance(value, bytes):
                data = bytes(value)
            else:
                raw.seek(value[1])
                data = raw.read(value[2])
            write_file(os.path.join(store, key), data)
            if key.startswith("tas/") and not make_netcdf.is_metadata_key(key):
                keys.append(key)
    write_file(os.path.join(store, ".zmetadata"), json.dumps({"metadata": metadata, "zarr_consolidated_format": 1}).encode("ascii"))
    with open(os.path.join(out, "keys.txt"), "w") as f:
        f.write("\n".join(keys) + "\n")
    with open(os.path.join(out, "catalog.yaml"), "w") as f:
        f.write("datasets:\n  tas: {refs: refs/tas.json, title: Benchmark tas}\nsources:\n  allow: [data/]\n")
    return 0


def write_file(target, data):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    sys.exit(main())
