import { type Bbox, bboxesIntersect, type Geometry, geometryIntersectsBbox, geometryProblem } from '../../stac-model/geometry.js';
import type { ItemRecord } from '../../stac-model/items.js';
import { isObject, ownValue } from '../../stac-model/stac-types.js';

/**
 * CQL2 JSON (OGC 21-065) filters over Items: parsed and type-checked once (a mistake is a
 * `FilterError`, answered with 400), then evaluated per Item with SQL's three-valued logic (a
 * comparison with a missing value is unknown, and unknown does not match).
 *
 * Supported: `and`, `or`, `not`; `=`, `<>`, `<`, `<=`, `>`, `>=`; `isNull`; `like` (`%`, `_`, `\`
 * escapes; matched in O(pattern × text) time, patterns up to MAX_LIKE_PATTERN characters);
 * `between`; `in`; `s_intersects` with any GeoJSON geometry or `{"bbox": [...]}`;
 * every temporal function (`t_after` ... `t_starts`) on instants and intervals; the array
 * functions `a_equals`, `a_contains`, `a_containedBy`, `a_overlaps`; boolean literals.
 */
export class FilterError extends Error {
  override readonly name = 'FilterError';
}

type Type = 'string' | 'number' | 'boolean' | 'timestamp' | 'interval' | 'geometry' | 'array';

/** Instants and intervals in milliseconds since 1970; open ends are ±Infinity. */
class Instant {
  constructor(readonly ms: number) {}
}
class Interval {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}
}
class Spatial {
  constructor(
    readonly geometry?: Geometry,
    readonly bbox?: Bbox,
  ) {}
}
type Value = null | string | number | boolean | Instant | Interval | Spatial | Value[];

/** A checked expression: its static type and how to compute it for an Item. */
interface Expression {
  readonly type: Type | 'any';
  evaluate(record: ItemRecord): Value;
}

export type Filter = (record: ItemRecord) => boolean;

/** A queryable property of Items: its JSON Schema (for `/queryables`), its type and its value. */
interface Queryable {
  readonly type: Type;
  readonly schema: Record<string, unknown>;
  value(record: ItemRecord): Value;
}

const propertyOf = (record: ItemRecord, name: string): unknown => (isObject(record.item.properties) ? ownValue(record.item.properties, name) : undefined);
const stringProperty = (name: string) => (record: ItemRecord) => {
  const value = propertyOf(record, name);
  return typeof value === 'string' ? value : null;
};
const instantProperty = (name: 'start' | 'end') => (record: ItemRecord) => (record[name] !== undefined ? new Instant(record[name] as number) : null);

export const QUERYABLES: Readonly<Record<string, Queryable>> = {
  id: { type: 'string', schema: { title: 'Item id (the dataset id)', type: 'string' }, value: (r) => r.id },
  collection: { type: 'string', schema: { title: 'Collection id', type: 'string' }, value: (r) => r.collection },
  geometry: {
    type: 'geometry',
    schema: { title: 'Footprint (the bbox of the latitude/longitude coordinates)', $ref: 'https://geojson.org/schema/Geometry.json' },
    value: (r) => (r.bbox ? new Spatial(undefined, r.bbox) : null),
  },
  datetime: {
    type: 'interval',
    schema: {
      title: 'Temporal extent: the interval start_datetime..end_datetime in temporal functions, start_datetime in comparisons',
      type: 'string',
      format: 'date-time',
    },
    value: (r) => (r.start !== undefined && r.end !== undefined ? new Interval(r.start, r.end) : null),
  },
  start_datetime: { type: 'timestamp', schema: { title: 'First time step', type: 'string', format: 'date-time' }, value: instantProperty('start') },
  end_datetime: { type: 'timestamp', schema: { title: 'Last time step', type: 'string', format: 'date-time' }, value: instantProperty('end') },
  title: { type: 'string', schema: { title: 'Title', type: 'string' }, value: stringProperty('title') },
  description: { type: 'string', schema: { title: 'Description', type: 'string' }, value: stringProperty('description') },
  license: { type: 'string', schema: { title: 'License (SPDX id)', type: 'string' }, value: stringProperty('license') },
  keywords: {
    type: 'array',
    schema: { title: 'Keywords', type: 'array', items: { type: 'string' } },
    value: (r) => {
      const value = propertyOf(r, 'keywords');
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    },
  },
  variables: {
    type: 'array',
    schema: { title: 'Names of the variables and dimensions of the dataset (cube:variables and cube:dimensions keys)', type: 'array', items: { type: 'string' } },
    value: (r) => {
      const names: string[] = [];
      for (const key of ['cube:dimensions', 'cube:variables']) {
        const value = propertyOf(r, key);
        if (isObject(value)) names.push(...Object.keys(value));
      }
      return names;
    },
  },
};

/** Parses and checks a CQL2 JSON filter; throws FilterError on anything it cannot evaluate. */
export function parseFilter(json: unknown): Filter {
  const expression = parse(json);
  if (expression.type !== 'boolean' && expression.type !== 'any') throw new FilterError('a filter must be a boolean expression');
  return (record) => expression.evaluate(record) === true;
}

function parse(node: unknown): Expression {
  if (typeof node === 'boolean') return constant('boolean', node);
  if (typeof node === 'string') return constant('string', node);
  if (typeof node === 'number') {
    if (!Number.isFinite(node)) throw new FilterError('numbers must be finite');
    return constant('number', node);
  }
  if (node === null) throw new FilterError('null is not a CQL2 literal (use isNull)');
  if (Array.isArray(node)) {
    const items = node.map(parse);
    return { type: 'array', evaluate: (r) => items.map((item) => item.evaluate(r)) };
  }
  if (!isObject(node)) throw new FilterError(`unexpected ${typeof node}`);
  // Keys of request JSON are checked as own properties: `{"__proto__": ...}` is just an unknown key.
  const has = (key: string) => Object.hasOwn(node, key);
  if (has('op')) return parseOperation(node);
  if (has('property')) return parseProperty(node.property);
  if (has('timestamp')) return constant('timestamp', new Instant(parseInstant(node.timestamp, 'timestamp')));
  if (has('date')) {
    if (typeof node.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(node.date)) throw new FilterError(`"date" must be YYYY-MM-DD, got ${JSON.stringify(node.date)}`);
    return constant('timestamp', new Instant(parseInstant(`${node.date}T00:00:00Z`, 'date')));
  }
  if (has('interval')) return constant('interval', parseIntervalLiteral(node.interval));
  if (has('bbox')) return constant('geometry', new Spatial(undefined, parseBbox(node.bbox)));
  if (has('type')) {
    const problem = geometryProblem(node);
    if (problem) throw new FilterError(problem);
    return constant('geometry', new Spatial(node as unknown as Geometry));
  }
  throw new FilterError(`cannot read ${JSON.stringify(node).slice(0, 80)} as a CQL2 expression`);
}

function constant(type: Type, value: Value): Expression {
  return { type, evaluate: () => value };
}

function parseProperty(name: unknown): Expression {
  if (typeof name !== 'string') throw new FilterError('"property" must name a queryable');
  const key = name.startsWith('properties.') ? name.slice('properties.'.length) : name;
  const queryable = Object.hasOwn(QUERYABLES, key) ? QUERYABLES[key] : undefined;
  if (!queryable) throw new FilterError(`"${name}" is not a queryable; see /stac/queryables (${Object.keys(QUERYABLES).join(', ')})`);
  return { type: queryable.type, evaluate: (r) => queryable.value(r) };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds of an RFC 3339 date-time; throws FilterError (or the given error class) when it is not one. */
export function parseInstant(value: unknown, what: string): number {
  const ms = typeof value === 'string' && RFC3339.test(value) ? Date.parse(value.toUpperCase()) : NaN;
  if (!Number.isFinite(ms)) throw new FilterError(`${what} must be an RFC 3339 date-time, got ${JSON.stringify(value)}`);
  return ms;
}

function parseIntervalLiteral(value: unknown): Interval {
  if (!Array.isArray(value) || value.length !== 2) throw new FilterError('"interval" must be [start, end]');
  const bound = (v: unknown, open: number) => {
    if (v === '..') return open;
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return parseInstant(`${v}T00:00:00Z`, 'interval date');
    return parseInstant(v, 'interval bound');
  };
  const interval = new Interval(bound(value[0], -Infinity), bound(value[1], Infinity));
  if (interval.start > interval.end) throw new FilterError('interval start is after its end');
  return interval;
}

export function parseBbox(value: unknown): Bbox {
  if (!Array.isArray(value) || (value.length !== 4 && value.length !== 6) || !value.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    throw new FilterError('a bbox is 4 or 6 finite numbers');
  }
  const numbers = value as number[];
  const [west, south, east, north] = (numbers.length === 6 ? [numbers[0], numbers[1], numbers[3], numbers[4]] : numbers) as [number, number, number, number];
  if (south > north) throw new FilterError('bbox south is greater than north');
  if (south < -90 || north > 90 || west < -180 || west > 180 || east < -180 || east > 180) throw new FilterError('bbox outside -180..180, -90..90');
  return [west, south, east, north];
}

const COMPARISONS = new Set(['=', '<>', '<', '<=', '>', '>=']);
// Operator names come from requests: looked up in Maps, so `constructor` or `__proto__` is just an unknown operator.
const TEMPORAL: ReadonlyMap<string, (a: Interval, b: Interval) => boolean> = mapOf({
  t_after: (a, b) => a.start > b.end,
  t_before: (a, b) => a.end < b.start,
  t_contains: (a, b) => a.start < b.start && a.end > b.end,
  t_disjoint: (a, b) => a.end < b.start || a.start > b.end,
  t_during: (a, b) => a.start > b.start && a.end < b.end,
  t_equals: (a, b) => a.start === b.start && a.end === b.end,
  t_finishedby: (a, b) => a.start < b.start && a.end === b.end,
  t_finishes: (a, b) => a.start > b.start && a.end === b.end,
  t_intersects: (a, b) => a.start <= b.end && a.end >= b.start,
  t_meets: (a, b) => a.end === b.start,
  t_metby: (a, b) => a.start === b.end,
  t_overlappedby: (a, b) => a.start > b.start && a.start < b.end && a.end > b.end,
  t_overlaps: (a, b) => a.start < b.start && a.end > b.start && a.end < b.end,
  t_startedby: (a, b) => a.start === b.start && a.end > b.end,
  t_starts: (a, b) => a.start === b.start && a.end < b.end,
});
const ARRAYS: ReadonlyMap<string, (a: Value[], b: Value[]) => boolean> = mapOf({
  a_equals: (a, b) => a.length === b.length && a.every((v, i) => same(v, b[i] ?? null)),
  a_contains: (a, b) => b.every((v) => a.some((w) => same(v, w))),
  a_containedby: (a, b) => a.every((v) => b.some((w) => same(v, w))),
  a_overlaps: (a, b) => a.some((v) => b.some((w) => same(v, w))),
});

function mapOf<T>(entries: Record<string, T>): ReadonlyMap<string, T> {
  return new Map(Object.entries(entries));
}

function parseOperation(node: Record<string, unknown>): Expression {
  const op = typeof node.op === 'string' ? node.op : '';
  const argsNode = Object.hasOwn(node, 'args') ? node.args : undefined;
  const lower = op.toLowerCase();
  if (!Array.isArray(argsNode)) throw new FilterError(`"${op}" needs "args": a list`);
  const args = argsNode.map(parse);
  const arity = (n: number) => {
    if (args.length !== n) throw new FilterError(`"${op}" takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`);
  };
  if (lower === 'and' || lower === 'or') {
    if (args.length < 2) throw new FilterError(`"${op}" takes two or more arguments`);
    for (const arg of args) expectType(arg, ['boolean'], op);
    return {
      type: 'boolean',
      evaluate: (r) =>
        kleene(
          lower,
          args.map((a) => a.evaluate(r) as boolean | null),
        ),
    };
  }
  if (lower === 'not') {
    arity(1);
    const [arg] = args as [Expression];
    expectType(arg, ['boolean'], op);
    return {
      type: 'boolean',
      evaluate: (r) => {
        const v = arg.evaluate(r);
        return v === null ? null : !v;
      },
    };
  }
  if (lower === 'isnull') {
    arity(1);
    const [arg] = args as [Expression];
    return { type: 'boolean', evaluate: (r) => arg.evaluate(r) === null };
  }
  if (COMPARISONS.has(op)) {
    arity(2);
    const [a, b] = args.map(comparable) as [Expression, Expression];
    sameType(a, b, op);
    if (a.type === 'boolean' && op !== '=' && op !== '<>') throw new FilterError(`"${op}" does not order booleans`);
    if (a.type === 'geometry' || a.type === 'array') throw new FilterError(`"${op}" does not compare ${a.type} values (use s_intersects or a_equals)`);
    return { type: 'boolean', evaluate: (r) => compare(op, a.evaluate(r), b.evaluate(r)) };
  }
  if (lower === 'like') {
    arity(2);
    const [subject] = args as [Expression];
    expectType(subject, ['string'], op);
    const patternNode = (argsNode as unknown[])[1];
    if (typeof patternNode !== 'string') throw new FilterError('"like" takes a pattern string as its second argument');
    const matches = likeMatcher(patternNode);
    return {
      type: 'boolean',
      evaluate: (r) => {
        const v = subject.evaluate(r);
        return typeof v === 'string' ? matches(v) : null;
      },
    };
  }
  if (lower === 'between') {
    arity(3);
    const [subject, low, high] = args.map(comparable) as [Expression, Expression, Expression];
    expectType(subject, ['number', 'timestamp'], op);
    sameType(subject, low, op);
    sameType(subject, high, op);
    return {
      type: 'boolean',
      evaluate: (r) => {
        const v = subject.evaluate(r);
        return kleene('and', [compare('>=', v, low.evaluate(r)), compare('<=', v, high.evaluate(r))]);
      },
    };
  }
  if (lower === 'in') {
    arity(2);
    const subject = comparable(args[0] as Expression);
    const listNode = (argsNode as unknown[])[1];
    if (!Array.isArray(listNode)) throw new FilterError('"in" takes a list as its second argument');
    const list = listNode.map((item) => comparable(parse(item)));
    for (const item of list) sameType(subject, item, op);
    return {
      type: 'boolean',
      evaluate: (r) => {
        const v = subject.evaluate(r);
        if (v === null) return null;
        return list.some((item) => compare('=', v, item.evaluate(r)) === true);
      },
    };
  }
  if (lower === 's_intersects') {
    arity(2);
    const [a, b] = args as [Expression, Expression];
    expectType(a, ['geometry'], op);
    expectType(b, ['geometry'], op);
    const raw = argsNode as unknown[];
    if (!raw.some((arg) => isObject(arg) && Object.hasOwn(arg, 'property'))) throw new FilterError('s_intersects needs the geometry property as one argument');
    return { type: 'boolean', evaluate: (r) => spatialIntersects(a.evaluate(r), b.evaluate(r)) };
  }
  const temporal = TEMPORAL.get(lower);
  if (temporal) {
    arity(2);
    const [a, b] = args as [Expression, Expression];
    expectType(a, ['timestamp', 'interval'], op);
    expectType(b, ['timestamp', 'interval'], op);
    return {
      type: 'boolean',
      evaluate: (r) => {
        const x = asInterval(a.evaluate(r));
        const y = asInterval(b.evaluate(r));
        return x && y ? temporal(x, y) : null;
      },
    };
  }
  const array = ARRAYS.get(lower);
  if (array) {
    arity(2);
    const [a, b] = args as [Expression, Expression];
    expectType(a, ['array'], op);
    expectType(b, ['array'], op);
    return {
      type: 'boolean',
      evaluate: (r) => {
        const x = a.evaluate(r);
        const y = b.evaluate(r);
        return Array.isArray(x) && Array.isArray(y) ? array(x, y) : null;
      },
    };
  }
  throw new FilterError(`unsupported operator "${op}"`);
}

/** In comparisons the `datetime` interval stands for its start (as in pgstac). */
function comparable(expression: Expression): Expression {
  if (expression.type !== 'interval') return expression;
  return {
    type: 'timestamp',
    evaluate: (r) => {
      const v = expression.evaluate(r);
      return v instanceof Interval ? new Instant(v.start) : null;
    },
  };
}

function expectType(expression: Expression, types: readonly Type[], op: string): void {
  if (expression.type !== 'any' && !types.includes(expression.type)) throw new FilterError(`"${op}" does not take a ${expression.type} argument`);
}

function sameType(a: Expression, b: Expression, op: string): void {
  if (a.type !== b.type && a.type !== 'any' && b.type !== 'any') throw new FilterError(`"${op}" compares a ${a.type} with a ${b.type}`);
}

function kleene(op: 'and' | 'or', values: ReadonlyArray<boolean | null>): boolean | null {
  if (op === 'and') {
    if (values.includes(false)) return false;
    return values.includes(null) ? null : true;
  }
  if (values.includes(true)) return true;
  return values.includes(null) ? null : false;
}

function scalar(value: Value): string | number | boolean | null {
  if (value instanceof Instant) return value.ms;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return null;
}

function compare(op: string, left: Value, right: Value): boolean | null {
  const a = scalar(left);
  const b = scalar(right);
  if (a === null || b === null) return null;
  switch (op) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      return null;
  }
}

function same(a: Value, b: Value): boolean {
  const x = scalar(a);
  return x !== null && x === scalar(b);
}

function asInterval(value: Value): Interval | undefined {
  if (value instanceof Interval) return value;
  if (value instanceof Instant) return new Interval(value.ms, value.ms);
  return undefined;
}

function spatialIntersects(a: Value, b: Value): boolean | null {
  if (!(a instanceof Spatial) || !(b instanceof Spatial)) return null;
  if (a.bbox && b.bbox) return bboxesIntersect(a.bbox, b.bbox);
  if (a.bbox && b.geometry) return geometryIntersectsBbox(b.geometry, a.bbox);
  if (b.bbox && a.geometry) return geometryIntersectsBbox(a.geometry, b.bbox);
  return null;
}

/** Longest `like` pattern accepted, in characters (Unicode code points). */
export const MAX_LIKE_PATTERN = 1_000;

/** `%`: any run of characters (also none). */
const ANY_RUN = Symbol('%');
/** `_`: exactly one character. */
const ONE_CHAR = Symbol('_');
/** A pattern element: a wildcard, or one literal character (a code point, as a string). */
type LikeToken = typeof ANY_RUN | typeof ONE_CHAR | string;

/**
 * A CQL2 `like` pattern as a matcher of whole strings: `%` any run of characters, `_` one
 * character, `\` makes the next character literal (a `\` at the end is itself literal). Characters
 * are Unicode code points (a lone surrogate counts as one), as a regular expression with the `u`
 * flag has them; matching is case-sensitive.
 *
 * No regular expression: the matcher walks text and pattern once, and on a mismatch backtracks
 * only to the last `%` seen (the earlier ones can never help), so it takes at most
 * O(pattern × text) steps, whatever the pattern. Patterns longer than MAX_LIKE_PATTERN
 * characters are refused.
 */
export function likeMatcher(pattern: string): (text: string) => boolean {
  const chars = Array.from(pattern);
  if (chars.length > MAX_LIKE_PATTERN) {
    throw new FilterError(`a "like" pattern may have at most ${MAX_LIKE_PATTERN} characters, got ${chars.length}`);
  }
  const tokens: LikeToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '\\' && i + 1 < chars.length) tokens.push(chars[++i] as string);
    else if (ch === '%') {
      // A run of `%` means what one does.
      if (tokens[tokens.length - 1] !== ANY_RUN) tokens.push(ANY_RUN);
    } else if (ch === '_') tokens.push(ONE_CHAR);
    else tokens.push(ch);
  }
  return (text) => matchTokens(tokens, Array.from(text));
}

function matchTokens(tokens: readonly LikeToken[], text: readonly string[]): boolean {
  let t = 0;
  let p = 0;
  // The last `%` met, and where in the text its run currently ends.
  let anyAt = -1;
  let anyEnd = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (token === ANY_RUN) {
      anyAt = p++;
      anyEnd = t;
    } else if (token !== undefined && (token === ONE_CHAR || token === text[t])) {
      p++;
      t++;
    } else if (anyAt >= 0) {
      // Let the last `%` take one more character and retry what follows it.
      p = anyAt + 1;
      t = ++anyEnd;
    } else return false;
  }
  while (tokens[p] === ANY_RUN) p++;
  return p === tokens.length;
}

/** The queryables document (`/stac/queryables`): a JSON Schema of the filterable properties. */
export function queryablesSchema(id: string): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2019-09/schema',
    $id: id,
    type: 'object',
    title: 'Queryables of strato',
    properties: Object.fromEntries(Object.entries(QUERYABLES).map(([name, q]) => [name, q.schema])),
    additionalProperties: false,
  };
}
