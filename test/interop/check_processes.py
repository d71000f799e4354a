"""OGC API - Processes through Debian's owslib and the NetCDF result against xarray's own subset.

Usage: check_processes.py BASE_URL WORK_DIR DATA_DIR

owslib 0.27 (Debian 12) lists and describes processes; it has no execute, so executions go
through requests as its newer versions do (POST /processes/{id}/execution). The subset of the
demo's pr-daily and tas-daily equals xarray's selection on the source files, packed values
bit for bit; ncdump reads the file and cdo computes on it. Prints one JSON line.
"""

import json
import subprocess
import sys
import time

import numpy as np
import requests
import xarray as xr
from owslib.ogcapi.processes import Processes

base, work, data = sys.argv[1], sys.argv[2], sys.argv[3]
report = {'problems': []}


def problem(text):
    report['problems'].append(text)


api = Processes(base)  # reads strato's JSON landing page (owslib asks for */*)
report['landing_rels'] = sorted({link['rel'] for link in api.links})
listed = api.processes()
report['process_ids'] = sorted(p['id'] for p in listed['processes'])
subset = api.process('subset')
report['subset_inputs'] = sorted(subset['inputs'])
report['subset_outputs'] = sorted(subset['outputs'])
report['conformance'] = api.conformance()['conformsTo']

# echo, sync and async
echo_inputs = {'stringInput': 'hello', 'doubleInput': 1.5, 'arrayInput': [1, 2, 3], 'complexObjectInput': {'value': {'a': 1}}}
r = requests.post(f'{base}/processes/echo/execution', json={'inputs': echo_inputs}, timeout=30)
report['echo_sync'] = {'status': r.status_code, 'body': r.json()}
r = requests.post(f'{base}/processes/echo/execution', json={'inputs': echo_inputs}, headers={'Prefer': 'respond-async'}, timeout=30)
report['echo_async'] = {'status': r.status_code, 'location': r.headers.get('Location'), 'applied': r.headers.get('Preference-Applied')}
location = r.headers['Location']
for _ in range(100):
    status = requests.get(location, timeout=30).json()
    if status['status'] in ('successful', 'failed'):
        break
    time.sleep(0.1)
report['echo_async']['final'] = status['status']
report['echo_async']['results'] = requests.get(f'{location}/results', timeout=30).json()

# subset, sync (raw NetCDF) and async (document with a link)
cases = [
    ('pr-daily', 'pr', [10.0, -40.0, 60.0, 20.0], '2001-03-01T00:00:00Z/2002-01-15T00:00:00Z', 'pr_day_2001-2002.nc'),
    ('tas-daily', 'tas', [-100.0, 10.0, -20.0, 60.0], '2001-12-20T00:00:00Z/..', 'tas_day_200[12].nc'),
]
report['subsets'] = []
for mode in ('sync', 'async'):
    for dataset, variable, bbox, interval, files in cases:
        body = {'inputs': {'dataset': dataset, 'variables': [variable], 'bbox': bbox, 'datetime': interval}}
        path = f'{work}/{dataset}-{mode}.nc'
        if mode == 'sync':
            r = requests.post(f'{base}/processes/subset/execution', json=body, timeout=120)
            if r.status_code != 200 or not r.headers.get('content-type', '').startswith('application/x-netcdf'):
                problem(f'sync subset {dataset}: {r.status_code} {r.text[:300]}')
                continue
            open(path, 'wb').write(r.content)
        else:
            r = requests.post(f'{base}/processes/subset/execution', json=body, headers={'Prefer': 'respond-async'}, timeout=120)
            if r.status_code != 201:
                problem(f'async subset {dataset}: {r.status_code} {r.text[:300]}')
                continue
            job = r.headers['Location']
            progress = []
            for _ in range(600):
                status = requests.get(job, timeout=30).json()
                progress.append(status.get('progress'))
                if status['status'] in ('successful', 'failed'):
                    break
                time.sleep(0.1)
            if status['status'] != 'successful':
                problem(f'async subset {dataset}: {status}')
                continue
            results = requests.get(f'{job}/results', timeout=30).json()
            href = results['result']['href']
            open(path, 'wb').write(requests.get(href, timeout=120).content)
        got = xr.open_dataset(path, mask_and_scale=False, decode_times=False)
        source = xr.open_mfdataset(f'{data}/{files}', combine='by_coords', mask_and_scale=False, decode_times=False)
        decoded = xr.open_mfdataset(f'{data}/{files}', combine='by_coords')
        west, south, east, north = bbox
        lon = source.lon
        if lon.max() > 180:
            west, east = (w + 360 if w < 0 else w for w in (west, east))
        lon_sel = (lon >= west) & (lon <= east)
        start, end = interval.split('/')
        times = decoded.time.values
        tsel = np.ones(times.shape, bool)
        if start != '..':
            tsel &= times >= np.datetime64(start.rstrip('Z'))
        if end != '..':
            tsel &= times <= np.datetime64(end.rstrip('Z'))
        expected = source[[variable]].isel(time=np.flatnonzero(tsel), lat=np.flatnonzero((source.lat >= south) & (source.lat <= north)), lon=np.flatnonzero(lon_sel.values))
        same_values = bool(np.array_equal(got[variable].values, expected[variable].values, equal_nan=True))
        same_coords = all(bool(np.array_equal(got[c].values, expected[c].values)) for c in ('time', 'lat', 'lon'))
        attrs_kept = all(got[variable].attrs.get(k) == v or (isinstance(v, float) and np.isclose(got[variable].attrs.get(k), v)) for k, v in expected[variable].attrs.items())
        packed = str(got[variable].dtype) == str(expected[variable].dtype)
        cf = xr.open_dataset(path)
        decoded_equal = bool(
            np.allclose(cf[variable].values, decoded[variable].isel(time=np.flatnonzero(tsel), lat=np.flatnonzero((decoded.lat >= south) & (decoded.lat <= north)), lon=np.flatnonzero(lon_sel.values)).values, equal_nan=True, rtol=1e-6)
        )
        dump = subprocess.run(['ncdump', '-h', path], capture_output=True, text=True)
        cdo = subprocess.run(['cdo', '-s', 'fldmean', '-timmean', path, f'{path}.cdo.nc'], capture_output=True, text=True)
        cdo_mean = None
        if cdo.returncode == 0:
            cdo_mean = float(xr.open_dataset(f'{path}.cdo.nc')[variable].values.ravel()[0])
        report['subsets'].append(
            {
                'dataset': dataset,
                'mode': mode,
                'shape': list(got[variable].shape),
                'same_values': same_values,
                'same_coords': same_coords,
                'attrs_kept': attrs_kept,
                'packed_dtype_kept': packed,
                'decoded_equal': decoded_equal,
                'calendar': cf.time.encoding.get('calendar'),
                'ncdump': dump.returncode == 0,
                'cdo': bool(cdo.returncode == 0 and cdo_mean is not None and np.isfinite(cdo_mean)),
                'cdo_error': cdo.stderr[-300:],
            }
        )

print(json.dumps(report))
