#!/usr/bin/env python3
"""Checks what xarray reads from a strato Zarr URL against the original NetCDF4 files.

    check_xarray.py --url http://127.0.0.1:PORT/datasets/ID/kerchunk --files F1 [F2 ...] [--combine-dim time]

Opens the URL with xr.open_dataset(url, engine="zarr", consolidated=True) and the files with
xr.open_dataset / xr.open_mfdataset, then compares dims, coords, attributes, encodings
(dtype, _FillValue, scale_factor, add_offset, time units/calendar) and every value bit for bit,
CF-decoded and raw (decode_cf=False). See compare.py for the rules.

Prints one JSON line {"ok": bool, "problems": [...], "variables": N, "values": N}; exit 0 only when ok.
"""
import argparse
import os
import sys

import xarray as xr

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description="Compare a Zarr URL opened by xarray with the original NetCDF4 files.")
    parser.add_argument("--url", required=True, help="Zarr group URL, e.g. http://127.0.0.1:8000/datasets/ID/kerchunk")
    parser.add_argument("--files", nargs="+", required=True, help="the NetCDF4 files behind the dataset, in order")
    parser.add_argument("--combine-dim", default=None, help="dimension the files are concatenated along")
    args = parser.parse_args(argv)
    compare.quiet_warnings()

    def open_got(decode_cf):
        return xr.open_dataset(args.url, engine="zarr", consolidated=True, decode_cf=decode_cf)

    return compare.report(compare.check(open_got, args.files, args.combine_dim))


if __name__ == "__main__":
    sys.exit(main())
