"""The Zarr result of a subset job equals its NetCDF result (stored values, coordinates, attributes).

Usage: check_subset_zarr.py ZARR_URL NC_FILE
Prints one JSON line.
"""

import json
import sys

import numpy as np
import xarray as xr

url, path = sys.argv[1:3]
store = xr.open_zarr(url, consolidated=True, mask_and_scale=False, decode_times=False)
nc = xr.open_dataset(path, mask_and_scale=False, decode_times=False)
decoded = xr.open_zarr(url, consolidated=True)
report = {
    'variables': sorted(store.variables),
    'same': all(bool(np.array_equal(store[v].values, nc[v].values, equal_nan=True)) for v in nc.variables),
    'dtypes': {v: str(store[v].dtype) for v in store.data_vars},
    'same_attrs': all(set(store[v].attrs) >= set(nc[v].attrs) - {'_FillValue'} for v in nc.variables),
    'decoded_time': str(decoded.time.values[0])[:10],
}
print(json.dumps(report))
