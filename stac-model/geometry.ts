import { type LongitudeSpan, spanIntervals, spansIntersect } from './longitude.js';

/** GeoJSON geometries (RFC 7946), 2-D positions (a third ordinate is ignored). */
export type Position = readonly number[];
export type Geometry =
  | { readonly type: 'Point'; readonly coordinates: Position }
  | { readonly type: 'MultiPoint'; readonly coordinates: readonly Position[] }
  | { readonly type: 'LineString'; readonly coordinates: readonly Position[] }
  | { readonly type: 'MultiLineString'; readonly coordinates: ReadonlyArray<readonly Position[]> }
  | { readonly type: 'Polygon'; readonly coordinates: ReadonlyArray<readonly Position[]> }
  | { readonly type: 'MultiPolygon'; readonly coordinates: ReadonlyArray<ReadonlyArray<readonly Position[]>> }
  | { readonly type: 'GeometryCollection'; readonly geometries: readonly Geometry[] };

/** A STAC bbox: [west, south, east, north]; west > east crosses the antimeridian. */
export type Bbox = readonly [number, number, number, number];

/** The bbox as a GeoJSON polygon, or two polygons when it crosses the antimeridian (RFC 7946 §3.1.9). */
export function bboxGeometry([west, south, east, north]: Bbox): Geometry {
  const ring = (w: number, e: number): Position[][] => [
    [
      [w, south],
      [e, south],
      [e, north],
      [w, north],
      [w, south],
    ],
  ];
  if (west <= east) return { type: 'Polygon', coordinates: ring(west, east) };
  return { type: 'MultiPolygon', coordinates: [ring(west, 180), ring(-180, east)] };
}

export function bboxSpan(bbox: Bbox): LongitudeSpan {
  return { west: bbox[0], east: bbox[2] };
}

/** Two bboxes share a point (edges included, antimeridian-aware). */
export function bboxesIntersect(a: Bbox, b: Bbox): boolean {
  return a[1] <= b[3] && b[1] <= a[3] && spansIntersect(bboxSpan(a), bboxSpan(b));
}

interface Rectangle {
  readonly west: number;
  readonly south: number;
  readonly east: number;
  readonly north: number;
}

/** Whether a geometry shares a point with a bbox (planar in lon/lat, edges included). */
export function geometryIntersectsBbox(geometry: Geometry, bbox: Bbox): boolean {
  return spanIntervals(bboxSpan(bbox)).some(([west, east]) => intersectsRectangle(geometry, { west, south: bbox[1], east, north: bbox[3] }));
}

function intersectsRectangle(geometry: Geometry, rect: Rectangle): boolean {
  switch (geometry.type) {
    case 'Point':
      return inside(geometry.coordinates, rect);
    case 'MultiPoint':
      return geometry.coordinates.some((p) => inside(p, rect));
    case 'LineString':
      return lineIntersects(geometry.coordinates, rect);
    case 'MultiLineString':
      return geometry.coordinates.some((line) => lineIntersects(line, rect));
    case 'Polygon':
      return polygonIntersects(geometry.coordinates, rect);
    case 'MultiPolygon':
      return geometry.coordinates.some((polygon) => polygonIntersects(polygon, rect));
    case 'GeometryCollection':
      return geometry.geometries.some((g) => intersectsRectangle(g, rect));
  }
}

function inside(p: Position, r: Rectangle): boolean {
  const [x = NaN, y = NaN] = p;
  return x >= r.west && x <= r.east && y >= r.south && y <= r.north;
}

function corners(r: Rectangle): Position[] {
  return [
    [r.west, r.south],
    [r.east, r.south],
    [r.east, r.north],
    [r.west, r.north],
  ];
}

function lineIntersects(line: readonly Position[], r: Rectangle): boolean {
  if (line.some((p) => inside(p, r))) return true;
  const edges = rectangleEdges(r);
  for (let i = 0; i + 1 < line.length; i++) {
    const a = line[i] as Position;
    const b = line[i + 1] as Position;
    if (edges.some(([c, d]) => segmentsIntersect(a, b, c, d))) return true;
  }
  return false;
}

function rectangleEdges(r: Rectangle): Array<[Position, Position]> {
  const c = corners(r) as [Position, Position, Position, Position];
  return [
    [c[0], c[1]],
    [c[1], c[2]],
    [c[2], c[3]],
    [c[3], c[0]],
  ];
}

function polygonIntersects(rings: ReadonlyArray<readonly Position[]>, r: Rectangle): boolean {
  const [outer] = rings;
  if (!outer || outer.length === 0) return false;
  if (outer.some((p) => inside(p, r))) return true;
  if (rings.some((ring) => lineIntersects(ring, r))) return true;
  // No boundary meets the rectangle: either the rectangle lies inside the polygon, or apart from it.
  return corners(r).some((corner) => pointInPolygon(corner, rings));
}

function pointInPolygon(p: Position, rings: ReadonlyArray<readonly Position[]>): boolean {
  const [outer, ...holes] = rings;
  if (!outer || !pointInRing(p, outer)) return false;
  return !holes.some((hole) => pointInRing(p, hole));
}

function pointInRing([x = NaN, y = NaN]: Position, ring: readonly Position[]): boolean {
  let within = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi = NaN, yi = NaN] = ring[i] as Position;
    const [xj = NaN, yj = NaN] = ring[j] as Position;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) within = !within;
  }
  return within;
}

function orientation(a: Position, b: Position, c: Position): number {
  const value = ((b[0] ?? 0) - (a[0] ?? 0)) * ((c[1] ?? 0) - (a[1] ?? 0)) - ((b[1] ?? 0) - (a[1] ?? 0)) * ((c[0] ?? 0) - (a[0] ?? 0));
  return value === 0 ? 0 : value > 0 ? 1 : -1;
}

function onSegment(a: Position, b: Position, p: Position): boolean {
  const [ax = 0, ay = 0] = a;
  const [bx = 0, by = 0] = b;
  const [px = 0, py = 0] = p;
  return px >= Math.min(ax, bx) && px <= Math.max(ax, bx) && py >= Math.min(ay, by) && py <= Math.max(ay, by);
}

function segmentsIntersect(a: Position, b: Position, c: Position, d: Position): boolean {
  const o1 = orientation(a, b, c);
  const o2 = orientation(a, b, d);
  const o3 = orientation(c, d, a);
  const o4 = orientation(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (o1 === 0 && onSegment(a, b, c)) || (o2 === 0 && onSegment(a, b, d)) || (o3 === 0 && onSegment(c, d, a)) || (o4 === 0 && onSegment(c, d, b));
}

/** Why a value is not a GeoJSON geometry this server can use, or undefined when it is one. */
export function geometryProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a GeoJSON geometry must be an object';
  const { type, coordinates, geometries } = value as { type?: unknown; coordinates?: unknown; geometries?: unknown };
  const isPosition = (p: unknown) => Array.isArray(p) && p.length >= 2 && p.length <= 3 && p.every((n) => typeof n === 'number' && Number.isFinite(n));
  const isPositions = (ps: unknown, min: number) => Array.isArray(ps) && ps.length >= min && ps.every(isPosition);
  const isRing = (ring: unknown) => isPositions(ring, 4);
  const isPolygon = (rings: unknown) => Array.isArray(rings) && rings.length >= 1 && rings.every(isRing);
  switch (type) {
    case 'Point':
      return isPosition(coordinates) ? undefined : 'Point coordinates must be [lon, lat]';
    case 'MultiPoint':
      return isPositions(coordinates, 0) ? undefined : 'MultiPoint coordinates must be a list of positions';
    case 'LineString':
      return isPositions(coordinates, 2) ? undefined : 'LineString coordinates must be two or more positions';
    case 'MultiLineString':
      return Array.isArray(coordinates) && coordinates.every((line) => isPositions(line, 2)) ? undefined : 'MultiLineString coordinates must be lists of two or more positions';
    case 'Polygon':
      return isPolygon(coordinates) ? undefined : 'Polygon coordinates must be linear rings of four or more positions';
    case 'MultiPolygon':
      return Array.isArray(coordinates) && coordinates.every(isPolygon) ? undefined : 'MultiPolygon coordinates must be polygons';
    case 'GeometryCollection':
      if (!Array.isArray(geometries)) return 'GeometryCollection needs "geometries"';
      for (const member of geometries) {
        const problem = geometryProblem(member);
        if (problem) return problem;
      }
      return undefined;
    default:
      return `unknown GeoJSON geometry type ${JSON.stringify(type)}`;
  }
}
