"""Derived datasets of strato against xarray on the source files.

`make DIR`: writes the NetCDF4 sources (float32 with NaN and a missing chunk, packed int16 with
_FillValue in a noleap calendar, float32 in a 360_day calendar).
`check URL DIR`: opens every derived dataset through strato's /zarr with xarray, computes the same
with xarray on the source files, and prints one JSON line per case: {"id", "ok", "detail"}.
"""
import json
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")


def make(out):
    import netCDF4

    rng = np.random.default_rng(17)
    lat = np.array([75, 60, 45, 30, 15, 0, -15], dtype="f4")
    lon = np.array([-30, -15, 0, 15, 30, 45, 60, 75], dtype="f4")

    def base(path, calendar, days, name, dtype, **var_kw):
        ds = netCDF4.Dataset(path, "w")
        ds.createDimension("time", None)
        ds.createDimension("lat", len(lat))
        ds.createDimension("lon", len(lon))
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 1950-01-01"
        t.calendar = calendar
        t.standard_name = "time"
        t[:] = np.arange(days, dtype="f8") + 0.5
        y = ds.createVariable("lat", "f4", ("lat",))
        y.units = "degrees_north"
        y.standard_name = "latitude"
        y[:] = lat
        x = ds.createVariable("lon", "f4", ("lon",))
        x.units = "degrees_east"
        x.standard_name = "longitude"
        x[:] = lon
        v = ds.createVariable(name, dtype, ("time", "lat", "lon"), chunksizes=(10, len(lat), len(lon)), zlib=True, **var_kw)
        v.units = "K"
        v.cell_methods = "time: mean"
        ds.title = f"fixture {name}"
        return ds, v

    days = 400
    ds, v = base(f"{out}/tas.nc", "standard", days, "tas", "f4", fill_value=np.float32(1e20))
    data = (280 + 10 * rng.standard_normal((days, len(lat), len(lon)))).astype("f4")
    data[rng.random(data.shape) < 0.05] = np.nan
    data[:, 6, 7] = np.nan  # a cell that is always missing
    v.set_auto_mask(False)
    v[0:40] = data[0:40]
    v[50:] = data[50:]  # time 40..49: a chunk never written (missing → fill value)
    ds.close()

    ds, v = base(f"{out}/pr.nc", "noleap", 730, "pr", "i2", fill_value=np.int16(-32767))
    v.scale_factor = np.float32(0.01)
    v.add_offset = np.float32(5.0)
    v.set_auto_maskandscale(False)
    raw = rng.integers(-3000, 3000, (730, len(lat), len(lon))).astype("i2")
    raw[rng.random(raw.shape) < 0.05] = -32767
    v[:] = raw
    ds.close()

    ds, v = base(f"{out}/c360.nc", "360_day", 720, "ts", "f4")
    v[:] = (270 + 5 * rng.standard_normal((720, len(lat), len(lon)))).astype("f4")
    ds.close()


def cases(src):
    import xarray as xr

    tas = xr.open_dataset(f"{src}/tas.nc")
    pr = xr.open_dataset(f"{src}/pr.nc", use_cftime=True)
    ts = xr.open_dataset(f"{src}/c360.nc", use_cftime=True)
    w = lambda ds: np.cos(np.deg2rad(ds.lat))
    europe = tas.sel(lat=slice(70, 30), lon=slice(-10, 40), time=slice("1950-01-05", "1950-02-10"))
    seasons = ["DJF", "MAM", "JJA", "SON"]
    sub = tas.sel(lat=slice(60, 0), time=slice("1950-02", "1950-11"))
    return {
        # id: (variable, expected DataArray, exact?)
        "tas-monthly": ("tas", tas.tas.resample(time="1MS").mean(), False),
        "tas-monthly-max": ("tas", tas.tas.resample(time="1MS").max(), True),
        "tas-monthly-min": ("tas", tas.tas.resample(time="1MS").min(), True),
        "tas-monthly-count": ("tas", tas.tas.resample(time="1MS").count(), True),
        "tas-monthly-sum": ("tas", tas.tas.resample(time="1MS").sum(), False),
        "tas-monthly-std": ("tas", tas.tas.resample(time="1MS").std(), False),
        "tas-daily": ("tas", tas.tas.resample(time="1D").mean(), False),
        "tas-yearly": ("tas", tas.tas.resample(time="YS").mean(), False),
        "tas-seasonal": ("tas", tas.tas.resample(time="QS-DEC").mean(), False),
        "tas-clim": ("tas", tas.tas.groupby("time.month").mean(), False),
        "tas-season-clim": ("tas", tas.tas.groupby("time.season").mean().sel(season=seasons), False),
        "tas-doy-max": ("tas", tas.tas.groupby("time.dayofyear").max(), True),
        "tas-fldmean": ("tas", tas.tas.weighted(w(tas)).mean(("lat", "lon")), False),
        "tas-fldmax": ("tas", tas.tas.max(("lat", "lon")), True),
        "tas-europe": ("tas", europe.tas, True),
        "tas-europe-lat": ("lat", europe.lat, True),
        "tas-europe-monthly-max": ("tas", europe.tas.resample(time="1MS").max(), True),
        "tas-monthly-fldmean": ("tas", tas.tas.resample(time="1MS").mean().weighted(w(tas)).mean(("lat", "lon")), False),
        "tas-sel-monthly-fld": ("tas", sub.tas.resample(time="1MS").mean().weighted(w(sub)).mean(("lat", "lon")), False),
        "pr-fldcount": ("pr", pr.pr.count(("lat", "lon")), True),
        "ts-season-max": ("ts", ts.ts.groupby("time.season").max().sel(season=seasons), True),
        "pr-monthly": ("pr", pr.pr.resample(time="1MS").mean(), False),
        "pr-monthly-min": ("pr", pr.pr.resample(time="1MS").min(), True),
        "pr-clim": ("pr", pr.pr.groupby("time.month").mean(), False),
        "ts-monthly": ("ts", ts.ts.resample(time="1MS").mean(), False),
        "ts-clim-std": ("ts", ts.ts.groupby("time.month").std(), False),
    }


def check(url, src):
    import xarray as xr

    for id, (name, expected, exact) in cases(src).items():
        try:
            got_ds = xr.open_dataset(f"{url}/datasets/{id}/zarr", engine="zarr", consolidated=True, use_cftime=True)
            got = got_ds[name]
            a = np.asarray(got.values)
            b = np.asarray(expected.values)
            if a.shape != b.shape:
                raise AssertionError(f"shape {a.shape} != {b.shape}")
            if exact:
                same = np.array_equal(a, b, equal_nan=True)
            else:
                # float rounding: xarray sums float32 in float32, strato in float64
                f64 = a.dtype == np.float64 and b.dtype == np.float64
                scale = float(np.nanmax(np.abs(b.astype("f8")))) if np.isfinite(b.astype("f8")).any() else 1.0
                same = np.allclose(a.astype("f8"), b.astype("f8"), rtol=1e-12 if f64 else 1e-5, atol=(1e-12 if f64 else 1e-5) * scale, equal_nan=True)
            if not same:
                diff = np.nanmax(np.abs(a.astype("f8") - b.astype("f8")))
                raise AssertionError(f"values differ (max |diff| {diff}); nan {np.isnan(a.astype('f8')).sum()} vs {np.isnan(b.astype('f8')).sum()}")
            detail = {"dtype": str(a.dtype), "expected_dtype": str(b.dtype)}
            if "time" in got.dims and "time" in expected.dims:
                gt = [str(t)[:19].replace("T", " ") for t in got_ds.time.values]
                et = [str(t)[:19].replace("T", " ") for t in expected.time.values]
                if gt != et:
                    raise AssertionError(f"time {gt[:3]} != {et[:3]}")
            if "time" in got.dims:
                detail["cell_methods"] = got.attrs.get("cell_methods")
                detail["bounds"] = got_ds.time.attrs.get("bounds") or got_ds.time.encoding.get("bounds") or got_ds.time.attrs.get("climatology") or got_ds.time.encoding.get("climatology")
            print(json.dumps({"id": id, "ok": True, "detail": detail}))
        except Exception as error:  # noqa: BLE001 - one line per case
            print(json.dumps({"id": id, "ok": False, "detail": f"{type(error).__name__}: {error}"}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
