"""Compares a dataset opened through Zarr (strato over HTTP, or fsspec references) with the
original NetCDF4 files opened by xarray's netCDF4 backend.

Used by check_xarray.py and check_references.py. Everything is compared twice: with CF decoding
(what users see: masked, scaled, datetime values) and with decode_cf=False (the stored numbers).
Values must match bit for bit (NaN == NaN, but -0.0 != 0.0).

Zarr cannot say "no fill value" the way netCDF can, so kerchunk writes the HDF5 fill value of the
variable (netCDF's default fill when no _FillValue attribute was set) or null for CF time
variables. A Zarr-side _FillValue is therefore accepted when the file has none and it equals the
netCDF default fill for the dtype.
"""
import json
import math
import sys
import warnings

import netCDF4
import numpy as np
import xarray as xr

MAX_PROBLEMS = 200


def open_files(files, combine_dim=None, decode_cf=True):
    """The reference answer: the files as xarray reads them (one file, or several combined)."""
    kwargs = {"engine": "netcdf4", "decode_cf": decode_cf}
    if len(files) == 1 and not combine_dim:
        return xr.open_dataset(files[0], **kwargs)
    combine = {"combine": "nested", "concat_dim": combine_dim} if combine_dim else {"combine": "by_coords"}
    # What kerchunk's MultiZarrToZarr produces: only variables that have the dimension are
    # concatenated; everything else (lat, lon, orog, ...) is taken from the first file.
    return xr.open_mfdataset(
        files,
        data_vars="minimal",
        coords="minimal",
        compat="override",
        join="exact",
        combine_attrs="override",
        **combine,
        **kwargs,
    )


# --- attributes ------------------------------------------------------------------------------


def normalize_attr(value):
    """A comparable form of an attribute value: ("str"|"int"|"float"|"list", value)."""
    if isinstance(value, (bytes, np.bytes_)):
        return ("str", bytes(value).decode("utf-8"))
    if isinstance(value, str):
        return ("str", str(value))
    if isinstance(value, (list, tuple, np.ndarray)):
        items = value.tolist() if isinstance(value, np.ndarray) else list(value)
        return ("list", tuple(normalize_attr(v) for v in items))
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, (int, np.integer)):
        return ("int", int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return ("float", "nan" if math.isnan(value) else value)
    return ("other", repr(value))


def show(value):
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) < 120 else text[:117] + "..."


def default_fill(dtype):
    dtype = np.dtype(dtype)
    return netCDF4.default_fillvals.get(f"{dtype.kind}{dtype.itemsize}")


def same_number(a, b):
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


# --- values ----------------------------------------------------------------------------------


def native(array):
    array = np.asarray(array)
    if array.dtype.kind in "biufcmM" and not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def same_dtype(a, b):
    a, b = np.dtype(a), np.dtype(b)
    return a.kind == b.kind and a.itemsize == b.itemsize and (a.kind != "V" or a == b)


def value_difference(got, want):
    """None when equal bit for bit, else a short description."""
    got, want = native(got), native(want)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if not same_dtype(got.dtype, want.dtype):
        return f"dtype {got.dtype} != {want.dtype}"
    kind = got.dtype.kind
    if kind in "fc":
        both_nan = np.isnan(got) & np.isnan(want)
        equal = (got == want) | both_nan
        if equal.all() and kind == "f":
            unsigned = np.dtype(f"u{got.dtype.itemsize}")
            bits = (got.view(unsigned) == want.view(unsigned)) | both_nan
            if not bits.all():
                first = tuple(int(i) for i in np.argwhere(~bits)[0])
                return f"equal but not bit for bit (e.g. -0.0 vs 0.0); first at {first}"
    elif kind in "mM":
        equal = got.view("i8") == want.view("i8")
    elif kind == "O":
        flat_got, flat_want = got.ravel(), want.ravel()
        equal = np.array([a == b for a, b in zip(flat_got, flat_want)], dtype=bool).reshape(got.shape)
    else:
        equal = got == want
    equal = np.asarray(equal)
    if equal.all():
        return None
    first = tuple(int(i) for i in np.argwhere(~equal)[0]) if equal.ndim else ()
    return (
        f"{int((~equal).sum())} of {equal.size} values differ; first at {first}: "
        f"{show(got[first])} != {show(want[first])}"
    )


# --- datasets --------------------------------------------------------------------------------


class Comparison:
    def __init__(self):
        self.problems = []
        self.variables = 0
        self.values = 0

    def problem(self, text):
        self.problems.append(text)

    def attrs(self, where, got, want, skip=()):
        got = {k: v for k, v in got.items() if k not in skip}
        want = {k: v for k, v in want.items() if k not in skip}
        for name in sorted(set(got) | set(want)):
            if name not in got:
                self.problem(f"{where}: attribute {name!r} missing (expected {show(want[name])})")
            elif name not in want:
                self.problem(f"{where}: unexpected attribute {name!r} = {show(got[name])}")
            elif normalize_attr(got[name]) != normalize_attr(want[name]):
                self.problem(
                    f"{where}: attribute {name!r} = {show(got[name])} ({type(got[name]).__name__}), "
                    f"expected {show(want[name])} ({type(want[name]).__name__})"
                )

    def fill_value(self, where, got, want, dtype):
        """got/want: the _FillValue (None when absent) on each side."""
        if want is None:
            if got is not None and not same_number(got, default_fill(dtype)):
                self.problem(f"{where}: _FillValue {show(got)} but the file has none (netCDF default {show(default_fill(dtype))})")
        elif got is None:
            self.problem(f"{where}: _FillValue missing (expected {show(want)})")
        elif not same_number(got, want):
            self.problem(f"{where}: _FillValue {show(got)} != {show(want)}")

    def encoding(self, where, got, want):
        g, w = got.encoding, want.encoding
        if "dtype" in w and not same_dtype(g.get("dtype", got.dtype), w["dtype"]):
            self.problem(f"{where}: encoded dtype {g.get('dtype')} != {w['dtype']}")
        dtype = w.get("dtype", want.dtype)
        self.fill_value(f"{where} (encoding)", g.get("_FillValue"), w.get("_FillValue"), dtype)
        for key in ("scale_factor", "add_offset"):
            if key in g or key in w:
                if key not in g or key not in w or not same_number(g[key], w[key]):
                    self.problem(f"{where}: encoding {key} {show(g.get(key))} != {show(w.get(key))}")
        for key in ("units", "calendar"):
            if key in g or key in w:
                if g.get(key) != w.get(key):
                    self.problem(f"{where}: encoding {key} {show(g.get(key))} != {show(w.get(key))}")

    def datasets(self, got, want, decoded):
        label = "decoded" if decoded else "raw"
        if dict(got.dims) != dict(want.dims):
            self.problem(f"{label}: dims {dict(got.dims)} != {dict(want.dims)}")
        got_vars, want_vars = set(got.variables), set(want.variables)
        for name in sorted(want_vars - got_vars):
            self.problem(f"{label}: variable {name!r} missing")
        for name in sorted(got_vars - want_vars):
            self.problem(f"{label}: unexpected variable {name!r}")
        if set(got.coords) != set(want.coords):
            self.problem(f"{label}: coords {sorted(got.coords)} != {sorted(want.coords)}")
        if set(got.data_vars) != set(want.data_vars):
            self.problem(f"{label}: data_vars {sorted(got.data_vars)} != {sorted(want.data_vars)}")
        if decoded:
            self.attrs("global", got.attrs, want.attrs)
        for name in sorted(got_vars & want_vars):
            g, w = got.variables[name], want.variables[name]
            where = f"{label} {name}"
            if g.dims != w.dims:
                self.problem(f"{where}: dims {g.dims} != {w.dims}")
            if decoded:
                self.attrs(where, g.attrs, w.attrs)
                self.encoding(where, g, w)
            else:
                self.attrs(where, g.attrs, w.attrs, skip=("_FillValue",))
                self.fill_value(where, g.attrs.get("_FillValue"), w.attrs.get("_FillValue"), w.dtype)
            try:
                difference = value_difference(g.values, w.values)
            except Exception as error:  # a chunk that cannot be read or decoded
                self.problem(f"{where}: cannot read values: {type(error).__name__}: {error}")
                continue
            if difference:
                self.problem(f"{where}: {difference}")
            if decoded:
                self.variables += 1
                self.values += int(np.prod(w.shape, dtype=np.int64))

    def result(self):
        problems = self.problems
        if len(problems) > MAX_PROBLEMS:
            problems = problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more"]
        return {"ok": not self.problems, "problems": problems, "variables": self.variables, "values": self.values}


def check(open_got, files, combine_dim=None):
    """open_got(decode_cf=bool) -> xarray.Dataset. Returns the result dict."""
    comparison = Comparison()
    for decoded in (True, False):
        label = "decoded" if decoded else "raw"
        try:
            want = open_files(files, combine_dim, decode_cf=decoded)
        except Exception as error:
            comparison.problem(f"{label}: cannot open the files: {type(error).__name__}: {error}")
            continue
        try:
            got = open_got(decode_cf=decoded)
        except Exception as error:
            comparison.problem(f"{label}: cannot open the Zarr view: {type(error).__name__}: {error}")
            want.close()
            continue
        try:
            comparison.datasets(got, want, decoded)
        finally:
            got.close()
            want.close()
    return comparison.result()


def report(result):
    """Prints the one-line JSON result; returns the exit code."""
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


def quiet_warnings():
    warnings.simplefilter("ignore")


if __name__ == "__main__":
    sys.exit("compare.py is a module; run check_xarray.py or check_references.py")
