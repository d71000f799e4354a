#!/usr/bin/env python3
"""Loads strato's intake catalogs with Debian's intake and opens every source's data with xarray.

    check_intake.py --url http://host:port --ids ID [ID ...] [--views kerchunk zarr]

For each dataset: /intake.yaml lists it with driver zarr and a `method` parameter (allowed
kerchunk/zarr, default kerchunk); intake's own parameter expansion gives urlpath
<url>/datasets/<id>/<method>. /datasets/<id>/catalog.yaml has the sources kerchunk and zarr.
When intake-xarray is installed, `cat[id](method=...).to_dask()` must open; without it (Debian 12
packages intake 0.6.6 but not intake-xarray, so driver "zarr" is unknown) the expanded urlpath is
opened with xarray directly, with the entry's args. Prints one JSON line: {ok, problems, opened, driver_zarr}.
"""
import argparse
import json
import sys

import intake
import xarray as xr
from intake.catalog.utils import merge_pars


def has_zarr_driver():
    try:
        import intake_xarray  # noqa: F401
    except ImportError:
        return False
    return True


def open_entry(catalog, name, entry, params, driver):
    if driver:
        return catalog[name](**params).to_dask()
    args = merge_pars(dict(entry._open_args), dict(params), entry._user_parameters, client=False)
    urlpath = args.pop("urlpath")
    return xr.open_dataset(urlpath, engine="zarr", **args), urlpath


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ids", nargs="+", required=True)
    parser.add_argument("--views", nargs="+", default=["kerchunk", "zarr"])
    args = parser.parse_args()
    problems = []
    opened = []
    driver = has_zarr_driver()

    catalog = intake.open_catalog(f"{args.url}/intake.yaml")
    names = sorted(catalog)
    if names != sorted(args.ids):
        problems.append(f"/intake.yaml lists {names}, expected {sorted(args.ids)}")
    for name in args.ids:
        entry = catalog._entries.get(name)
        if entry is None:
            problems.append(f"{name}: not in /intake.yaml")
            continue
        described = entry.describe()
        if entry._driver != "zarr":
            problems.append(f"{name}: driver {entry._driver!r}")
        method = {p["name"]: p for p in described["user_parameters"]}.get("method")
        if not method or method.get("allowed") != ["kerchunk", "zarr"] or method.get("default") != "kerchunk":
            problems.append(f"{name}: method parameter {method}")
        if not driver:
            try:
                catalog[name].to_dask()
                problems.append(f"{name}: opened without a zarr driver?")
            except ValueError as error:
                if "No plugins loaded" not in str(error):
                    problems.append(f"{name}: unexpected error without intake-xarray: {error}")
        reference = None
        for view in args.views:
            try:
                result = open_entry(catalog, name, entry, {"method": view}, driver)
                ds, urlpath = result if isinstance(result, tuple) else (result, None)
                if urlpath is not None and urlpath != f"{args.url}/datasets/{name}/{view}":
                    problems.append(f"{name}: urlpath for {view} is {urlpath}")
                if reference is None:
                    reference = ds
                elif dict(ds.sizes) != dict(reference.sizes) or sorted(ds.data_vars) != sorted(reference.data_vars):
                    problems.append(f"{name}: {view} differs from kerchunk in dims or variables")
                if not ds.data_vars:
                    problems.append(f"{name}: {view} has no data variables")
                first = sorted(ds.data_vars)[0]
                ds[first].load()
                opened.append(f"{name}/{view}")
            except Exception as error:  # noqa: BLE001 — report every failure
                problems.append(f"{name}/{view}: {type(error).__name__}: {error}")

        per_dataset = intake.open_catalog(f"{args.url}/datasets/{name}/catalog.yaml")
        if sorted(per_dataset) != ["kerchunk", "zarr"]:
            problems.append(f"{name}/catalog.yaml lists {sorted(per_dataset)}")
        for view in args.views:
            sub = per_dataset._entries.get(view)
            if sub is None:
                continue
            url = sub.describe()["args"]["urlpath"]
            if url != f"{args.url}/datasets/{name}/{view}":
                problems.append(f"{name}/catalog.yaml {view}: urlpath {url}")
            elif not driver:
                ds = xr.open_dataset(url, engine="zarr", consolidated=sub.describe()["args"].get("consolidated", True))
                opened.append(f"{name}/catalog.yaml/{view}:{len(ds.data_vars)}")

    print(json.dumps({"ok": not problems, "problems": problems, "opened": opened, "driver_zarr": driver, "intake": intake.__version__}))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
