#!/usr/bin/env python3
"""Dumps the stored (not CF-decoded) values of NetCDF4 files, as netCDF4 reads them.

    dump_raw.py --out DIR --files F1 [F2 ...] [--combine-dim time]

For every variable: DIR/NAME.bin with the values in C order, little-endian, exactly as stored
(no scale_factor/add_offset, no masking; unwritten chunks read as the fill value), and
DIR/manifest.json {NAME: {"dtype": "<f4", "shape": [...]}}. With several files, variables along
--combine-dim are concatenated along it; others come from the first file.
"""
import argparse
import json
import os
import sys

import netCDF4
import numpy as np

sys.dont_write_bytecode = True


def raw_values(dataset, name):
    variable = dataset.variables[name]
    variable.set_auto_maskandscale(False)
    return np.asarray(variable[...])


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--files", nargs="+", required=True)
    parser.add_argument("--combine-dim", default=None)
    args = parser.parse_args(argv)
    datasets = [netCDF4.Dataset(path) for path in args.files]
    os.makedirs(args.out, exist_ok=True)
    manifest = {}
    for name, variable in datasets[0].variables.items():
        if variable.dtype == str or variable.dtype.kind in "OSU":
            continue
        if args.combine_dim and args.combine_dim in variable.dimensions and len(datasets) > 1:
            axis = variable.dimensions.index(args.combine_dim)
            values = np.concatenate([raw_values(d, name) for d in datasets], axis=axis)
        else:
            values = raw_values(datasets[0], name)
        little = np.ascontiguousarray(values.astype(values.dtype.newbyteorder("<")))
        little.tofile(os.path.join(args.out, f"{name}.bin"))
        manifest[name] = {"dtype": little.dtype.str, "shape": list(little.shape)}
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    for d in datasets:
        d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
