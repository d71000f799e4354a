"""subset with derive operations against xarray on the source files.

Usage: check_subset_derive.py NC_FILE DATA_GLOB WEST SOUTH EAST NORTH
The file is subset(bbox) + derive {groupby: time.month, reduce: mean}; xarray computes
ds.sel(box).groupby("time.month").mean(). Prints one JSON line.
"""

import json
import sys

import numpy as np
import xarray as xr

path, files = sys.argv[1:3]
west, south, east, north = (float(v) for v in sys.argv[3:7])
got = xr.open_dataset(path)
source = xr.open_mfdataset(files, combine='by_coords')
box = source.isel(lat=np.flatnonzero(((source.lat >= south) & (source.lat <= north)).values), lon=np.flatnonzero(((source.lon >= west) & (source.lon <= east)).values))
expected = box['tas'].groupby('time.month').mean().values
values = got['tas'].values
report = {
    'shape': list(values.shape),
    'expected_shape': list(expected.shape),
    'max_abs_diff': float(np.nanmax(np.abs(values - expected))) if values.shape == expected.shape else None,
    'cell_methods': got['tas'].attrs.get('cell_methods'),
}
print(json.dumps(report))
