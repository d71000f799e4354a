"""Runs a dataset page's xarray snippet, then compares the `ds` it opened with the source NetCDF files.

Usage: check_snippet_values.py SNIPPET_FILE KEEPBITS_JSON SOURCE.nc [SOURCE.nc ...]

KEEPBITS_JSON maps variables the view bit-rounds to the mantissa bits kept ({} for the raw view):
those must carry _QuantizeBitRoundNumberOfSignificantBits equal to it and lie within the rounding
bound of the source; every other variable must equal the source exactly (NaN where NaN).
Prints one JSON line: {"ok": ..., "problems": [...], "variables": n, "values": n}.
"""
import json
import re
import sys

import numpy as np
import xarray as xr


def main() -> int:
    snippet_file, keepbits_json, *sources = sys.argv[1:]
    keepbits = json.loads(keepbits_json)
    scope = {}
    with open(snippet_file, encoding="utf-8") as f:
        exec(compile(f.read(), snippet_file, "exec"), scope)  # the snippet exactly as the page shows it
    ds = scope["ds"]
    if not isinstance(ds, xr.Dataset):
        print(json.dumps({"ok": False, "problems": ["the snippet did not make an xarray Dataset `ds`"]}))
        return 0
    # the values in their stored units (times as numbers, so the rounding bound applies to them)
    url = re.search(r'open_dataset\("([^"]+)"', open(snippet_file, encoding="utf-8").read()).group(1)
    got = xr.open_dataset(url, engine="zarr", consolidated=True, decode_times=False)
    want = xr.open_mfdataset(sources, combine="by_coords", decode_times=False)
    problems = []
    values = 0
    for name, source in want.variables.items():
        if name not in got.variables:
            problems.append(f"{name}: missing")
            continue
        a = np.asarray(got[name].values)
        b = np.asarray(source.values)
        values += b.size
        if a.shape != b.shape:
            problems.append(f"{name}: shape {a.shape}, expected {b.shape}")
            continue
        bits = keepbits.get(name)
        attr = got[name].attrs.get("_QuantizeBitRoundNumberOfSignificantBits")
        if bits is None:
            if attr is not None:
                problems.append(f"{name}: carries _QuantizeBitRoundNumberOfSignificantBits={attr} but is not rounded")
            if not np.array_equal(a, b, equal_nan=b.dtype.kind == "f"):
                problems.append(f"{name}: values differ ({int(np.sum(a != b))} of {b.size})")
            continue
        if attr != bits:
            problems.append(f"{name}: _QuantizeBitRoundNumberOfSignificantBits={attr}, expected {bits}")
        finite = np.isfinite(b)
        bound = np.abs(b[finite]).astype("f8") * 2.0 ** -(bits + 1)
        err = np.abs(a[finite].astype("f8") - b[finite].astype("f8"))
        if np.any(err > bound):
            problems.append(f"{name}: {int(np.sum(err > bound))} values beyond the keepbits={bits} bound")
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            problems.append(f"{name}: missing values differ")
    print(json.dumps({"ok": not problems, "problems": problems, "variables": len(want.variables), "values": int(values)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
