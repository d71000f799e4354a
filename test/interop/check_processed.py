#!/usr/bin/env python3
"""Checks strato's processed view (/zarr) against the original NetCDF4 files with xarray.

    check_processed.py --url URL --files F1 [F2 ...] [--combine-dim time]
                       [--chunks '{"time": 30}'] [--keepbits '{"tas": 10}']

- chunking: every variable having a dimension named in --chunks is chunked that way (-1 = whole)
- coordinates and variables without keepbits: values equal the files exactly (CF-decoded)
- variables with keepbits k: stored values within the bit-rounding bound |got - want| <= |want| 2^-(k+1),
  NaN and the fill value kept exactly
- attributes as in the files; the advertised .zarray has filters null

Prints one JSON line {"ok", "problems", "variables", "values"}; exit 0 only when ok.
"""
import argparse
import json
import os
import sys

import numpy as np
import xarray as xr

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--files", nargs="+", required=True)
    parser.add_argument("--combine-dim", default=None)
    parser.add_argument("--chunks", default="{}")
    parser.add_argument("--keepbits", default="{}")
    args = parser.parse_args(argv)
    compare.quiet_warnings()
    chunks = json.loads(args.chunks)
    keepbits = json.loads(args.keepbits)
    problems = []
    values = 0
    got = xr.open_dataset(args.url, engine="zarr", consolidated=True, decode_cf=False)
    want = compare.open_files(args.files, args.combine_dim, decode_cf=False)
    for name, variable in want.variables.items():
        if name not in got.variables:
            if name in got.dims or variable.size == 0:
                continue
            problems.append(f"{name}: missing")
            continue
        served = got.variables[name]
        zchunks = served.encoding.get("chunks")
        for axis, dim in enumerate(served.dims):
            if dim in chunks and zchunks is not None:
                expected = served.shape[axis] if chunks[dim] == -1 else min(chunks[dim], served.shape[axis])
                if zchunks[axis] != expected:
                    problems.append(f"{name}: chunks {zchunks} along {dim}, expected {expected}")
        if served.encoding.get("filters"):
            problems.append(f"{name}: filters {served.encoding.get('filters')} advertised")
        a = np.asarray(served.values)
        b = np.asarray(variable.values)
        values += b.size
        if a.shape != b.shape:
            problems.append(f"{name}: shape {a.shape}, expected {b.shape}")
            continue
        bits = keepbits.get(name)
        is_coord = name in want.coords or name in want.dims
        if bits is None or is_coord or b.dtype.kind != "f":
            if not np.array_equal(a, b, equal_nan=b.dtype.kind == "f"):
                problems.append(f"{name}: values differ ({np.sum(a != b)} of {b.size})")
            continue
        fill = variable.attrs.get("_FillValue", served.encoding.get("_FillValue"))
        exact = ~np.isfinite(b)
        if fill is not None:
            exact |= b == fill
        if not np.array_equal(a[exact], b[exact], equal_nan=True):
            problems.append(f"{name}: NaN/inf/fill not kept exactly")
        bound = np.abs(b[~exact]).astype("f8") * 2.0 ** -(bits + 1)
        err = np.abs(a[~exact].astype("f8") - b[~exact].astype("f8"))
        if np.any(err > bound):
            problems.append(f"{name}: {np.sum(err > bound)} values beyond the keepbits={bits} bound")
        if bits < 20 and np.array_equal(a, b):
            problems.append(f"{name}: keepbits={bits} but values are unchanged")
    for name, variable in want.variables.items():
        if name in got.variables:
            for key, value in variable.attrs.items():
                if key == "_FillValue":
                    continue
                if compare.normalize_attr(got.variables[name].attrs.get(key)) != compare.normalize_attr(value):
                    problems.append(f"{name}: attribute {key} differs")
    return compare.report({"ok": not problems, "problems": problems, "variables": len(want.variables), "values": int(values)})


if __name__ == "__main__":
    sys.exit(main())
