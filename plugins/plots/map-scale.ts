import { COASTLINE_110M } from './coastline-110m.js';

/** Where coordinate values fall along one side of the map, in pixels from its edge. */
export interface AxisScale {
  /** The coordinate range the side covers (cell edges, half a spacing beyond the outer centres). */
  readonly lo: number;
  readonly hi: number;
  /** The pixel offset of a value, or undefined outside [lo, hi]. */
  toOffset(value: number): number | undefined;
}

/**
 * The scale of a side of `length` pixels whose cells have the coordinates `centers` (left to
 * right, or top to bottom): linear between cell centres, so irregular grids place values right
 * too. Undefined when the coordinate is not finite and strictly monotonic, or has one cell.
 */
export function axisScale(centers: ArrayLike<number>, length: number): AxisScale | undefined {
  const n = centers.length;
  if (n < 2 || !(length > 0)) return undefined;
  const first = centers[0] as number;
  const last = centers[n - 1] as number;
  const ascending = last > first;
  for (let i = 0; i < n; i++) {
    const v = centers[i] as number;
    if (!Number.isFinite(v)) return undefined;
    if (i > 0 && (ascending ? !(v > (centers[i - 1] as number)) : !(v < (centers[i - 1] as number)))) return undefined;
  }
  const cell = length / n;
  const values = new Float64Array(n + 2);
  const offsets = new Float64Array(n + 2);
  values[0] = first - ((centers[1] as number) - first) / 2;
  for (let i = 0; i < n; i++) {
    values[i + 1] = centers[i] as number;
    offsets[i + 1] = (i + 0.5) * cell;
  }
  values[n + 1] = last + (last - (centers[n - 2] as number)) / 2;
  offsets[n + 1] = length;
  const lo = Math.min(values[0] as number, values[n + 1] as number);
  const hi = Math.max(values[0] as number, values[n + 1] as number);
  return {
    lo,
    hi,
    toOffset(value: number): number | undefined {
      if (!(value >= lo && value <= hi)) return undefined;
      // the last k with values[k] on the near side of value (binary search, either direction)
      let low = 0;
      let high = n + 1;
      while (high - low > 1) {
        const middle = (low + high) >> 1;
        if (ascending ? (values[middle] as number) <= value : (values[middle] as number) >= value) low = middle;
        else high = middle;
      }
      const a = values[low] as number;
      const b = values[high] as number;
      return (offsets[low] as number) + ((value - a) / (b - a)) * ((offsets[high] as number) - (offsets[low] as number));
    },
  };
}

let decoded: Float64Array[] | undefined;

/** Natural Earth's 1:110m coastline: polylines of interleaved longitude, latitude (degrees). */
export function coastlines(): readonly Float64Array[] {
  decoded ??= COASTLINE_110M.map((line) => {
    const pairs = line.split(' ');
    const out = new Float64Array(pairs.length * 2);
    let lon = 0;
    let lat = 0;
    pairs.forEach((pair, i) => {
      const comma = pair.indexOf(',');
      lon += Number(pair.slice(0, comma));
      lat += Number(pair.slice(comma + 1));
      out[2 * i] = lon / 100;
      out[2 * i + 1] = lat / 100;
    });
    return out;
  });
  return decoded;
}

/**
 * The coastline as pixel segments [x0, y0, x1, y1] inside a map of `width` × `height` pixels.
 * Longitudes are shifted by ±360° into the grid's range (0–360 grids); a polyline is broken where
 * it leaves the map or jumps across it (the dateline of the grid).
 */
export function coastlineSegments(x: AxisScale, y: AxisScale, width: number): number[][] {
  const segments: number[][] = [];
  for (const line of coastlines()) {
    let previous: [number, number] | undefined;
    for (let i = 0; i < line.length; i += 2) {
      const lon = line[i] as number;
      const px = x.toOffset(lon) ?? x.toOffset(lon + 360) ?? x.toOffset(lon - 360);
      const py = y.toOffset(line[i + 1] as number);
      if (px === undefined || py === undefined) {
        previous = undefined;
        continue;
      }
      if (previous && Math.abs(px - previous[0]) < width / 2) segments.push([previous[0], previous[1], px, py]);
      previous = [px, py];
    }
  }
  return segments;
}
