"""Reads a protected dataset with xarray and a bearer token, and its public twin without one.

Usage: check_protected.py BASE_URL PROTECTED_ID PUBLIC_ID TOKEN
Prints one JSON line: whether both views (v2 raw, v2 processed) are identical, and what a read
without the token raised.
"""
import json
import sys

import xarray as xr

base, protected, public, token = sys.argv[1:5]
headers = {"Authorization": f"Bearer {token}"}
result = {}
for view in ("kerchunk", "zarr"):
    mine = xr.open_zarr(f"{base}/datasets/{protected}/{view}", storage_options={"headers": headers}, consolidated=True, decode_times=False)
    twin = xr.open_zarr(f"{base}/datasets/{public}/{view}", consolidated=True, decode_times=False)
    mine.load()
    twin.load()
    result[view] = bool(mine.identical(twin)) and bool((mine["t"].fillna(-1) == twin["t"].fillna(-1)).all())
try:
    xr.open_zarr(f"{base}/datasets/{protected}/zarr", consolidated=True).load()
    result["anonymous"] = "read"
except Exception as error:  # fsspec raises on the 401
    result["anonymous"] = type(error).__name__ + ": " + str(error)[:200]
print(json.dumps(result))
