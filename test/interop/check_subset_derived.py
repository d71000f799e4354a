"""A subset of a derived dataset equals the same selection of its /kerchunk view read by xarray.

Usage: check_subset_derived.py BASE_URL DATASET NC_FILE WEST SOUTH EAST NORTH START END
Prints one JSON line.
"""

import json
import sys

import numpy as np
import xarray as xr

base, dataset, path = sys.argv[1:4]
west, south, east, north = (float(v) for v in sys.argv[4:8])
start, end = sys.argv[8:10]
got = xr.open_dataset(path)
view = xr.open_zarr(f'{base}/datasets/{dataset}/kerchunk', consolidated=True)
expected = view.sel(lat=slice(south, north) if view.lat[0] < view.lat[-1] else slice(north, south), lon=slice(west, east), time=slice(start, end))
report = {
    'dims': {k: int(v) for k, v in got.sizes.items()},
    'variables': sorted(got.data_vars),
    'same': all(bool(np.array_equal(got[v].values, expected[v].values, equal_nan=True)) for v in expected.data_vars),
    'same_coords': all(bool(np.array_equal(got[c].values, expected[c].values)) for c in ('time', 'lat', 'lon')),
    'cell_methods': got['tas'].attrs.get('cell_methods'),
    'fill_dtype': str(np.asarray(xr.open_dataset(path, mask_and_scale=False)['tas'].attrs['_FillValue']).dtype),
}
print(json.dumps(report))
