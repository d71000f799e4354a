import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../stac-model/items.js';
import { FilterError, MAX_LIKE_PATTERN, parseFilter } from './cql2.js';
import { cql2TextToJson, MAX_FILTER_DEPTH, MAX_FILTER_TEXT } from './cql2-text.js';
import { SearchError, searchFromBody, searchFromQuery } from './search-request.js';

const DAY = 86_400_000;
function record(id: string, extra: Partial<ItemRecord> = {}, properties: Record<string, unknown> = {}): ItemRecord {
  return {
    id,
    collection: id.endsWith('-parquet') ? 'parquet' : 'json',
    item: { type: 'Feature', id, properties: { datetime: null, title: `Title of ${id}`, license: 'CC0-1.0', keywords: ['climate', id], ...properties } as never },
    problems: [],
    ...extra,
  };
}
const RECORDS: ItemRecord[] = [
  record('tas-daily', { bbox: [-10, -10, 10, 10], start: Date.UTC(2000, 0, 1), end: Date.UTC(2000, 0, 1) + 9 * DAY }),
  record('pr-daily', { bbox: [100, 20, 120, 40], start: Date.UTC(2001, 0, 1), end: Date.UTC(2001, 11, 31) }, { title: "it's raining" }),
  record('no-space-parquet', {}, { license: 'MIT' }),
];
const matching = (text: string) =>
  RECORDS.filter(parseFilter(cql2TextToJson(text)))
    .map((r) => r.id)
    .sort();

/** A syntax error's message, which names the position. */
function failure(text: string): string {
  try {
    parseFilter(cql2TextToJson(text));
  } catch (error) {
    expect(error).toBeInstanceOf(FilterError);
    return (error as Error).message;
  }
  throw new Error(`no error for ${text}`);
}

describe('cql2-text → the CQL2 JSON tree', () => {
  it('comparisons, logic and precedence (NOT > AND > OR), keywords in any case', () => {
    expect(cql2TextToJson("id = 'x'")).toEqual({ op: '=', args: [{ property: 'id' }, 'x'] });
    expect(cql2TextToJson('a = 1 or b <> 2 AND not c >= -3.5e1')).toEqual({
      op: 'or',
      args: [
        { op: '=', args: [{ property: 'a' }, 1] },
        {
          op: 'and',
          args: [
            { op: '<>', args: [{ property: 'b' }, 2] },
            { op: 'not', args: [{ op: '>=', args: [{ property: 'c' }, -35] }] },
          ],
        },
      ],
    });
    expect(cql2TextToJson('(a = 1 OR b = 2) AND c < 3')).toEqual({
      op: 'and',
      args: [
        {
          op: 'or',
          args: [
            { op: '=', args: [{ property: 'a' }, 1] },
            { op: '=', args: [{ property: 'b' }, 2] },
          ],
        },
        { op: '<', args: [{ property: 'c' }, 3] },
      ],
    });
    expect(cql2TextToJson('TRUE')).toBe(true);
    expect(cql2TextToJson('x = false')).toEqual({ op: '=', args: [{ property: 'x' }, false] });
  });

  it('LIKE, BETWEEN, IN, IS NULL and their NOT forms', () => {
    expect(cql2TextToJson("id NOT LIKE '%a\\_b'")).toEqual({ op: 'not', args: [{ op: 'like', args: [{ property: 'id' }, '%a\\_b'] }] });
    expect(cql2TextToJson('n BETWEEN 1 AND 2')).toEqual({ op: 'between', args: [{ property: 'n' }, 1, 2] });
    expect(cql2TextToJson('n not between 1 and 2 and m = 3')).toEqual({
      op: 'and',
      args: [
        { op: 'not', args: [{ op: 'between', args: [{ property: 'n' }, 1, 2] }] },
        { op: '=', args: [{ property: 'm' }, 3] },
      ],
    });
    expect(cql2TextToJson("id IN ('a', 'b')")).toEqual({ op: 'in', args: [{ property: 'id' }, ['a', 'b']] });
    expect(cql2TextToJson("id NOT IN ('a')")).toEqual({ op: 'not', args: [{ op: 'in', args: [{ property: 'id' }, ['a']] }] });
    expect(cql2TextToJson('geometry IS NULL')).toEqual({ op: 'isNull', args: [{ property: 'geometry' }] });
    expect(cql2TextToJson('geometry is not null')).toEqual({ op: 'not', args: [{ op: 'isNull', args: [{ property: 'geometry' }] }] });
  });

  it("property names: identifiers with : . _, and double-quoted ones (STAC Browser's form)", () => {
    expect(cql2TextToJson("eo:cloud_cover < 10 AND properties.title = 'x'")).toEqual({
      op: 'and',
      args: [
        { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] },
        { op: '=', args: [{ property: 'properties.title' }, 'x'] },
      ],
    });
    expect(cql2TextToJson('"id" = \'a\'')).toEqual({ op: '=', args: [{ property: 'id' }, 'a'] });
    expect(cql2TextToJson('"and" = 1')).toEqual({ op: '=', args: [{ property: 'and' }, 1] });
  });

  it("string literals: '' and \\' are a quote, other backslashes stay (LIKE escapes); temporal literals", () => {
    expect(cql2TextToJson("title = 'it''s'")).toEqual({ op: '=', args: [{ property: 'title' }, "it's"] });
    expect(cql2TextToJson("title = 'it\\'s'")).toEqual({ op: '=', args: [{ property: 'title' }, "it's"] });
    expect(cql2TextToJson("id LIKE 'a\\_b\\%'")).toEqual({ op: 'like', args: [{ property: 'id' }, 'a\\_b\\%'] });
    expect(cql2TextToJson("datetime > TIMESTAMP('2000-01-01T00:00:00Z')")).toEqual({ op: '>', args: [{ property: 'datetime' }, { timestamp: '2000-01-01T00:00:00Z' }] });
    expect(cql2TextToJson("end_datetime < date('2000-01-20')")).toEqual({ op: '<', args: [{ property: 'end_datetime' }, { date: '2000-01-20' }] });
    expect(cql2TextToJson("T_INTERSECTS(datetime, INTERVAL('2001-01-01', '..'))")).toEqual({
      op: 't_intersects',
      args: [{ property: 'datetime' }, { interval: ['2001-01-01', '..'] }],
    });
  });

  it('spatial literals: WKT and BBOX', () => {
    expect(cql2TextToJson('S_INTERSECTS(geometry, POINT(1 2))')).toEqual({ op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [1, 2] }] });
    expect(cql2TextToJson('s_intersects(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))')).toEqual({
      op: 's_intersects',
      args: [
        { property: 'geometry' },
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0],
            ],
          ],
        },
      ],
    });
    expect(cql2TextToJson('S_INTERSECTS(geometry, BBOX(-5, -65, 5, -61))')).toEqual({ op: 's_intersects', args: [{ property: 'geometry' }, { bbox: [-5, -65, 5, -61] }] });
    expect(cql2TextToJson('S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 4)))')).toEqual(cql2TextToJson('S_INTERSECTS(geometry, MULTIPOINT(1 2, 3 4))'));
    expect(cql2TextToJson('S_INTERSECTS(geometry, POINT Z (1 2 3))')).toEqual({ op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [1, 2, 3] }] });
    expect(cql2TextToJson('S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1)))')).toEqual({
      op: 's_intersects',
      args: [
        { property: 'geometry' },
        {
          type: 'GeometryCollection',
          geometries: [
            { type: 'Point', coordinates: [1, 2] },
            {
              type: 'LineString',
              coordinates: [
                [0, 0],
                [1, 1],
              ],
            },
          ],
        },
      ],
    });
  });

  it('array functions take ( ... ) lists', () => {
    expect(cql2TextToJson("A_CONTAINS(keywords, ('climate'))")).toEqual({ op: 'a_contains', args: [{ property: 'keywords' }, ['climate']] });
    expect(cql2TextToJson('a_overlaps(keywords, ())')).toEqual({ op: 'a_overlaps', args: [{ property: 'keywords' }, []] });
  });
});

describe('cql2-text filters Items as the JSON form does', () => {
  it('evaluates every supported operator', () => {
    expect(matching("id = 'tas-daily'")).toEqual(['tas-daily']);
    expect(matching("id LIKE '%daily' AND NOT collection = 'parquet'")).toEqual(['pr-daily', 'tas-daily']);
    expect(matching("title = 'it''s raining'")).toEqual(['pr-daily']);
    expect(matching("license IN ('MIT', 'x')")).toEqual(['no-space-parquet']);
    expect(matching('geometry IS NULL')).toEqual(['no-space-parquet']);
    expect(matching('S_INTERSECTS(geometry, POINT(0 0))')).toEqual(['tas-daily']);
    expect(matching('S_INTERSECTS(geometry, BBOX(90, 0, 180, 90))')).toEqual(['pr-daily']);
    expect(matching("T_INTERSECTS(datetime, INTERVAL('2001-06-01T00:00:00Z', '..'))")).toEqual(['pr-daily']);
    expect(matching("start_datetime BETWEEN TIMESTAMP('1999-01-01T00:00:00Z') AND DATE('2000-06-01')")).toEqual(['tas-daily']);
    expect(matching("A_CONTAINS(keywords, ('climate', 'pr-daily'))")).toEqual(['pr-daily']);
    expect(matching("(id = 'tas-daily' OR id = 'pr-daily') AND start_datetime > DATE('2000-06-01')")).toEqual(['pr-daily']);
  });

  it('type mistakes are the JSON path’s errors', () => {
    expect(failure('id = 1')).toContain('compares a string with a number');
    expect(failure("nope = 'x'")).toContain('"nope" is not a queryable');
    expect(failure('__proto__ = 1')).toContain('"__proto__" is not a queryable');
    expect(failure('"constructor" IS NULL')).toContain('not a queryable');
    expect(failure('CASEI(id) = 1')).toContain('unsupported operator "casei"');
    expect(failure('__PROTO__(id, 1)')).toContain('unsupported operator');
  });
});

describe('cql2-text: hostile and broken input is a FilterError naming the position', () => {
  it('syntax errors say where and what', () => {
    expect(failure("id = 'abc")).toBe("cql2-text syntax error at character 6: unterminated string (a string literal ends with ')");
    expect(failure('"id = 1')).toContain('character 1: unterminated quoted property name');
    expect(failure("id = 'a' AND")).toContain('character 13: the filter ends where a value was expected');
    expect(failure("(id = 'a'")).toContain('character 10: expected ")" to close the parenthesis, found the end of the filter');
    expect(failure("id = 'a')")).toContain('character 9: expected AND, OR or the end of the filter, found ")"');
    expect(failure("id != 'a'")).toContain('character 4: CQL2 writes "not equal" as <>');
    expect(failure('id ; drop')).toContain('character 4: unexpected character ";"');
    expect(failure("id 'a'")).toContain('character 4: expected a comparison');
    expect(failure("id NOT = 'a'")).toContain('expected LIKE, BETWEEN or IN after NOT');
    expect(failure('n BETWEEN 1 OR 2')).toContain('expected AND between the bounds of BETWEEN');
    expect(failure("id IN 'a'")).toContain('expected "(" to open the IN list');
    expect(failure('S_INTERSECTS(geometry, POINT(1))')).toContain('expected a coordinate');
    expect(failure('TIMESTAMP(1) = id')).toContain('TIMESTAMP takes a quoted string');
    expect(failure('n = 12abc')).toContain('malformed number');
    expect(failure('AND = 1')).toContain('found the keyword AND');
    expect(failure('')).toContain('character 1: the filter ends where a value was expected');
  });

  it('deep nesting is refused before the stack is at risk', () => {
    const deep = `${'('.repeat(100_000)}id = 'a'${')'.repeat(100_000)}`;
    expect(failure(deep)).toContain(`a cql2-text filter may have at most ${MAX_FILTER_TEXT} characters`);
    const nested = (n: number) => `${'('.repeat(n)}id = 'a'${')'.repeat(n)}`;
    expect(matching(nested(MAX_FILTER_DEPTH))).toEqual([]);
    expect(failure(nested(MAX_FILTER_DEPTH + 1))).toContain(`nests deeper than ${MAX_FILTER_DEPTH} levels`);
    expect(failure(`${'NOT '.repeat(20_000)}TRUE`)).toContain('nests deeper');
    expect(failure(`A_CONTAINS(keywords, ${'('.repeat(10_000)}`)).toContain('nests deeper');
    expect(failure(`S_INTERSECTS(geometry, GEOMETRYCOLLECTION(${'GEOMETRYCOLLECTION('.repeat(5_000)}`)).toContain('nests deeper');
  });

  it('huge literals: bounded by the text length; numbers out of range refused', () => {
    expect(failure(`id = '${'x'.repeat(MAX_FILTER_TEXT)}'`)).toContain('at most');
    expect(matching(`id = '${'x'.repeat(MAX_FILTER_TEXT - 10)}'`)).toEqual([]);
    expect(failure(`n = 1${'0'.repeat(400)}`)).toContain('number literal too long');
    expect(failure('start_datetime = 1e999')).toContain('out of range');
    const manyOrs = Array.from({ length: 3000 }, (_, i) => `id = '${i}'`).join(' OR ');
    expect(matching(manyOrs)).toEqual([]);
  });

  it('catastrophic LIKE patterns stay linear; overlong ones are refused', () => {
    expect(matching(`title LIKE '${'%a'.repeat(400)}%b'`)).toEqual([]);
    expect(failure(`title LIKE '${'%'.repeat(MAX_LIKE_PATTERN + 1)}'`)).toContain(`at most ${MAX_LIKE_PATTERN} characters`);
    expect(failure('title LIKE 5')).toContain('pattern string');
  });

  it('__proto__ names never touch Object.prototype', () => {
    for (const text of ['__proto__ IS NULL', '"__proto__" = 1', 'properties.__proto__ = 1', "constructor LIKE 'x'", '__proto__(1, 2)', "A_CONTAINS(variables, ('__proto__'))"]) {
      try {
        parseFilter(cql2TextToJson(text));
      } catch (error) {
        expect(error).toBeInstanceOf(FilterError);
      }
    }
    expect(({} as Record<string, unknown>).property).toBeUndefined();
    expect(({} as Record<string, unknown>).op).toBeUndefined();
  });
});

describe('search requests: filter-lang', () => {
  const ids = (filter: ((r: ItemRecord) => boolean) | undefined) => RECORDS.filter((r) => filter?.(r) ?? true).map((r) => r.id);

  it('GET: cql2-text is the default unless the filter is a JSON object; filter-lang picks explicitly', () => {
    expect(ids(searchFromQuery(new URLSearchParams({ filter: "id = 'tas-daily'" })).filter)).toEqual(['tas-daily']);
    expect(ids(searchFromQuery(new URLSearchParams({ filter: "id = 'tas-daily'", 'filter-lang': 'cql2-text' })).filter)).toEqual(['tas-daily']);
    const json = JSON.stringify({ op: '=', args: [{ property: 'id' }, 'pr-daily'] });
    expect(ids(searchFromQuery(new URLSearchParams({ filter: json })).filter)).toEqual(['pr-daily']);
    expect(ids(searchFromQuery(new URLSearchParams({ filter: json, 'filter-lang': 'cql2-json' })).filter)).toEqual(['pr-daily']);
    expect(() => searchFromQuery(new URLSearchParams({ filter: json, 'filter-lang': 'cql2-text' }))).toThrow(SearchError);
    expect(() => searchFromQuery(new URLSearchParams({ filter: "id = 'a'", 'filter-lang': 'cql2-json' }))).toThrow(/not valid JSON/);
    expect(() => searchFromQuery(new URLSearchParams({ filter: "id = 'a'", 'filter-lang': 'ecql' }))).toThrow(/use cql2-json or cql2-text/);
    expect(() => searchFromQuery(new URLSearchParams({ filter: "id = 'a" }))).toThrow(/"filter": cql2-text syntax error at character 6/);
  });

  it('POST: a string filter with filter-lang cql2-text (or none); a JSON filter with cql2-json', () => {
    expect(ids(searchFromBody({ filter: "id = 'pr-daily'", 'filter-lang': 'cql2-text' }).filter)).toEqual(['pr-daily']);
    expect(ids(searchFromBody({ filter: "id = 'pr-daily'" }).filter)).toEqual(['pr-daily']);
    expect(() => searchFromBody({ filter: { op: '=', args: [{ property: 'id' }, 'x'] }, 'filter-lang': 'cql2-text' })).toThrow(/must be a string/);
    expect(() => searchFromBody({ filter: "id = 'x'", 'filter-lang': 'cql2-json' })).toThrow(SearchError);
    expect(() => searchFromBody({ filter: "id = 'x'", 'filter-lang': 7 })).toThrow(/filter-lang/);
  });
});

describe('cql2-text: random token soup', () => {
  it('answers a filter or a FilterError, never anything else', () => {
    const pieces = [
      ...['id', '"id"', 'geometry', 'datetime', 'keywords', 'start_datetime', '__proto__', 'constructor', "'x'", "''", "'", '"', '1', '-2.5', '1e999', '.5'],
      ...['=', '<>', '<', '<=', '>', '>=', '(', ')', ',', '-', '+', 'AND', 'OR', 'NOT', 'LIKE', 'BETWEEN', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE'],
      ...['DATE(', 'TIMESTAMP(', 'INTERVAL(', "'2000-01-01'", "'..'", 'POINT(', 'POLYGON((', 'BBOX(', 'Z', 'S_INTERSECTS(', 'T_AFTER(', 'A_CONTAINS(', 'CASEI('],
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 24 }), (parts) => {
        try {
          const filter = parseFilter(cql2TextToJson(parts.join(' ')));
          for (const r of RECORDS) filter(r);
        } catch (error) {
          if (!(error instanceof FilterError)) throw error;
        }
      }),
      { numRuns: 3000, seed: 16 },
    );
  });
});
