import { bboxesIntersect, geometryIntersectsBbox } from '../../stac-model/geometry.js';
import type { ItemRecord } from '../../stac-model/items.js';
import { isObject, ownValue } from '../../stac-model/stac-types.js';
import { SearchError, type SearchRequest, type SortField } from './search-request.js';

/** One page of matches. */
export interface SearchPage {
  readonly items: readonly ItemRecord[];
  readonly numberMatched: number;
  /** Token of the next page, when there is one. */
  readonly next?: string;
}

type SortValue = string | number | boolean | null;

/**
 * Runs a search over Items: filters, sorts (the requested fields, then id, so the order is total
 * and stable) and pages. A page token holds the sort key of the last Item returned, and the next
 * page starts after that key: paging through everything returns every match exactly once, even
 * when Items are added or removed in between.
 */
export function runSearch(records: readonly ItemRecord[], request: SearchRequest): SearchPage {
  const matches = records.filter((record) => matches_(record, request));
  const order = [...request.sortby, { field: 'id', direction: 'asc' } as const];
  const keyed = matches.map((record) => ({ record, key: order.map((sort) => sortValue(record, sort.field)) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key, order));
  let start = 0;
  if (request.token) {
    const after = decodeToken(request.token, order.length);
    start = keyed.findIndex((entry) => compareKeys(entry.key, after, order) > 0);
    if (start < 0) start = keyed.length;
  }
  const page = keyed.slice(start, start + request.limit);
  const last = page[page.length - 1];
  const hasMore = start + page.length < keyed.length;
  return {
    items: page.map((entry) => entry.record),
    numberMatched: keyed.length,
    ...(hasMore && last ? { next: encodeToken(last.key) } : {}),
  };
}

function matches_(record: ItemRecord, request: SearchRequest): boolean {
  if (request.ids && !request.ids.includes(record.id)) return false;
  if (request.collections && !request.collections.includes(record.collection)) return false;
  if (request.bbox && !(record.bbox && bboxesIntersect(record.bbox, request.bbox))) return false;
  if (request.intersects && !(record.bbox && geometryIntersectsBbox(request.intersects, record.bbox))) return false;
  if (request.datetime) {
    if (record.start === undefined || record.end === undefined) return false;
    if (record.start > request.datetime.end || record.end < request.datetime.start) return false;
  }
  if (request.filter && !request.filter(record)) return false;
  return true;
}

/** The value an Item sorts by: `id`, `collection`, or a property (`properties.x` or `x`); time as milliseconds. */
function sortValue(record: ItemRecord, field: string): SortValue {
  if (field === 'id') return record.id;
  if (field === 'collection') return record.collection;
  const name = field.startsWith('properties.') ? field.slice('properties.'.length) : field;
  if (name === 'datetime' || name === 'start_datetime') return record.start ?? null;
  if (name === 'end_datetime') return record.end ?? null;
  // The name comes from the request: only the Item's own properties count.
  const value = isObject(record.item.properties) ? ownValue(record.item.properties, name) : undefined;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
}

/** Missing values sort last in either direction. */
function compareKeys(a: readonly SortValue[], b: readonly SortValue[], order: readonly SortField[]): number {
  for (let i = 0; i < order.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    const ascending = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x < typeof y ? -1 : 1;
    if (ascending !== 0) return order[i]?.direction === 'desc' ? -ascending : ascending;
  }
  return 0;
}

function encodeToken(key: readonly SortValue[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeToken(token: string, length: number): SortValue[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new SearchError('"token" is not a page token of this search');
  }
  const valid = Array.isArray(key) && key.length === length && key.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
  if (!valid) throw new SearchError('"token" is not a page token of this search');
  return key as SortValue[];
}
