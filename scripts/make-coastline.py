"""Writes plugins/plots/coastline-110m.ts from Natural Earth's 1:110m coastline as Debian ships it.

Source: Debian 12 package r-cran-rnaturalearthdata 0.1.0 (CC0; the data is Natural Earth, public
domain), object `coastline110` (an sp SpatialLinesDataFrame, WGS84 lon/lat) in
/usr/lib/R/site-library/rnaturalearthdata/data/Rdata.rdb. R is not needed: this script reads R's
lazy-load database (xz-compressed XDR serialization) itself. Coordinates are rounded to 0.01 degree
and written as delta-encoded integers, one string per polyline.

Usage: apt-get download r-cran-rnaturalearthdata && dpkg -x r-cran-rnaturalearthdata_*.deb x &&
       python3 scripts/make-coastline.py x/usr/lib/R/site-library/rnaturalearthdata/data > plugins/plots/coastline-110m.ts
"""
import gzip
import lzma
import struct
import sys
import zlib


class Reader:
    """Just enough of R's XDR serialization (format 2 and 3) for sp objects."""

    def __init__(self, data):
        self.b, self.i, self.refs = data, 0, []

    def int(self):
        (v,) = struct.unpack(">i", self.b[self.i : self.i + 4])
        self.i += 4
        return v

    def raw(self, n):
        v = self.b[self.i : self.i + n]
        self.i += n
        return v

    def header(self):
        assert self.raw(2) == b"X\n", "not XDR"
        version = self.int()
        self.int(), self.int()
        if version == 3:
            self.raw(self.int())

    def item(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == 254:
            return None
        if kind in (241, 242, 253):
            return ("env", kind)
        if kind == 255:
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if kind == 247:
            self.int()
            value = ("persist", [self.item() for _ in range(self.int())])
            self.refs.append(value)
            return value
        if kind == 1:
            value = ("sym", self.item())
            self.refs.append(value)
            return value
        if kind in (249, 250):
            self.int()
            value = ("ns", [self.item() for _ in range(self.int())])
            self.refs.append(value)
            return value
        if kind == 4:
            self.int()
            value = {}
            self.refs.append(value)
            value.update(enclos=self.item(), frame=self.item(), hashtab=self.item(), attr=self.item())
            return value
        if kind in (2, 3, 5, 6, 17, 239, 240):
            attr = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            return ("pair", tag, self.item(), self.item(), attr)
        if kind == 9:
            n = self.int()
            return None if n == -1 else self.raw(n).decode("latin-1")
        if kind in (10, 13):
            n = self.int()
            value = struct.unpack(">%di" % n, self.raw(4 * n))
        elif kind == 14:
            n = self.int()
            value = struct.unpack(">%dd" % n, self.raw(8 * n))
        elif kind in (16, 19, 20):
            value = [self.item() for _ in range(self.int())]
        elif kind == 24:
            value = self.raw(self.int())
        elif kind == 25:
            value = None
        else:
            raise ValueError(f"R type {kind} not handled")
        attr = self.item() if has_attr else None
        return ("vec", kind, value, attr)


def attributes(pairs):
    out = {}
    while pairs is not None and pairs[0] == "pair":
        _, tag, car, pairs, _ = pairs
        out[tag[1] if tag else None] = car
    return out


def fetch(directory, name):
    index = Reader(gzip.open(f"{directory}/Rdata.rdx").read())
    index.header()
    top = index.item()
    variables = top[2][0]
    names = attributes(variables[3])["names"][2]
    offset, length = dict(zip(names, [v[2] for v in variables[2]]))[name]
    with open(f"{directory}/Rdata.rdb", "rb") as f:
        f.seek(int(offset))
        blob = f.read(int(length))
    body, kind = blob[5:], blob[4:5]
    if kind == b"Z":
        data = lzma.decompress(body, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])
    elif kind == b"1":
        data = zlib.decompress(body)
    else:
        data = zlib.decompress(blob[4:])
    reader = Reader(data)
    reader.header()
    return reader.item()


def main():
    spatial = attributes(fetch(sys.argv[1], "coastline110")[3])
    lines = []
    for group in spatial["lines"][2]:
        for line in attributes(group[3])["Lines"][2]:
            coords = attributes(line[3])["coords"]
            n = attributes(coords[3])["dim"][2][0]
            values = coords[2]
            points = [(round(values[i] * 100), round(values[n + i] * 100)) for i in range(n)]
            deltas, previous = [], (0, 0)
            for point in points:
                deltas.append(f"{point[0] - previous[0]},{point[1] - previous[1]}")
                previous = point
            lines.append(" ".join(deltas))
    print("/**")
    print(" * Natural Earth 1:110m coastline (public domain, naturalearthdata.com), as shipped in Debian 12's")
    print(" * r-cran-rnaturalearthdata 0.1.0 (CC0), object `coastline110`; written by scripts/make-coastline.py.")
    print(" * One string per polyline: longitude,latitude pairs in hundredths of a degree, each the difference")
    print(" * from the previous pair (the first from 0,0).")
    print(" */")
    print("export const COASTLINE_110M: readonly string[] = [")
    for line in lines:
        print(f"  '{line}',")
    print("];")


if __name__ == "__main__":
    main()
