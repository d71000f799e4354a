import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datasetSchema } from '../../catalog/dataset-schema.js';
import { timeCoder } from '../../cf/time-units.js';
import type { DatasetValues } from '../../kerchunk/array-values.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { buildCollections } from '../../stac-model/collections.js';
import { describeDatacube } from '../../stac-model/datacube.js';
import type { ItemRecord } from '../../stac-model/items.js';
import { cloneJson, type JsonObject } from '../../stac-model/stac-types.js';
import { FilterError, likeMatcher, MAX_LIKE_PATTERN, parseFilter } from './cql2.js';
import { selectFields } from './fields.js';
import { runSearch } from './search.js';
import { SearchError, searchFromBody, searchFromQuery } from './search-request.js';

/** Object.prototype as it is before each test: every test must leave it exactly so. */
let snapshot: Map<string | symbol, PropertyDescriptor | undefined>;
const describeObjectPrototype = () => new Map(Reflect.ownKeys(Object.prototype).map((key) => [key, Object.getOwnPropertyDescriptor(Object.prototype, key)]));
beforeEach(() => {
  snapshot = describeObjectPrototype();
});
afterEach(() => {
  expect(describeObjectPrototype()).toEqual(snapshot);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(typeof ({} as { hasOwnProperty: unknown }).hasOwnProperty).toBe('function');
});

/** An Item as the server holds it, with variables named like Object.prototype members (own keys, as JSON.parse makes them). */
function item(): JsonObject {
  return JSON.parse(
    JSON.stringify({
      type: 'Feature',
      id: 'names',
      collection: 'strato',
      properties: { datetime: '2000-01-01T00:00:00Z', title: 'names' },
      links: [],
      assets: {},
    }).replace(
      '"title":"names"',
      '"title":"names","cube:variables":{"__proto__":{"type":"data","description":"proto variable"},"constructor":{"type":"data","description":"constructor variable"},"tas":{"type":"data"}}',
    ),
  ) as JsonObject;
}

function record(id: string, properties: JsonObject = {}): ItemRecord {
  return { id, collection: 'strato', item: { type: 'Feature', id, properties: { datetime: '2000-01-01T00:00:00Z', ...properties } }, problems: [] };
}

const variablesOf = (document: JsonObject) => (document.properties as JsonObject)['cube:variables'] as JsonObject;

describe('F1: request names never reach Object.prototype', () => {
  it('fields exclude through __proto__ and constructor deletes nothing outside the copy', () => {
    for (const exclude of [['__proto__.hasOwnProperty'], ['properties.__proto__.toString'], ['constructor.prototype.hasOwnProperty'], ['__proto__']]) {
      const selected = selectFields(item(), { include: [], exclude });
      expect(selected.id).toBe('names');
    }
  });

  it('fields include of prototype names selects nothing (and never clones a function)', () => {
    const selected = selectFields(item(), { include: ['constructor', '__proto__', 'prototype', '__proto__.hasOwnProperty', 'properties.constructor.name'], exclude: [] });
    for (const name of ['constructor', '__proto__', 'prototype']) expect(Object.hasOwn(selected, name)).toBe(false);
    expect(Object.hasOwn(selected.properties as JsonObject, 'constructor')).toBe(false);
    expect(Object.getPrototypeOf(selected)).toBe(Object.prototype);
  });

  it('fields reach a variable named __proto__ as an own key', () => {
    const selected = selectFields(item(), { include: ['properties.cube:variables.__proto__.description'], exclude: [] });
    const variables = variablesOf(selected);
    expect(Object.keys(variables)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(variables)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(variables))).toEqual(JSON.parse('{"__proto__":{"description":"proto variable"}}'));
    expect(JSON.stringify(variables)).toBe('{"__proto__":{"description":"proto variable"}}');
  });

  it('fields copy whole objects with their __proto__ keys, and exclude removes only that key', () => {
    const whole = selectFields(item(), { include: ['properties.cube:variables'], exclude: [] });
    expect(Object.keys(variablesOf(whole))).toEqual(['__proto__', 'constructor', 'tas']);
    const source = item();
    const less = selectFields(source, { include: ['properties.cube:variables'], exclude: ['properties.cube:variables.__proto__', 'properties.cube:variables.constructor'] });
    expect(Object.keys(variablesOf(less))).toEqual(['tas']);
    // The Item itself is untouched.
    expect(Object.keys(variablesOf(source))).toEqual(['__proto__', 'constructor', 'tas']);
  });

  it('cloneJson keeps __proto__ keys as own data properties', () => {
    const copy = cloneJson(JSON.parse('{"a":[{"__proto__":{"x":1}}]}') as JsonValue) as { a: JsonObject[] };
    const inner = copy.a[0] as JsonObject;
    expect(Object.hasOwn(inner, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect(JSON.stringify(copy)).toBe('{"a":[{"__proto__":{"x":1}}]}');
  });

  it('CQL2 operator names of Object.prototype are unknown operators', () => {
    for (const op of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const args = [{ property: 'datetime' }, { property: 'datetime' }];
      expect(() => parseFilter({ op, args }), op).toThrow(FilterError);
      expect(() => parseFilter({ op, args: [{ property: 'keywords' }, ['x']] }), op).toThrow(FilterError);
    }
  });

  it('CQL2 property names of Object.prototype are not queryables', () => {
    for (const property of ['__proto__', 'constructor', 'prototype', 'properties.__proto__', 'hasOwnProperty']) {
      expect(() => parseFilter({ op: 'isNull', args: [{ property }] }), property).toThrow(FilterError);
    }
  });

  it('CQL2 nodes with a "__proto__" key: an unknown key, never a prototype', () => {
    const node = JSON.parse('{"__proto__": {"op": "="}, "op": "isNull", "args": [{"__proto__": {"property": "x"}, "property": "title"}]}') as unknown;
    const filter = parseFilter(node);
    expect(filter(record('a'))).toBe(true);
    expect(() => parseFilter(JSON.parse('{"__proto__": {"op": "isNull", "args": [{"property": "title"}]}}'))).toThrow(FilterError);
  });

  it('the variables queryable lists variables named __proto__ and constructor', () => {
    const filter = parseFilter({ op: 'a_contains', args: [{ property: 'variables' }, ['__proto__', 'constructor']] });
    expect(filter({ id: 'names', collection: 'strato', item: item(), problems: [] })).toBe(true);
    expect(filter(record('other'))).toBe(false);
  });

  it('sortby a prototype name sorts by a missing property (then id)', () => {
    const records = [record('b', { title: 'x' }), record('a', { title: 'y' })];
    for (const sortby of ['__proto__', '-constructor', 'prototype', 'properties.__proto__', 'hasOwnProperty', 'properties.toString']) {
      const page = runSearch(records, searchFromQuery(new URLSearchParams({ sortby })));
      expect(
        page.items.map((r) => r.id),
        sortby,
      ).toEqual(['a', 'b']);
    }
    const own = [record('b', JSON.parse('{"constructor": 1}') as JsonObject), record('a', JSON.parse('{"constructor": 2}') as JsonObject)];
    expect(runSearch(own, searchFromQuery(new URLSearchParams({ sortby: 'constructor' }))).items.map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('POST bodies with __proto__ keys are read as they are', () => {
    const request = searchFromBody(JSON.parse('{"__proto__": {"limit": 1}, "fields": {"__proto__": {"include": ["x"]}, "exclude": ["__proto__.hasOwnProperty"]}}'));
    expect(request.limit).toBe(10);
    expect(request.fields).toEqual({ include: [], exclude: ['__proto__.hasOwnProperty'] });
    expect(() => searchFromBody(JSON.parse('{"__proto__": []}'))).not.toThrow();
    expect(() => searchFromBody(JSON.parse('{"filter": {"op": "constructor", "args": []}}'))).toThrow(SearchError);
  });
});

describe('F1: names from files are plain names', () => {
  /** A schema as read from a kerchunk table: JSON texts parsed, so attribute keys are own keys. */
  function schema() {
    const parse = (text: string) => JSON.parse(text) as JsonValue;
    const zarray = (shape: number[]) =>
      parse(JSON.stringify({ zarr_format: 2, shape, chunks: shape, dtype: '<f4', compressor: null, fill_value: null, filters: null, order: 'C' }));
    const metadata = new Map<string, JsonValue>([
      ['.zgroup', parse('{"zarr_format": 2}')],
      ['.zattrs', parse('{"title": "names", "__proto__": {"polluted": true}}')],
      ['__proto__/.zarray', zarray([3])],
      ['__proto__/.zattrs', parse('{"_ARRAY_DIMENSIONS": ["constructor"], "long_name": "proto variable", "units": "K"}')],
      ['constructor/.zarray', zarray([3])],
      ['constructor/.zattrs', parse('{"_ARRAY_DIMENSIONS": ["constructor"], "long_name": "constructor coordinate"}')],
      ['prototype/.zarray', zarray([3, 2])],
      ['prototype/.zattrs', parse('{"_ARRAY_DIMENSIONS": ["constructor", "__proto__"], "standard_name": "prototype variable", "__proto__": "x"}')],
    ]);
    return datasetSchema(metadata);
  }
  const noValues: DatasetValues = { array: () => undefined };

  it('cube:variables and cube:dimensions hold __proto__, constructor, prototype as own keys', async () => {
    const cube = await describeDatacube(schema(), noValues);
    expect(Object.getPrototypeOf(cube.variables)).toBe(Object.prototype);
    expect(Object.keys(cube.variables)).toEqual(['__proto__', 'prototype']);
    expect(cube.variables['__proto__']).toEqual({ dimensions: ['constructor'], type: 'data', description: 'proto variable', unit: 'K' });
    expect(cube.variables['prototype']).toEqual({ dimensions: ['constructor', '__proto__'], type: 'data', description: 'prototype variable' });
    expect(Object.keys(cube.dimensions)).toEqual(['constructor', '__proto__']);
    expect(cube.dimensions['__proto__']).toEqual({ type: 'other', extent: [0, 1], step: 1, description: 'index (no coordinate variable)' });
    expect(JSON.stringify(cube.variables)).toContain('"__proto__":{"dimensions":["constructor"]');
  });

  /** RFC 3339 timestamps of CF time values (cf/time-units.ts), as the STAC plugin's former `cfTimeDecoder`. */
  const cfTimeDecoder = (units: string, calendar?: string) => {
    const coder = timeCoder(units, calendar);
    return coder && { decode: (value: number) => coder.iso(value) };
  };

  it('a calendar named like an Object.prototype member is unknown', () => {
    for (const calendar of ['constructor', '__proto__', 'toString']) expect(cfTimeDecoder('days since 2000-01-01', calendar), calendar).toBeUndefined();
    expect(cfTimeDecoder('days since 2000-01-01', 'noleap')).toBeDefined();
  });

  it('CF time units with long whitespace are read in linear time', () => {
    const started = performance.now();
    expect(cfTimeDecoder(`days since 2000-01-01${' '.repeat(200_000)}`)?.decode(1)).toBe('2000-01-02T00:00:00Z');
    expect(cfTimeDecoder(`days since 2000${' '.repeat(200_000)}x`)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('collection settings are looked up as own keys', () => {
    const constructorRecord: ItemRecord = { ...record('a'), collection: 'constructor' };
    const [collection] = buildCollections([constructorRecord], { stac: { collections: {} } });
    expect(collection?.document.title).toBe('constructor');
    const [named] = buildCollections([constructorRecord], JSON.parse('{"stac": {"collections": {"constructor": {"title": "Named"}}}}') as Record<string, JsonValue>);
    expect(named?.document.title).toBe('Named');
  });
});

/** The matcher the code had before: the pattern as a regular expression (exponential on some patterns; small inputs only). */
function regexLike(pattern: string, text: string): boolean {
  let source = '';
  const escape = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\' && i + 1 < pattern.length) source += escape(pattern[++i] as string);
    else if (ch === '%') source += '[\\s\\S]*';
    else if (ch === '_') source += '[\\s\\S]';
    else source += escape(ch);
  }
  return new RegExp(`^${source}$`, 'u').test(text);
}

describe('F2: LIKE matches in linear time', () => {
  const like = (pattern: string, text: string) => likeMatcher(pattern)(text);

  it("'%_%_%_%_%_%_%_%_%#' against 2,000 characters answers at once", () => {
    const text = 'a'.repeat(2_000);
    const started = performance.now();
    expect(like('%_%_%_%_%_%_%_%_%#', text)).toBe(false);
    expect(like('%_%_%_%_%_%_%_%_%a', text)).toBe(true);
    expect(like('%_%_%_%_%_%_%_%_%#', `${text}#`)).toBe(true);
    expect(like(`${'%_'.repeat(499)}%#`, text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('the worst case stays near pattern × text steps', () => {
    // Each shift of the last `%` re-reads up to 900 characters: 20,000 × 900 steps at most.
    const text = 'a'.repeat(20_000);
    const started = performance.now();
    expect(like(`%${'a'.repeat(900)}b`, text)).toBe(false);
    expect(like(`%${'a'.repeat(900)}b`, `${text}b`)).toBe(true);
    expect(like(`%${'a_'.repeat(450)}%b`, text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('wildcards: % any run (also none), _ exactly one character', () => {
    expect(like('', '')).toBe(true);
    expect(like('', 'a')).toBe(false);
    expect(like('%', '')).toBe(true);
    expect(like('%%', '')).toBe(true);
    expect(like('%%', 'anything')).toBe(true);
    expect(like('_', '')).toBe(false);
    expect(like('_', 'a')).toBe(true);
    expect(like('_', 'ab')).toBe(false);
    expect(like('a%b', 'ab')).toBe(true);
    expect(like('a%b', 'axxb')).toBe(true);
    expect(like('a%b', 'axxbc')).toBe(false);
    expect(like('%a%b%', 'xxaxxbxx')).toBe(true);
    expect(like('%ab', 'aab')).toBe(true);
    expect(like('%aab', 'aaab')).toBe(true);
    expect(like('a_%_c', 'abc')).toBe(false);
    expect(like('a_%_c', 'abbc')).toBe(true);
    expect(like('%ed', 'generated')).toBe(true);
    expect(like('%-parquet', 'basic-parquet')).toBe(true);
    expect(like('Case', 'case')).toBe(false);
    expect(like('a\nb', 'a\nb')).toBe(true);
    expect(like('a_b', 'a\nb')).toBe(true);
  });

  it('escapes: \\% \\_ \\\\ are literal; a trailing \\ is itself', () => {
    expect(like('100\\%', '100%')).toBe(true);
    expect(like('100\\%', '1000')).toBe(false);
    expect(like('a\\_b', 'a_b')).toBe(true);
    expect(like('a\\_b', 'axb')).toBe(false);
    expect(like('a\\\\b', 'a\\b')).toBe(true);
    expect(like('a\\\\%', 'a\\xyz')).toBe(true);
    expect(like('a\\', 'a\\')).toBe(true);
    expect(like('\\a', 'a')).toBe(true);
    expect(like('%\\%%', 'one % two')).toBe(true);
    expect(like('%\\%%', 'no percent')).toBe(false);
  });

  it('characters are code points: _ takes a whole astral character', () => {
    expect(like('_', '😀')).toBe(true);
    expect(like('__', '😀')).toBe(false);
    expect(like('a_c', 'a😀c')).toBe(true);
    expect(like('%😀%', 'x😀y')).toBe(true);
    expect(like('\\😀', '😀')).toBe(true);
    expect(like('_😀_', '𝔸😀𝔹')).toBe(true);
    expect(like('_', '\ud800')).toBe(true);
  });

  it('agrees with the former regular expression on many small cases', () => {
    const alphabet = ['a', 'b', '%', '_', '\\', '😀'];
    const texts = ['', 'a', 'b', 'ab', 'ba', 'aab', 'abab', '%', '_a', 'a\\b', '😀', 'a😀b', '%_\\', 'bbbb'];
    let seed = 13;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 2_000; n++) {
      const length = next() % 7;
      let pattern = '';
      for (let i = 0; i < length; i++) pattern += alphabet[next() % alphabet.length];
      for (const text of texts) expect(like(pattern, text), `${JSON.stringify(pattern)} on ${JSON.stringify(text)}`).toBe(regexLike(pattern, text));
    }
  });

  it(`patterns longer than ${MAX_LIKE_PATTERN} characters are refused (a 400 through search)`, () => {
    expect(() => likeMatcher('%'.repeat(MAX_LIKE_PATTERN))).not.toThrow();
    expect(() => likeMatcher('😀'.repeat(MAX_LIKE_PATTERN))).not.toThrow();
    expect(() => likeMatcher('_'.repeat(MAX_LIKE_PATTERN + 1))).toThrow(/at most 1000 characters/);
    const body = { filter: { op: 'like', args: [{ property: 'description' }, '%'.repeat(MAX_LIKE_PATTERN + 1)] } };
    expect(() => searchFromBody(body)).toThrow(SearchError);
  });
});
