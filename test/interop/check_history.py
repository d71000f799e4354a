#!/usr/bin/env python3
"""Prints, as one JSON line, the `history` attribute xarray sees on each store URL given
(null when absent): check_history.py URL [URL ...]."""
import json
import sys
import warnings

import fsspec
import xarray as xr

warnings.simplefilter("ignore")
out = {}
for url in sys.argv[1:]:
    with xr.open_dataset(fsspec.get_mapper(url), engine="zarr", consolidated=True) as ds:
        out[url] = ds.attrs.get("history")
print(json.dumps(out), flush=True)
