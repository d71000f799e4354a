#!/usr/bin/env python3
"""Checks the catalog tree (/catalog/kerchunk or /catalog/zarr) against the per-dataset routes.

    check_catalog_tree.py --url http://127.0.0.1:PORT/catalog/kerchunk --expect '{"groups": [...], "datasets": {"a/b": URL}}'

With zarr-python 2 and xarray (Debian's):
- zarr.open_consolidated(url) and a walk of its groups finds exactly the expected group paths;
  every array of a dataset group reads (through the tree's root store) exactly the values of the
  same array opened from the dataset's own URL;
- xr.open_dataset(url + "/" + path, engine="zarr") and xr.open_dataset(url, engine="zarr",
  group=path) are identical to xr.open_dataset(dataset_url, engine="zarr"), CF-decoded and raw.

Prints one JSON line {"ok": bool, "problems": [...], "groups": N, "arrays": N}; exit 0 only when ok.
"""
import argparse
import json
import sys
import warnings

import numpy as np
import xarray as xr
import zarr

sys.dont_write_bytecode = True


def walk(group, prefix, found):
    for name, sub in group.groups():
        path = f"{prefix}{name}"
        found[path] = sub
        walk(sub, f"{path}/", found)


def same_values(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f" or a.dtype.kind == "c":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--expect", required=True)
    parser.add_argument("--no-group-open", action="store_true", help="skip xr.open_dataset(url, group=...) (large catalogs)")
    parser.add_argument(
        "--listed-attrs-without",
        default=None,
        help="an attribute the group's own .zattrs may add to what a large listing shows (the processed view's history note)",
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    expect = json.loads(args.expect)
    problems = []
    arrays = 0

    root = zarr.open_consolidated(args.url, mode="r")
    found = {}
    walk(root, "", found)
    if sorted(found) != sorted(expect["groups"]):
        problems.append(f"groups: got {sorted(found)}, expected {sorted(expect['groups'])}")

    for path, dataset_url in expect["datasets"].items():
        own = zarr.open_consolidated(dataset_url, mode="r")
        group = found.get(path)
        if group is None:
            problems.append(f"{path}: not in the tree")
            continue
        if sorted(group.array_keys()) != sorted(own.array_keys()):
            problems.append(f"{path}: arrays {sorted(group.array_keys())} != {sorted(own.array_keys())}")
        listed, served = dict(group.attrs), dict(own.attrs)
        if args.listed_attrs_without:
            listed.pop(args.listed_attrs_without, None)
            served.pop(args.listed_attrs_without, None)
        if listed != served:
            problems.append(f"{path}: group attributes differ")
        for name in own.array_keys():
            if name not in group:
                continue
            arrays += 1
            if dict(group[name].attrs) != dict(own[name].attrs):
                problems.append(f"{path}/{name}: attributes differ")
            if not same_values(group[name][...], own[name][...]):
                problems.append(f"{path}/{name}: values differ")
        for decode_cf in (True, False):
            want = xr.open_dataset(dataset_url, engine="zarr", consolidated=True, decode_cf=decode_cf)
            opens = {"url": lambda: xr.open_dataset(f"{args.url}/{path}", engine="zarr", consolidated=True, decode_cf=decode_cf)}
            if not args.no_group_open:
                opens["group"] = lambda: xr.open_dataset(args.url, engine="zarr", group=path, consolidated=True, decode_cf=decode_cf)
            for how, open_got in opens.items():
                try:
                    got = open_got()
                    if not got.identical(want):
                        problems.append(f"{path} ({how}, decode_cf={decode_cf}): not identical to the dataset's own route")
                except Exception as error:  # noqa: BLE001 - reported, not raised
                    problems.append(f"{path} ({how}, decode_cf={decode_cf}): {type(error).__name__}: {error}")

    print(json.dumps({"ok": not problems, "problems": problems, "groups": len(found), "arrays": arrays}))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
