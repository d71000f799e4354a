import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../server/http/json-depth.js';
import { type Bbox, type Geometry, geometryProblem } from '../../stac-model/geometry.js';
import { isObject } from '../../stac-model/stac-types.js';
import { type Filter, FilterError, parseBbox, parseFilter, parseInstant } from './cql2.js';
import { cql2TextToJson } from './cql2-text.js';

/** A search parameter the client got wrong: answered 400 with `{code, description}`. */
export class SearchError extends Error {
  override readonly name = 'SearchError';
  constructor(
    message: string,
    readonly code = 'InvalidParameterValue',
  ) {
    super(message);
  }
}

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 10_000;

export interface SortField {
  readonly field: string;
  readonly direction: 'asc' | 'desc';
}

export interface FieldsSelection {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** An Item Search (or a collection's items request), checked. */
export interface SearchRequest {
  readonly bbox?: Bbox;
  readonly intersects?: Geometry;
  /** Milliseconds; open ends are ±Infinity. */
  readonly datetime?: { readonly start: number; readonly end: number };
  readonly ids?: readonly string[];
  readonly collections?: readonly string[];
  readonly limit: number;
  readonly token?: string;
  readonly sortby: readonly SortField[];
  readonly fields?: FieldsSelection;
  readonly filter?: Filter;
}

/** The parameters as sent, for `next` links of POST searches. */
export type SearchBody = Record<string, unknown>;

/** A GET search's query parameters (STAC API Item Search, with the sort, fields and filter extensions). */
export function searchFromQuery(query: URLSearchParams): SearchRequest {
  const get = (name: string) => {
    const values = query.getAll(name);
    if (values.length > 1) throw new SearchError(`"${name}" given ${values.length} times`);
    return values[0];
  };
  const bbox = get('bbox');
  const intersects = get('intersects');
  const filter = get('filter');
  const fields = get('fields');
  const sortby = get('sortby');
  const limit = get('limit');
  const ids = get('ids');
  const collections = get('collections');
  const datetime = get('datetime');
  const token = get('token') ?? get('next');
  return build({
    bbox: bbox === undefined ? undefined : parseBboxParameter(bbox.split(',').map((part) => (part.trim() === '' ? NaN : Number(part)))),
    intersects: intersects === undefined ? undefined : parseJsonParameter(intersects, 'intersects'),
    datetime,
    ids: ids === undefined ? undefined : splitList(ids),
    collections: collections === undefined ? undefined : splitList(collections),
    limit: limit === undefined ? undefined : parseLimit(limit),
    token,
    sortby: sortby === undefined ? [] : splitList(sortby).map(parseSortText),
    fields: fields === undefined ? undefined : parseFieldsText(fields),
    filter: filter === undefined ? undefined : filterFromText(filter, get('filter-lang'), get('filter-crs')),
  });
}

/** A POST search's JSON body. */
export function searchFromBody(body: unknown): SearchRequest {
  if (!isObject(body)) throw new SearchError('the search body must be a JSON object');
  withinDepth(body, 'the search body');
  const token = body.token ?? body.next;
  if (token !== undefined && typeof token !== 'string') throw new SearchError('"token" must be a string');
  return build({
    bbox: body.bbox === undefined ? undefined : parseBboxParameter(body.bbox),
    intersects: body.intersects,
    datetime: body.datetime === undefined ? undefined : stringParameter(body.datetime, 'datetime'),
    ids: body.ids === undefined ? undefined : stringList(body.ids, 'ids'),
    collections: body.collections === undefined ? undefined : stringList(body.collections, 'collections'),
    limit: body.limit === undefined ? undefined : parseLimit(body.limit),
    token: token as string | undefined,
    sortby: body.sortby === undefined ? [] : parseSortBody(body.sortby),
    fields: body.fields === undefined ? undefined : parseFieldsBody(body.fields),
    filter: body.filter === undefined ? undefined : filterFromJson(body.filter, body['filter-lang'], body['filter-crs']),
  });
}

interface RawRequest {
  bbox: Bbox | undefined;
  intersects: unknown;
  datetime: string | undefined;
  ids: string[] | undefined;
  collections: string[] | undefined;
  limit: number | undefined;
  token: string | undefined;
  sortby: SortField[];
  fields: FieldsSelection | undefined;
  filter: Filter | undefined;
}

function build(raw: RawRequest): SearchRequest {
  if (raw.bbox && raw.intersects !== undefined) throw new SearchError('"bbox" and "intersects" cannot both be given');
  let intersects: Geometry | undefined;
  if (raw.intersects !== undefined) {
    const problem = geometryProblem(raw.intersects);
    if (problem) throw new SearchError(`"intersects": ${problem}`);
    intersects = raw.intersects as Geometry;
  }
  return {
    ...(raw.bbox ? { bbox: raw.bbox } : {}),
    ...(intersects ? { intersects } : {}),
    ...(raw.datetime !== undefined ? { datetime: parseDatetime(raw.datetime) } : {}),
    ...(raw.ids ? { ids: raw.ids } : {}),
    ...(raw.collections ? { collections: raw.collections } : {}),
    limit: raw.limit ?? DEFAULT_LIMIT,
    ...(raw.token !== undefined && raw.token !== '' ? { token: raw.token } : {}),
    sortby: raw.sortby,
    ...(raw.fields ? { fields: raw.fields } : {}),
    ...(raw.filter ? { filter: raw.filter } : {}),
  };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function stringParameter(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new SearchError(`"${name}" must be a string`);
  return value;
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new SearchError(`"${name}" must be a list of strings`);
  return value as string[];
}

function parseJsonParameter(text: string, name: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new SearchError(`"${name}" is not valid JSON`);
  }
  return withinDepth(value, `"${name}"`);
}

/** Refuses JSON nested deeper than any real search, before recursive checks walk it. */
function withinDepth<T>(value: T, what: string): T {
  if (jsonDepthExceeds(value, MAX_JSON_DEPTH)) throw new SearchError(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

function parseBboxParameter(value: unknown): Bbox {
  try {
    return parseBbox(value);
  } catch (error) {
    throw new SearchError(`"bbox": ${(error as Error).message}`);
  }
}

function parseLimit(value: unknown): number {
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isInteger(number) || number < 1) throw new SearchError(`"limit" must be a positive integer, got ${JSON.stringify(value)}`);
  return Math.min(number, MAX_LIMIT);
}

/**
 * `datetime`: an RFC 3339 instant, or an interval "start/end" where either end may be open
 * ("..", or empty). An instant matches Items whose temporal extent contains it.
 */
export function parseDatetime(text: string): { start: number; end: number } {
  const instant = (value: string, open: number): number => {
    const trimmed = value.trim();
    if (trimmed === '..' || trimmed === '') return open;
    try {
      return parseInstant(trimmed, '"datetime"');
    } catch (error) {
      throw new SearchError((error as Error).message);
    }
  };
  const parts = text.split('/');
  if (parts.length === 1) {
    if (text.trim() === '' || text.trim() === '..') throw new SearchError('"datetime" must be an instant or an interval');
    const at = instant(text, NaN);
    return { start: at, end: at };
  }
  if (parts.length !== 2) throw new SearchError('"datetime" interval must be "start/end"');
  const start = instant(parts[0] as string, -Infinity);
  const end = instant(parts[1] as string, Infinity);
  if (start === -Infinity && end === Infinity) throw new SearchError('"datetime" interval must have at least one closed end');
  if (start > end) throw new SearchError('"datetime" interval starts after it ends');
  return { start, end };
}

const SORT_FIELD = /^[A-Za-z_][\w:.-]*$/;

function parseSortText(part: string): SortField {
  // A '+' sent unencoded in a query string arrives as a space, trimmed away already.
  const direction = part.startsWith('-') ? 'desc' : 'asc';
  const field = part.replace(/^[+-]/, '');
  if (!SORT_FIELD.test(field)) throw new SearchError(`"sortby": cannot sort by "${part}"`);
  return { field, direction };
}

function parseSortBody(value: unknown): SortField[] {
  if (!Array.isArray(value)) throw new SearchError('"sortby" must be a list of {field, direction}');
  return value.map((entry) => {
    if (!isObject(entry) || typeof entry.field !== 'string' || !SORT_FIELD.test(entry.field)) throw new SearchError('"sortby" entries need a "field"');
    const direction = entry.direction ?? 'asc';
    if (direction !== 'asc' && direction !== 'desc') throw new SearchError(`"sortby" direction must be "asc" or "desc", got ${JSON.stringify(direction)}`);
    return { field: entry.field, direction };
  });
}

function parseFieldsText(text: string): FieldsSelection {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const part of splitList(text)) {
    if (part.startsWith('-')) exclude.push(part.slice(1));
    else include.push(part.replace(/^\+/, ''));
  }
  return { include, exclude };
}

function parseFieldsBody(value: unknown): FieldsSelection {
  if (!isObject(value)) throw new SearchError('"fields" must be {include: [...], exclude: [...]}');
  const list = (v: unknown, name: string) => (v === undefined || v === null ? [] : stringList(v, `fields.${name}`));
  return { include: list(value.include, 'include'), exclude: list(value.exclude, 'exclude') };
}

/**
 * A GET `filter`: CQL2 text by default (the filter extension's default for GET), CQL2 JSON when
 * `filter-lang=cql2-json` or, without `filter-lang`, when the text is a JSON object.
 */
function filterFromText(text: string, lang: string | undefined, crs: string | undefined): Filter {
  const json = lang === 'cql2-json' || (lang === undefined && text.trimStart().startsWith('{'));
  if (!json) return filterFromJson(text, lang ?? 'cql2-text', crs);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SearchError('"filter" is not valid JSON (filter-lang=cql2-json); CQL2 text needs filter-lang=cql2-text');
  }
  return filterFromJson(withinDepth(value, '"filter"'), 'cql2-json', crs);
}

const CRS84 = new Set(['http://www.opengis.net/def/crs/OGC/1.3/CRS84', 'https://www.opengis.net/def/crs/OGC/1.3/CRS84']);

const FILTER_LANGS = new Set(['cql2-json', 'cql2-text']);

/** A filter in either encoding: `cql2-text` is a string, `cql2-json` a JSON value (a string filter without `filter-lang` is read as text). */
function filterFromJson(filter: unknown, lang: unknown, crs: unknown): Filter {
  if (lang !== undefined && (typeof lang !== 'string' || !FILTER_LANGS.has(lang))) {
    throw new SearchError(`"filter-lang" ${JSON.stringify(lang)} is not supported; use cql2-json or cql2-text`);
  }
  if (crs !== undefined && (typeof crs !== 'string' || !CRS84.has(crs))) throw new SearchError('"filter-crs" must be CRS84');
  const text = lang === 'cql2-text' || (lang === undefined && typeof filter === 'string');
  if (text && typeof filter !== 'string') throw new SearchError('"filter" must be a string with filter-lang cql2-text');
  try {
    return parseFilter(text ? cql2TextToJson(filter as string) : filter);
  } catch (error) {
    if (error instanceof FilterError) throw new SearchError(`"filter": ${error.message}`);
    throw error;
  }
}
