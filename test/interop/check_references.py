#!/usr/bin/env python3
"""Checks a kerchunk reference table against the NetCDF4 files it was made from, with fsspec's
own ReferenceFileSystem (no strato involved).

    check_references.py REFS.json FILE [FILE ...] [--combine-dim DIM]

Relative urls in the table are relative to the table's directory (strato's rule). fsspec
2022.11 would resolve them against the current directory instead, so the check hands fsspec a
copy of the table with those urls made absolute (templates, refs and gen urls); the file itself
is never changed. Besides the xarray comparison (see compare.py) it checks that every byte range
lies inside one of FILES and that fsspec expanded every key of every `gen` block.

Prints one JSON line {"ok", "problems", "variables", "values", "references"}; exit 0 when ok.
"""
import argparse
import json
import math
import os
import sys
from collections.abc import MutableMapping

import fsspec
import xarray as xr
import zarr.storage

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def is_relative(url):
    return "{{" not in url and "://" not in url and not os.path.isabs(url)


def absolute_copy(document, base):
    """The table with relative urls joined to `base` (templates are rendered by fsspec later)."""

    def fix(url):
        return os.path.normpath(os.path.join(base, url)) if is_relative(url) else url

    def fix_ref(value):
        if isinstance(value, list) and value and isinstance(value[0], str):
            return [fix(value[0]), *value[1:]]
        return value

    if document.get("version") == 1:
        out = dict(document)
        out["templates"] = {k: fix(v) for k, v in document.get("templates", {}).items()}
        out["refs"] = {k: fix_ref(v) for k, v in document.get("refs", {}).items()}
        out["gen"] = [dict(block, url=fix(block["url"])) for block in document.get("gen", [])]
        return out
    return {k: fix_ref(v) for k, v in document.items()}


class ReferenceMapping(MutableMapping):
    """fs.get_mapper("") without the batch read. zarr 2.13 turns an FSMap into an FSStore whose
    getitems() calls ReferenceFileSystem.cat(keys, on_error="omit"); fsspec 2022.11 ignores
    on_error there and raises KeyError for the whole batch when one chunk key is absent (a chunk
    never written), so zarr fails instead of using the fill value. Reading one key at a time
    keeps fsspec's reference resolution and byte fetching and the KeyError zarr expects."""

    def __init__(self, fs):
        self.fs = fs
        self.mapper = fs.get_mapper("")

    def __getitem__(self, key):
        return self.mapper[key]

    def __contains__(self, key):
        return key in self.fs.references

    def __iter__(self):
        return iter(self.fs.references)

    def __len__(self):
        return len(self.fs.references)

    def __setitem__(self, key, value):
        raise PermissionError("read-only")

    def __delitem__(self, key):
        raise PermissionError("read-only")


def gen_keys_expected(document):
    total = 0
    for block in document.get("gen", []) if document.get("version") == 1 else []:
        count = 1
        for spec in block["dimensions"].values():
            if isinstance(spec, list):
                count *= len(spec)
            else:
                start, stop, step = spec.get("start", 0), spec["stop"], spec.get("step", 1)
                count *= max(0, math.ceil((stop - start) / step))
        total += count
    return total


def check_byte_ranges(references, files, comparison):
    sizes = {os.path.realpath(f): os.path.getsize(f) for f in files}
    count = 0
    for key, value in references.items():
        if not isinstance(value, list):
            continue
        count += 1
        url = value[0]
        path = os.path.realpath(url[len("file://") :] if url.startswith("file://") else url)
        if path not in sizes:
            comparison.problem(f"{key}: points to {url}, which is not one of the files given")
            continue
        if len(value) == 3:
            offset, length = value[1], value[2]
            if offset < 0 or length <= 0 or offset + length > sizes[path]:
                comparison.problem(f"{key}: byte range {offset}+{length} outside {url} ({sizes[path]} bytes)")
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check kerchunk references against their NetCDF4 files with fsspec.")
    parser.add_argument("refs")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--combine-dim", default=None, help="dimension the files are concatenated along")
    args = parser.parse_args(argv)
    compare.quiet_warnings()

    with open(args.refs, encoding="utf-8") as f:
        document = json.load(f)
    table = absolute_copy(document, os.path.dirname(os.path.abspath(args.refs)))
    fs = fsspec.filesystem("reference", fo=table)

    preliminary = compare.Comparison()
    expected_gen = gen_keys_expected(document)
    if expected_gen:
        generated = 0
        for block in document["gen"]:
            prefix = block["key"].split("{{", 1)[0]
            generated += sum(1 for k in fs.references if k.startswith(prefix) and not k.endswith((".zarray", ".zattrs")))
        if generated != expected_gen:
            preliminary.problem(f"fsspec expanded {generated} gen keys, expected {expected_gen}")
    references = check_byte_ranges(fs.references, args.files, preliminary)

    def open_got(decode_cf):
        return xr.open_dataset(zarr.storage.KVStore(ReferenceMapping(fs)), engine="zarr", consolidated=False, decode_cf=decode_cf)

    result = compare.check(open_got, args.files, args.combine_dim)
    result["problems"] = preliminary.problems + result["problems"]
    result["ok"] = not result["problems"]
    result["references"] = references
    return compare.report(result)


if __name__ == "__main__":
    sys.exit(main())
