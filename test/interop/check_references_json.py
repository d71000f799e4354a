#!/usr/bin/env python3
"""Opens strato's /datasets/{id}/references.json the way a user would, with plain fsspec's
ReferenceFileSystem over HTTP, and checks it against the NetCDF4 files (see compare.py).

    check_references_json.py --url TABLE_URL --files FILE [FILE ...] [--combine-dim DIM]
    check_references_json.py --url TABLE_URL --against STORE_URL

With --against (a dataset without source files, such as a derived one) the table must read
exactly what xarray reads from the server's Zarr store at STORE_URL (values and attributes).

The table is handed to fsspec by URL (fsspec fetches it itself); every chunk reference must be
a URL of the server's raw view (or inline bytes), never a source file.

Prints one JSON line {"ok", "problems", "variables", "values", "references"}; exit 0 when ok.
"""
import argparse
import os
import sys
from urllib.parse import unquote

import fsspec
import xarray as xr

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def against_store(open_got, store_url):
    comparison = compare.Comparison()
    variables = 0
    for decoded in (True, False):
        got = open_got(decode_cf=decoded).load()
        want = xr.open_dataset(fsspec.get_mapper(store_url), engine="zarr", consolidated=True, decode_cf=decoded).load()
        try:
            xr.testing.assert_identical(got, want)
        except AssertionError as error:
            comparison.problem(f"{'decoded' if decoded else 'raw'}: differs from {store_url}: {error}")
        variables = len(got.variables)
    return {"ok": not comparison.problems, "problems": comparison.problems, "variables": variables, "values": 0}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check strato's references.json against NetCDF4 files with plain fsspec.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--files", nargs="+")
    parser.add_argument("--against", default=None)
    parser.add_argument("--combine-dim", default=None)
    args = parser.parse_args(argv)
    compare.quiet_warnings()

    fs = fsspec.filesystem("reference", fo=args.url, remote_protocol="http")
    preliminary = compare.Comparison()
    view = args.url.rsplit("/references.json", 1)[0] + "/kerchunk/"
    references = 0
    for key, value in fs.references.items():
        if isinstance(value, list):
            references += 1
            if not unquote(value[0]).startswith(view):
                preliminary.problem(f"{key}: points to {value[0]}, not the raw view {view}")

    def open_got(decode_cf):
        return xr.open_dataset(fs.get_mapper(""), engine="zarr", consolidated=True, decode_cf=decode_cf)

    if args.against:
        result = against_store(open_got, args.against)
    else:
        result = compare.check(open_got, args.files, args.combine_dim)
    result["problems"] = preliminary.problems + result["problems"]
    result["ok"] = not result["problems"]
    result["references"] = references
    return compare.report(result)


if __name__ == "__main__":
    sys.exit(main())
