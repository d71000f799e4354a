#!/usr/bin/env python3
"""Wall time of an xarray client reading time steps of a Zarr v2 store over HTTP.

    xarray_read.py URL [--steps 100] [--var tas]

Opens URL (consolidated metadata) with engine="zarr", reads ds[var].isel(time=slice(0, steps))
into memory and prints one JSON line: steps read, seconds from open to values in hand (open
included), and decoded MB.
"""
import argparse
import json
import sys
import time

import xarray as xr

sys.dont_write_bytecode = True


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--var", default="tas")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    ds = xr.open_dataset(args.url, engine="zarr", consolidated=True, chunks=None)
    steps = min(args.steps, ds.sizes["time"])
    values = ds[args.var].isel(time=slice(0, steps)).values
    seconds = time.perf_counter() - started
    print(json.dumps({"steps": steps, "seconds": round(seconds, 3), "decoded_mb": round(values.nbytes / 1e6, 1), "mean": float(values.mean())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
