#!/usr/bin/env python3
"""Loads strato's intake catalogs with Debian's intake and opens every source.

    check_intake.py --url http://host:port --ids ID [ID ...] [--views kerchunk zarr]

/intake.yaml: per dataset a source ID (driver zarr, intake-xarray) and ID_arrays (intake's
built-in zarr_cat driver), both with a `method` parameter (allowed kerchunk/zarr, default
kerchunk) expanding to urlpath <url>/datasets/<id>/<method>. /datasets/<id>/catalog.yaml: the
sources kerchunk, zarr (driver zarr) and kerchunk_arrays, zarr_arrays (zarr_cat).

Debian 12 packages intake 0.6.6 but not intake-xarray. Then the driver-zarr sources must fail
with intake's "No plugins loaded", their description must say what they need and give the
xarray line (metadata.xarray), which must open the dataset; and the _arrays sources must open
through intake alone, every array equal to xarray's undecoded values. With intake-xarray the
driver-zarr sources must open too. Prints one JSON line: {ok, problems, opened, driver_zarr}.
"""
import argparse
import json
import sys

import intake
import numpy as np
import xarray  # noqa: F401 — metadata.xarray lines are evaluated with it
import xarray as xr
from intake.catalog.utils import merge_pars


def has_zarr_driver():
    try:
        import intake_xarray  # noqa: F401
    except ImportError:
        return False
    return True


def expanded_urlpath(entry, params):
    args = merge_pars(dict(entry._open_args), dict(params), entry._user_parameters, client=False)
    return args["urlpath"]


def check_arrays(name, arrays_catalog, url, problems, opened):
    """Every array of a zarr_cat source equals the same array read by xarray (undecoded)."""
    reference = xr.open_dataset(url, engine="zarr", consolidated=True, mask_and_scale=False, decode_times=False)
    names = sorted(arrays_catalog)
    if names != sorted(reference.variables):
        problems.append(f"{name}: arrays {names} != xarray variables {sorted(reference.variables)}")
        return
    for var in names:
        values = arrays_catalog[var].to_dask().compute()
        if not np.array_equal(values, reference[var].values, equal_nan=values.dtype.kind == "f"):
            problems.append(f"{name}/{var}: values differ from xarray")
    opened.append(f"{name}:{len(names)} arrays")


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
    expected = sorted(args.ids + [f"{i}_arrays" for i in args.ids])
    if sorted(catalog) != expected:
        problems.append(f"/intake.yaml lists {sorted(catalog)}, expected {expected}")
    if "intake-xarray" not in catalog.description or "zarr_cat" not in catalog.description:
        problems.append(f"/intake.yaml description does not say what it needs: {catalog.description!r}")
    for name in args.ids:
        entry = catalog._entries.get(name)
        arrays_entry = catalog._entries.get(f"{name}_arrays")
        if entry is None or arrays_entry is None:
            problems.append(f"{name}: not in /intake.yaml with its _arrays source")
            continue
        described = entry.describe()
        if entry._driver != "zarr" or arrays_entry._driver != "zarr_cat":
            problems.append(f"{name}: drivers {entry._driver!r}, {arrays_entry._driver!r}")
        for e in (entry, arrays_entry):
            method = {p["name"]: p for p in e.describe()["user_parameters"]}.get("method")
            if not method or method.get("allowed") != ["kerchunk", "zarr"] or method.get("default") != "kerchunk":
                problems.append(f"{e.name}: method parameter {method}")
        description = described["description"]
        if "intake-xarray" not in description or "xarray.open_dataset(" not in description or f"{name}_arrays" not in description:
            problems.append(f"{name}: description does not say what it needs: {description!r}")
        if not driver:
            try:
                catalog[name].to_dask()
                problems.append(f"{name}: opened without a zarr driver?")
            except ValueError as error:
                if "No plugins loaded" not in str(error):
                    problems.append(f"{name}: unexpected error without intake-xarray: {error}")
        # The xarray line the source gives opens the dataset without intake-xarray.
        line = described["metadata"].get("xarray", "")
        if not line.startswith("xarray.open_dataset("):
            problems.append(f"{name}: metadata.xarray is {line!r}")
        else:
            ds = eval(line, {"xarray": xarray})  # noqa: S307 — the catalog's own one-line snippet
            if not ds.data_vars:
                problems.append(f"{name}: the xarray line opens no data variables")
            opened.append(f"{name}/xarray-line")
        for view in args.views:
            url = f"{args.url}/datasets/{name}/{view}"
            try:
                if expanded_urlpath(entry, {"method": view}) != url or expanded_urlpath(arrays_entry, {"method": view}) != url:
                    problems.append(f"{name}: urlpath for {view} is not {url}")
                if driver:
                    ds = catalog[name](method=view).to_dask()
                    ds[sorted(ds.data_vars)[0]].load()
                    opened.append(f"{name}/{view}")
                check_arrays(f"{name}_arrays/{view}", catalog[f"{name}_arrays"](method=view), url, problems, opened)
            except Exception as error:  # noqa: BLE001 — report every failure
                problems.append(f"{name}/{view}: {type(error).__name__}: {error}")

        per_dataset = intake.open_catalog(f"{args.url}/datasets/{name}/catalog.yaml")
        if sorted(per_dataset) != ["kerchunk", "kerchunk_arrays", "zarr", "zarr_arrays"]:
            problems.append(f"{name}/catalog.yaml lists {sorted(per_dataset)}")
        for view in args.views:
            sub = per_dataset._entries.get(view)
            sub_arrays = per_dataset._entries.get(f"{view}_arrays")
            if sub is None or sub_arrays is None:
                continue
            url = f"{args.url}/datasets/{name}/{view}"
            if sub.describe()["args"]["urlpath"] != url or sub_arrays.describe()["args"]["urlpath"] != url:
                problems.append(f"{name}/catalog.yaml {view}: urlpath not {url}")
                continue
            try:
                if driver:
                    per_dataset[view].to_dask()
                    opened.append(f"{name}/catalog.yaml/{view}")
                check_arrays(f"{name}/catalog.yaml/{view}_arrays", per_dataset[f"{view}_arrays"], url, problems, opened)
            except Exception as error:  # noqa: BLE001
                problems.append(f"{name}/catalog.yaml/{view}: {type(error).__name__}: {error}")

    print(json.dumps({"ok": not problems, "problems": problems, "opened": opened, "driver_zarr": driver, "intake": intake.__version__}))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
