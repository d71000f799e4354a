import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { statusAndText, underAttack } from '../helpers/hostile.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * Hostile STAC requests against the built CLI (`dist/cli/cli.js`; build it first with
 * `npx tsc -p tsconfig.build.json`), issue #13:
 *
 * F1: names from requests (fields, sortby, CQL2 property and operator names, JSON keys such as
 *     `__proto__`) and names from files (variables and dimensions called `__proto__`,
 *     `constructor`, `prototype`) must never reach `Object.prototype`: each such request answers
 *     200 or 400, never 500, and the server keeps answering normally afterwards.
 * F2: a CQL2 `like` pattern that makes a backtracking regular expression take exponential time
 *     must answer at once, without stalling the event loop (`/health` stays fast meanwhile).
 */
let fixtures: Fixtures;
let server: SpawnedServer;
/** Per hostile request: what it was, its status, its wall time and the slowest /health meanwhile. */
const timings: Array<{ name: string; status: number; elapsedMs: number; worstHealthMs: number }> = [];

/** A description the catastrophic LIKE pattern cannot match (no `#` at the end). */
const LONG_DESCRIPTION = 'a'.repeat(2_000);
const CATASTROPHIC = '%_%_%_%_%_%_%_%_%#';

/** Zarr v2 metadata of a float32 array without chunks (all fill). */
const zarray = (shape: number[]) => JSON.stringify({ zarr_format: 2, shape, chunks: shape, dtype: '<f4', compressor: null, fill_value: 'NaN', filters: null, order: 'C' });

/**
 * A NetCDF-ish dataset, written by hand as a kerchunk JSON table: a time coordinate (inline
 * chunk), variables named `__proto__`, `constructor` and `prototype`, and a dimension named
 * `__proto__` without coordinate variable.
 */
function namesTable(): unknown {
  const time = Buffer.from(new Float64Array([0, 1, 2]).buffer).toString('base64');
  return {
    version: 1,
    refs: {
      '.zgroup': JSON.stringify({ zarr_format: 2 }),
      '.zattrs': JSON.stringify({ title: 'names that are also Object.prototype names', Conventions: 'CF-1.8' }),
      'time/.zarray': JSON.stringify({ zarr_format: 2, shape: [3], chunks: [3], dtype: '<f8', compressor: null, fill_value: null, filters: null, order: 'C' }),
      'time/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time'], units: 'days since 2000-01-01', calendar: 'standard', standard_name: 'time' }),
      'time/0': `base64:${time}`,
      '__proto__/.zarray': zarray([3]),
      '__proto__/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time'], long_name: 'a variable named __proto__', units: 'K' }),
      'constructor/.zarray': zarray([3]),
      'constructor/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time'], long_name: 'a variable named constructor', units: '1' }),
      'prototype/.zarray': zarray([3, 2]),
      'prototype/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['time', '__proto__'], long_name: 'a variable named prototype' }),
    },
  };
}

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  await writeFile(join(fixtures.dir, 'names.json'), JSON.stringify(namesTable()));
  const lines = fixtures.datasets.filter((d) => d.format !== 'parquet').map((d) => `  ${d.id}: {refs: ${d.refs}}`);
  lines.push(`  names: {refs: names.json, title: Prototype names, description: "${LONG_DESCRIPTION}"}`);
  const catalog = join(fixtures.dir, 'catalog-hostile.yaml');
  await writeFile(catalog, `datasets:\n${lines.join('\n')}\nsources:\n  allow: [data/]\n`);
  server = await spawnServer(catalog, ['--log-level', 'warn']);
});
afterAll(async () => {
  const slowest = [...timings].sort((a, b) => b.elapsedMs - a.elapsedMs).filter((t, i) => i < 5 || t.name.startsWith('F2'));
  const lines = slowest.map((t) => `  ${t.elapsedMs.toFixed(1)} ms (health ${t.worstHealthMs.toFixed(1)} ms, ${t.status}) ${t.name}`);
  console.log(`stac-hostile: ${timings.length} hostile requests; slowest:\n${lines.join('\n')}`);
  await server?.stop();
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  text: string;
  type: string | null;
}

const get = (path: string) => fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(10_000) });
const post = (body: string) => fetch(`${server.url}/stac/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
const query = (params: Record<string, string>) => `/stac/search?${new URLSearchParams(params).toString()}`;

/** The server answers normally: Object.prototype is intact and the event loop is free. */
async function stillHealthy(): Promise<void> {
  const health = await get('/health');
  expect(health.status).toBe(200);
  await health.arrayBuffer();
  const search = await get('/stac/search?limit=100');
  expect(search.status).toBe(200);
  const body = (await search.json()) as { features: Array<{ id: string }> };
  expect(body.features.map((f) => f.id)).toContain('names');
  const item = await get('/datasets/names/stac');
  expect(item.status).toBe(200);
  await item.arrayBuffer();
}

/** One hostile request under watch: 200 or 400, fast, the server responsive meanwhile and after. */
async function hostile(send: () => Promise<Response>): Promise<Answer> {
  const report = await underAttack(server.url, async () => statusAndText(await send()), { pid: server.process.pid, pollMs: 50 });
  const name = expect.getState().currentTestName ?? '?';
  timings.push({ name, status: report.result.status, elapsedMs: report.elapsedMs, worstHealthMs: report.worstHealthMs });
  expect([200, 400], `status ${report.result.status}: ${report.result.text.slice(0, 300)}`).toContain(report.result.status);
  expect(report.elapsedMs).toBeLessThan(2_000);
  expect(report.worstHealthMs).toBeLessThan(1_000);
  await stillHealthy();
  return report.result;
}

const features = (answer: Answer) => (JSON.parse(answer.text) as { features: Array<Record<string, unknown>> }).features;

describe('F1: request names never reach Object.prototype', () => {
  const getFields = [
    '-__proto__.hasOwnProperty',
    '-properties.__proto__.hasOwnProperty',
    '__proto__.hasOwnProperty',
    '-__proto__.toString,-constructor.prototype.hasOwnProperty',
    'constructor',
    'constructor.prototype',
    '__proto__',
    'prototype',
    'properties.__proto__.polluted',
    'properties.cube:variables.__proto__.__proto__.hasOwnProperty',
    '-properties.cube:variables.__proto__.__proto__.hasOwnProperty',
  ];
  for (const fields of getFields) {
    it(`GET /stac/search?fields=${fields}`, async () => {
      const answer = await hostile(() => get(query({ fields })));
      expect(answer.status).toBe(200);
      for (const feature of features(answer)) {
        expect(Object.hasOwn(feature, 'constructor')).toBe(false);
        expect(Object.hasOwn(feature, 'prototype')).toBe(false);
        expect(Object.hasOwn(feature, '__proto__')).toBe(false);
      }
    });
    it(`GET /stac/collections/strato/items?fields=${fields}`, async () => {
      const answer = await hostile(() => get(`/stac/collections/strato/items?${new URLSearchParams({ fields }).toString()}`));
      expect(answer.status).toBe(200);
    });
  }

  for (const sortby of ['__proto__', '-constructor', '+prototype', 'properties.__proto__', 'properties.constructor', 'hasOwnProperty']) {
    it(`GET /stac/search?sortby=${sortby}`, async () => {
      const answer = await hostile(() => get(query({ sortby, limit: '100' })));
      expect(answer.status).toBe(200);
      expect(features(answer).length).toBeGreaterThan(1);
    });
  }

  const filters: unknown[] = [
    { op: '=', args: [{ property: '__proto__' }, 'x'] },
    { op: '=', args: [{ property: 'constructor' }, 'x'] },
    { op: '=', args: [{ property: 'prototype' }, 'x'] },
    { op: 'isNull', args: [{ property: 'properties.__proto__' }] },
    { op: '__proto__', args: [{ property: 'datetime' }, { property: 'datetime' }] },
    { op: 'constructor', args: [{ property: 'datetime' }, { property: 'datetime' }] },
    { op: 'hasOwnProperty', args: [{ property: 'keywords' }, ['a']] },
    { op: 'toString', args: [{ property: 'keywords' }, ['a']] },
    { op: 'like', args: [{ property: 'constructor' }, '%'] },
  ];
  for (const filter of filters) {
    it(`GET filter ${JSON.stringify(filter)}`, async () => {
      const answer = await hostile(() => get(query({ filter: JSON.stringify(filter) })));
      expect(answer.status).toBe(400);
    });
    it(`POST filter ${JSON.stringify(filter)}`, async () => {
      const answer = await hostile(() => post(JSON.stringify({ filter })));
      expect(answer.status).toBe(400);
    });
  }

  const bodies = [
    '{"fields": {"exclude": ["__proto__.hasOwnProperty"]}}',
    '{"fields": {"include": ["constructor", "__proto__.toString"], "exclude": ["constructor.prototype.hasOwnProperty"]}}',
    '{"fields": {"include": ["properties.cube:variables.__proto__.__proto__"]}}',
    '{"__proto__": {"limit": 1, "ids": ["nothing"]}, "fields": {"include": ["__proto__"]}}',
    '{"fields": {"__proto__": {"include": ["constructor"]}, "include": ["properties.title"]}}',
    '{"sortby": [{"field": "__proto__"}, {"field": "constructor", "direction": "desc"}]}',
    '{"sortby": [{"__proto__": {"field": "id"}, "field": "prototype"}]}',
    '{"filter": {"__proto__": {"op": "="}, "op": "isNull", "args": [{"property": "title"}]}}',
    '{"filter": {"op": "isNull", "args": [{"__proto__": {"property": "title"}, "property": "title"}]}}',
    '{"filter-lang": "cql2-json", "filter": {"op": "a_contains", "args": [{"property": "variables"}, ["__proto__"]]}}',
  ];
  for (const body of bodies) {
    it(`POST /stac/search ${body}`, async () => {
      const answer = await hostile(() => post(body));
      expect(answer.status).toBe(200);
      for (const feature of features(answer)) expect(Object.hasOwn(feature, '__proto__')).toBe(false);
    });
  }

  it('a POST body with a "__proto__" key keeps it as a plain key (next link body)', async () => {
    const answer = await hostile(() => post('{"__proto__": {"x": 1}, "limit": 1}'));
    expect(answer.status).toBe(200);
    const next = (JSON.parse(answer.text) as { links: Array<{ rel: string; body?: Record<string, unknown> }> }).links.find((l) => l.rel === 'next');
    expect(next?.body && Object.hasOwn(next.body, '__proto__')).toBe(true);
    expect(next?.body?.limit).toBe(1);
  });
});

describe('F1: names from files are plain names', () => {
  interface CubeItem {
    properties: { 'cube:variables': Record<string, { description?: string; dimensions?: string[]; unit?: string }>; 'cube:dimensions': Record<string, { extent?: unknown[] }> };
  }

  it('variables named __proto__ and constructor are own keys of cube:variables', async () => {
    const response = await get('/datasets/names/stac');
    expect(response.status).toBe(200);
    const item = JSON.parse(await response.text()) as CubeItem;
    const variables = item.properties['cube:variables'];
    expect(Object.hasOwn(variables, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(variables)).toBe(Object.prototype);
    expect(variables['__proto__']).toEqual({ dimensions: ['time'], type: 'data', description: 'a variable named __proto__', unit: 'K' });
    expect(Object.hasOwn(variables, 'constructor')).toBe(true);
    expect(variables['constructor']?.description).toBe('a variable named constructor');
    expect(variables['prototype']?.dimensions).toEqual(['time', '__proto__']);
    const dimensions = item.properties['cube:dimensions'];
    expect(Object.keys(dimensions).sort()).toEqual(['__proto__', 'time']);
    expect(dimensions['__proto__']?.extent).toEqual([0, 1]);
  });

  it('fields=properties.cube:variables.__proto__.description selects that variable', async () => {
    const answer = await hostile(() => get(query({ ids: 'names', fields: 'properties.cube:variables.__proto__.description' })));
    const [feature] = features(answer) as unknown as CubeItem[];
    const variables = feature?.properties['cube:variables'];
    expect(variables && Object.keys(variables)).toEqual(['__proto__']);
    expect(variables?.['__proto__']).toEqual({ description: 'a variable named __proto__' });
  });

  it('fields exclude removes only the own __proto__ variable', async () => {
    const answer = await hostile(() => get(query({ ids: 'names', fields: 'properties.cube:variables,-properties.cube:variables.__proto__' })));
    const [feature] = features(answer) as unknown as CubeItem[];
    expect(Object.keys(feature?.properties['cube:variables'] ?? {}).sort()).toEqual(['constructor', 'prototype']);
  });

  it('CQL2 a_contains finds the variables named __proto__ and constructor', async () => {
    const filter = { op: 'a_contains', args: [{ property: 'variables' }, ['__proto__', 'constructor']] };
    const answer = await hostile(() => post(JSON.stringify({ filter })));
    expect(features(answer).map((f) => f.id)).toEqual(['names']);
  });
});

describe('F2: LIKE matches in linear time', () => {
  const like = (pattern: string) => ({ op: 'like', args: [{ property: 'description' }, pattern] });

  it('POST filter with the catastrophic pattern', async () => {
    const answer = await hostile(() => post(JSON.stringify({ filter: like(CATASTROPHIC) })));
    expect(answer.status).toBe(200);
    expect(features(answer)).toEqual([]);
  });

  it('GET filter with the catastrophic pattern', async () => {
    const answer = await hostile(() => get(query({ filter: JSON.stringify(like(CATASTROPHIC)) })));
    expect(answer.status).toBe(200);
    expect(features(answer)).toEqual([]);
  });

  it('GET filter with a long catastrophic pattern that matches', async () => {
    const answer = await hostile(() => get(query({ filter: JSON.stringify(like(`${'%_'.repeat(400)}%a`)) })));
    expect(answer.status).toBe(200);
    expect(features(answer).map((f) => f.id)).toEqual(['names']);
  });

  it('a pattern longer than 1,000 characters is refused with 400', async () => {
    const answer = await hostile(() => post(JSON.stringify({ filter: like('%_'.repeat(501)) })));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('1000');
  });
});

describe('F2b: CQL2 text filters (the GET default) are bounded', () => {
  const text = (filter: string) => hostile(() => get(query({ filter })));
  const location = /character \d+/;

  it('the catastrophic LIKE pattern in text: linear, no match', async () => {
    const answer = await text(`description LIKE '${CATASTROPHIC}'`);
    expect(answer.status).toBe(200);
    expect(features(answer)).toEqual([]);
  });

  it('100,000 nested parentheses: 400 before any recursion (length bound)', async () => {
    const answer = await hostile(() => post(JSON.stringify({ filter: `${'('.repeat(50_000)}id = 'x'${')'.repeat(50_000)}`, 'filter-lang': 'cql2-text' })));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('at most 100000 characters');
  });

  it('65 levels of parentheses and 2,000 NOTs: 400 naming the nesting limit and the place', async () => {
    for (const filter of [`${'('.repeat(65)}id = 'x'${')'.repeat(65)}`, `${'NOT '.repeat(2000)}TRUE`]) {
      const answer = await text(filter);
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('nests deeper than 64 levels');
      expect(answer.text).toMatch(location);
    }
  });

  it('unterminated strings and quoted names, huge numbers, prototype names: 400 naming the place', async () => {
    for (const filter of ["id = 'x", '"id = 1', `id = 1${'0'.repeat(5000)}`, '__proto__ IS NULL', '"constructor" = 1', "__proto__(id, 'x')", "id = 'a' OR"]) {
      const answer = await text(filter);
      expect(answer.status, filter).toBe(400);
    }
    const answer = await text("id = 'x");
    expect(answer.text).toMatch(location);
  });

  it('3,000 ORed comparisons: an answer, not a stack overflow', async () => {
    const answer = await hostile(() => post(JSON.stringify({ filter: Array.from({ length: 3000 }, (_, i) => `id = 'n${i}'`).join(' OR '), 'filter-lang': 'cql2-text' })));
    expect(answer.status).toBe(200);
    expect(features(answer)).toEqual([]);
  });
});
