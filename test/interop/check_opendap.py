#!/usr/bin/env python3
"""Checks what netCDF4-python (netCDF-C's DAP2 client) reads from a strato OPeNDAP URL against the files.

    check_opendap.py --url http://127.0.0.1:PORT/datasets/ID/opendap --files F1 [F2 ...] [--combine-dim time]

Opens the URL with netCDF4.Dataset(url) and every file with netCDF4.Dataset(file); the files are
concatenated along --combine-dim when given. Compares dimension sizes, variable types and
dimensions, attributes (value and numeric type) and values, masked and scaled as netCDF4-python
returns them and raw (set_auto_maskandscale(False)), for the whole variable and several
hyperslabs (strided, single index, cut on every dimension).

Differences DAP2 imposes, accepted and checked as such:
- int64/uint64 variables arrive as double (DAP2 has no 64-bit integers), with an attribute saying so;
- unsigned 16/32-bit integers arrive as netCDF-C's signed types plus `_Unsigned = "true"` (so the
  masked/scaled values, which netCDF4-python reads through `_Unsigned`, match exactly);
- string (NC_STRING) attributes arrive as text (same value);
- `_FillValue` may be present where the file relies on netCDF's default fill of the type.

Prints one JSON line {"ok": bool, "problems": [...], "variables": N, "values": N}; exit 0 only when ok.
"""
import argparse
import json
import sys

import netCDF4
import numpy as np

DEFAULT_FILLS = {key: value for key, value in netCDF4.default_fillvals.items()}
EXTRA_ATTRS = {"_Unsigned", "strato_dap_conversion"}


def same_values(a, b):
    a = np.ma.asarray(a)
    b = np.ma.asarray(b)
    if a.shape != b.shape:
        return False, f"shape {a.shape} != {b.shape}"
    mask_a = np.ma.getmaskarray(a)
    mask_b = np.ma.getmaskarray(b)
    if not np.array_equal(mask_a, mask_b):
        return False, f"masks differ at {int((mask_a != mask_b).sum())} of {a.size} values"
    da = np.asarray(a.filled(0) if np.ma.isMaskedArray(a) else a)
    db = np.asarray(b.filled(0) if np.ma.isMaskedArray(b) else b)
    if da.dtype.kind == "f" or db.dtype.kind == "f":
        equal = np.array_equal(da.astype("f8"), db.astype("f8"), equal_nan=True)
    else:
        equal = np.array_equal(da.astype("i8") if da.dtype.itemsize < 8 else da, db.astype("i8") if db.dtype.itemsize < 8 else db)
    if not equal:
        return False, "values differ"
    return True, ""


def hyperslabs(shape):
    """Selections to read: whole, single index, strided, cut on every dimension."""
    if len(shape) == 0:
        return [()]
    slabs = [tuple(slice(None) for _ in shape)]
    slabs.append(tuple([0] + [slice(None)] * (len(shape) - 1)))
    slabs.append(tuple(slice(None, None, 2) for _ in shape))
    slabs.append(tuple(slice(1 if n > 2 else 0, n - 1 if n > 2 else n, 3) for n in shape))
    slabs.append(tuple(n // 2 for n in shape))
    if len(shape) >= 3:
        slabs.append(tuple([slice(2, min(shape[0], 5)), slice(None, None, 2), 1] + [slice(None)] * (len(shape) - 3)))
    return slabs


def read_expected(files, name, combine_dim, selection, raw):
    """Values of the files' variable under a selection, the files concatenated along combine_dim."""
    parts = []
    for f in files:
        var = f.variables[name]
        var.set_auto_maskandscale(not raw)
        if combine_dim and combine_dim in var.dimensions:
            parts.append(var[...])
        else:
            return np.ma.asarray(var[...])[selection]
    axis = files[0].variables[name].dimensions.index(combine_dim)
    return np.ma.concatenate(parts, axis=axis)[selection]


def attr_problems(where, got_attrs, want_attrs, fill_type):
    problems = []
    for key, want in want_attrs.items():
        if key not in got_attrs:
            problems.append(f"{where}: attribute {key} missing")
            continue
        got = got_attrs[key]
        if isinstance(want, str):
            if got != want:
                problems.append(f"{where}: attribute {key} = {got!r}, want {want!r}")
            continue
        want_arr, got_arr = np.atleast_1d(want), np.atleast_1d(got)
        if want_arr.dtype.kind in "iu" and got_arr.dtype.kind in "iu" and key in ("_FillValue", "valid_min", "valid_max", "valid_range", "flag_values", "missing_value"):
            # unsigned types come back as the signed type of the same size (bits kept)
            same = want_arr.dtype.itemsize == got_arr.dtype.itemsize and np.array_equal(want_arr.view(got_arr.dtype) if want_arr.dtype != got_arr.dtype else want_arr, got_arr)
        elif want_arr.dtype == np.int64 and got_arr.dtype == np.float64:
            same = np.array_equal(want_arr.astype("f8"), got_arr)
        else:
            same = want_arr.dtype == got_arr.dtype and np.array_equal(want_arr, got_arr, equal_nan=want_arr.dtype.kind == "f")
        if not same:
            problems.append(f"{where}: attribute {key} = {got!r} ({got_arr.dtype}), want {want!r} ({want_arr.dtype})")
    for key in got_attrs:
        if key in want_attrs or key in EXTRA_ATTRS:
            continue
        if key == "_FillValue" and fill_type is not None:
            default = DEFAULT_FILLS.get(fill_type)
            if default is not None and np.atleast_1d(got_attrs[key]).astype("f8")[0] == np.float64(default):
                continue
        problems.append(f"{where}: unexpected attribute {key} = {got_attrs[key]!r}")
    return problems


def check(url, paths, combine_dim):
    problems = []
    values = 0
    got = netCDF4.Dataset(url)
    files = [netCDF4.Dataset(p) for p in paths]
    first = files[0]
    # dimensions
    for name, dim in first.dimensions.items():
        size = sum(len(f.dimensions[name]) for f in files) if name == combine_dim else len(dim)
        if name not in got.dimensions:
            problems.append(f"dimension {name} missing")
        elif len(got.dimensions[name]) != size:
            problems.append(f"dimension {name} has size {len(got.dimensions[name])}, want {size}")
    problems += attr_problems("global", {k: got.getncattr(k) for k in got.ncattrs()}, {k: first.getncattr(k) for k in first.ncattrs()}, None)
    checked = 0
    for name, want_var in first.variables.items():
        if want_var.dtype == str or (isinstance(want_var.dtype, np.dtype) and want_var.dtype.kind in "SU"):
            continue
        if name not in got.variables:
            problems.append(f"variable {name} missing")
            continue
        var = got.variables[name]
        checked += 1
        if var.dimensions != want_var.dimensions:
            problems.append(f"{name}: dimensions {var.dimensions}, want {want_var.dimensions}")
        want_dtype = np.dtype(want_var.dtype).newbyteorder("=")
        if want_dtype.kind in "iu" and want_dtype.itemsize == 8:
            expected_dtype = np.dtype("f8")
        elif want_dtype.kind == "u" and want_dtype.itemsize > 1:
            expected_dtype = np.dtype(f"i{want_dtype.itemsize}")
        else:
            expected_dtype = want_dtype
        if np.dtype(var.dtype) != expected_dtype:
            problems.append(f"{name}: type {var.dtype}, want {expected_dtype} (file {want_dtype})")
        fill_type = want_dtype.str[1:] if want_dtype.kind != "f" else want_dtype.str[1:]
        problems += attr_problems(name, {k: var.getncattr(k) for k in var.ncattrs()}, {k: want_var.getncattr(k) for k in want_var.ncattrs()}, fill_type)
        for raw in (False, True):
            var.set_auto_maskandscale(not raw)
            for selection in hyperslabs(var.shape):
                try:
                    got_values = var[selection]
                except Exception as error:  # noqa: BLE001 - report any client failure
                    problems.append(f"{name}{selection} raw={raw}: read failed: {error}")
                    continue
                want_values = read_expected(files, name, combine_dim, selection, raw)
                if raw and want_dtype.kind == "u" and want_dtype.itemsize > 1:
                    want_values = np.asarray(want_values).view(expected_dtype)
                ok, why = same_values(got_values, want_values)
                values += int(np.size(got_values))
                if not ok:
                    problems.append(f"{name}{selection} raw={raw}: {why}")
    return {"ok": not problems, "problems": problems, "variables": checked, "values": values}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Compare an OPeNDAP URL opened by netCDF4-python with the original files.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--files", nargs="+", required=True)
    parser.add_argument("--combine-dim", default=None)
    args = parser.parse_args(argv)
    report = check(args.url, args.files, args.combine_dim)
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
