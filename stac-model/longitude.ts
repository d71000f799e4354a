/**
 * Longitudes on the circle: the smallest west→east arc covering a set of longitudes or of
 * bounding boxes, written in -180..180 as GeoJSON wants it (west > east when the arc crosses the
 * antimeridian). Longitudes may come in any convention (0..360, -180..180, beyond).
 */

/** West and east edges in [-180, 180]; west > east crosses the antimeridian; -180/180 is the globe. */
export interface LongitudeSpan {
  readonly west: number;
  readonly east: number;
}

export const GLOBE: LongitudeSpan = { west: -180, east: 180 };

/** A longitude in [0, 360). */
function wrap360(lon: number): number {
  const wrapped = lon % 360;
  return wrapped < 0 ? wrapped + 360 : wrapped === 360 ? 0 : wrapped;
}

/** [0, 360) frame position (0 = 180°W) → west edge in [-180, 180). */
function westOf(position: number): number {
  return wrap360(position) - 180;
}

/** [0, 360) frame position → east edge in (-180, 180]. */
function eastOf(position: number): number {
  const wrapped = wrap360(position);
  return (wrapped === 0 ? 360 : wrapped) - 180;
}

/**
 * The span of the longitudes of grid points. Points spread evenly around the whole circle (the
 * largest gap between neighbours at most twice the median gap, with three or more distinct
 * longitudes) cover the globe; otherwise the span is the circle minus the largest gap between
 * neighbouring longitudes, which handles 0..360 grids, regional grids across Greenwich written in
 * 0..360 and grids across the antimeridian. NaN and infinities are ignored; undefined when none is left.
 */
export function longitudeSpan(values: Iterable<number>): LongitudeSpan | undefined {
  const positions: number[] = [];
  for (const lon of values) if (Number.isFinite(lon)) positions.push(wrap360(lon + 180));
  if (positions.length === 0) return undefined;
  const sorted = Float64Array.from(positions).sort();
  const unique: number[] = [];
  for (const position of sorted) if (unique.length === 0 || position !== unique[unique.length - 1]) unique.push(position);
  if (unique.length === 1) {
    const lon = westOf(unique[0] as number);
    return { west: lon, east: lon };
  }
  // gaps[i]: from unique[i] to the next one clockwise (the last wraps to the first).
  const gaps = unique.map((position, i) => (i + 1 < unique.length ? (unique[i + 1] as number) : (unique[0] as number) + 360) - position);
  let largest = 0;
  for (let i = 1; i < gaps.length; i++) if ((gaps[i] as number) > (gaps[largest] as number)) largest = i;
  const largestGap = gaps[largest] as number;
  if (unique.length >= 3) {
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] as number;
    if (largestGap <= 2 * median) return GLOBE;
  }
  const start = largest + 1 < unique.length ? (unique[largest + 1] as number) : (unique[0] as number);
  const end = unique[largest] as number;
  return { west: westOf(start), east: eastOf(end) };
}

/** An arc in the [0, 360) frame: start and length (360 = the whole circle). */
interface Arc {
  readonly start: number;
  readonly length: number;
}

function arcOf(span: LongitudeSpan): Arc {
  if (span.west <= -180 && span.east >= 180) return { start: 0, length: 360 };
  const start = wrap360(span.west + 180);
  let length = wrap360(span.east - span.west);
  if (length === 0 && span.east !== span.west) length = 360;
  return { start, length };
}

/** The smallest span covering every given span (collection extents). */
export function unionOfSpans(spans: readonly LongitudeSpan[]): LongitudeSpan | undefined {
  if (spans.length === 0) return undefined;
  const arcs = spans.map(arcOf);
  if (arcs.some((arc) => arc.length >= 360)) return GLOBE;
  const covered = (point: number) => arcs.some((arc) => wrap360(point - arc.start) < arc.length);
  let best: { from: number; gap: number } | undefined;
  for (const arc of arcs) {
    const end = wrap360(arc.start + arc.length);
    if (covered(end)) continue;
    let gap = 360;
    for (const other of arcs) {
      const distance = wrap360(other.start - end);
      if (distance > 0 && distance < gap) gap = distance;
    }
    if (gap === 360) gap = 360 - arc.length;
    if (!best || gap > best.gap) best = { from: end, gap };
  }
  if (!best || best.gap <= 0) return GLOBE;
  return { west: westOf(best.from + best.gap), east: eastOf(best.from) };
}

/** Whether two spans share a longitude (edges included). */
export function spansIntersect(a: LongitudeSpan, b: LongitudeSpan): boolean {
  const first = arcOf(a);
  const second = arcOf(b);
  if (first.length >= 360 || second.length >= 360) return true;
  return wrap360(second.start - first.start) <= first.length || wrap360(first.start - second.start) <= second.length;
}

/** The span as one or two plain intervals west ≤ east (split at the antimeridian). */
export function spanIntervals(span: LongitudeSpan): Array<[number, number]> {
  return span.west <= span.east
    ? [[span.west, span.east]]
    : [
        [span.west, 180],
        [-180, span.east],
      ];
}
