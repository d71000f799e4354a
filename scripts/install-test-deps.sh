#!/usr/bin/env bash
# Debian packages the test suite needs (interop clients, reference checks, bench). Idempotent and
# quiet: installs only what is missing, and exits 0 at once when everything is there.
# Needs root to install (CI); without root it names the missing packages and exits 1.
set -euo pipefail

# The one list. python3-dask: xarray.open_mfdataset; python3-cftime: non-standard calendars;
# python3-jinja2: fsspec expands `gen` blocks of reference tables with it. libdeflate-dev, liblz4-dev:
# the native codec addon links them when present, for zlib inflate and for the LZ4 blocks of blosc
# frames (scripts/test.sh rebuilds the addon after installing them; else `npm rebuild`).
PACKAGES=(
  python3-numpy
  python3-netcdf4
  python3-h5py
  python3-xarray
  python3-zarr
  python3-fsspec
  python3-aiohttp
  python3-requests
  python3-numcodecs
  python3-pandas
  python3-dask
  python3-cftime
  python3-jinja2
  python3-intake
  python3-prov
  python3-owslib
  nginx-light
  wrk
  netcdf-bin
  cdo
  chromium
  gdal-bin
  procps
  libdeflate-dev
  liblz4-dev
)

missing=()
for package in "${PACKAGES[@]}"; do
  # dpkg -s also succeeds for removed packages that left config files; require "ii".
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-test-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-test-deps: run as root, or: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "install-test-deps: installing ${missing[*]}" >&2
# Keep package scripts from starting services (nginx) during the install, as in containers.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
