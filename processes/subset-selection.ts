import type { CalendarDate } from '../cf/calendar.js';
import { badRequest } from '../server/http/problem.js';

/** `[west, south, east, north]` in degrees. */
export interface Bbox {
  readonly west: number;
  readonly south: number;
  readonly east: number;
  readonly north: number;
}

export function parseBbox(value: unknown): Bbox {
  const list = Array.isArray(value)
    ? value
    : value && typeof value === 'object' && Array.isArray((value as { bbox?: unknown }).bbox)
      ? (value as { bbox: unknown[] }).bbox
      : undefined;
  if (list?.length !== 4 || !list.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw badRequest('"bbox" must be [west, south, east, north]: four finite numbers');
  }
  const [west, south, east, north] = list as [number, number, number, number];
  if (south > north) throw badRequest('"bbox": south is above north');
  if (south < -90 || north > 90) throw badRequest('"bbox": latitudes lie within -90..90');
  if (west < -180 || east > 360 || west > 360 || east < -180) throw badRequest('"bbox": longitudes lie within -180..360');
  return { west, south, east, north };
}

/**
 * The longitude interval in a dataset's convention (0..360 when its longitudes go past 180,
 * else -180..180). Undefined when the box crosses the dataset's seam (two intervals).
 */
export function longitudeInterval(bbox: Bbox, datasetMax: number): readonly [number, number] | undefined {
  let { west, east } = bbox;
  if (east - west >= 360) return [-Infinity, Infinity];
  if (datasetMax > 180) {
    if (west < 0) west += 360;
    if (east < 0) east += 360;
  } else {
    if (west > 180) west -= 360;
    if (east > 180) east -= 360;
  }
  return west <= east ? [west, east] : undefined;
}

/** One end of an RFC 3339 interval: undefined = open. */
export interface TimeInterval {
  readonly start?: CalendarDate;
  readonly end?: CalendarDate;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?(Z|z|\+00:00|-00:00)?$/;

function instant(text: string, which: string): CalendarDate | undefined {
  if (text === '..' || text === '') return undefined;
  const match = INSTANT.exec(text);
  if (!match) throw badRequest(`"datetime": the ${which} "${text.slice(0, 40)}" is no RFC 3339 date-time in UTC (YYYY-MM-DDThh:mm:ssZ, or ..)`);
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? 0)) as [number, number, number, number, number, number];
  const fraction = match[7] ? Number(`0.${match[7]}`) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) throw badRequest(`"datetime": the ${which} is out of range`);
  return { year, month, day, hour, minute, second: second + fraction };
}

/** `start/end` (either may be `..`), or one instant. */
export function parseDatetime(value: unknown): TimeInterval {
  if (typeof value !== 'string' || value.length > 100) throw badRequest('"datetime" must be an RFC 3339 interval "start/end" (open ends "..")');
  const parts = value.split('/');
  if (parts.length > 2) throw badRequest('"datetime" has more than one "/"');
  const start = instant(parts[0] as string, 'start');
  const end = parts.length === 2 ? instant(parts[1] as string, 'end') : start;
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

/**
 * The index range `[start, stop)` of a coordinate whose values lie within `[low, high]`
 * (monotonic coordinates: the matches are contiguous). Undefined when none does.
 */
export function indexRange(values: ArrayLike<number>, low: number, high: number): readonly [number, number] | undefined {
  let first = -1;
  let last = -1;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i] as number;
    if (v >= low && v <= high) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? undefined : [first, last + 1];
}
