import { rm } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/admin-fixture.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';
import { pathSafe, type RawRequest, type RawResponse, rawRequest } from './raw-http.js';

/**
 * Property-based fuzzing of every place a request enters: dataset ids, store keys of both views
 * (v2 and v3 `c/` keys), Range headers, OPeNDAP constraints, STAC search (GET and POST), plot
 * parameters, admin JSON bodies, odd methods. Against the built CLI on the NetCDF fixtures, each
 * answer must be: no 500, a 5xx only as 502/503/504, an error body that is JSON (DAP error text
 * on /opendap), CORS on every response; and after each property the server still answers /health.
 */
const SEED = 20261201;
const statuses = new Map<number, number>();
let cases = 0;

let fixtures: Fixtures;
let server: SpawnedServer;

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  // The admin rate limit raised so that fuzzed bodies reach validation instead of a 429.
  server = await spawnServer(fixtures.catalog, ['--log-level', 'error'], { STRATO_ADMIN_TOKEN: ADMIN_TOKEN, STRATO_ADMIN_RATE: '100000', STRATO_ADMIN_BURST: '100000' });
});
afterAll(async () => {
  await server?.stop();
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
  console.log(`http fuzz: ${cases} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
});

const DATASETS = ['basic', 'basic-parquet', 'templated', 'templated-parquet', 'generated', 'generated-parquet', 'combined'];
const ARRAYS = ['tas', 'time', 'lat', 'lon', 'ps', 'orog', 'time_bnds', 'height', 'ta', 'hus', 'field', 'u10', 'samples', 'nope', '__proto__', 'constructor'];

/** Request bodies past this may be refused by closing the connection (the admin limit is 64 KiB). */
const LARGEST_READ_BODY = 64 * 1024;

/**
 * Sends one request and checks the contract every answer keeps. A body far past the limits may
 * meet a connection the server closed after answering (the client's write then fails with EPIPE
 * or ECONNRESET, possibly before it reads the answer): that counts as a refusal, status 0.
 */
async function check(req: RawRequest): Promise<RawResponse | undefined> {
  let response: RawResponse;
  try {
    response = await rawRequest(server.url, req);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if ((req.body?.length ?? 0) > LARGEST_READ_BODY && (code === 'EPIPE' || code === 'ECONNRESET')) {
      cases++;
      statuses.set(0, (statuses.get(0) ?? 0) + 1);
      return undefined;
    }
    throw error;
  }
  cases++;
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  const where = `${req.method} ${req.path} ${JSON.stringify(req.headers ?? {})} → ${response.status}: ${response.body.subarray(0, 300).toString()}`;
  expect(response.status, where).not.toBe(500);
  if (response.status >= 500) expect([502, 503, 504], where).toContain(response.status);
  expect(response.headers['access-control-allow-origin'], where).toBe('*');
  if (response.status >= 400 && req.method !== 'HEAD') {
    const type = String(response.headers['content-type'] ?? '');
    if (req.path.includes('/opendap') && type.startsWith('text/plain')) {
      expect(response.body.toString(), where).toMatch(/^Error \{/);
    } else {
      expect(type, where).toMatch(/json/);
      expect(() => JSON.parse(response.body.toString()) as unknown, where).not.toThrow();
    }
  }
  return response;
}

/** /health answers, and a search that walks every item's fields still works (no prototype was touched). */
async function healthy(): Promise<void> {
  const response = await rawRequest(server.url, { method: 'GET', path: '/health' });
  expect(response.status).toBe(200);
  const search = await rawRequest(server.url, { method: 'GET', path: '/stac/search?limit=2&fields=properties.title' });
  expect(search.status).toBe(200);
}

function run<T>(arbitrary: fc.Arbitrary<T>, toRequest: (value: T) => RawRequest, numRuns: number) {
  return async () => {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        await check(toRequest(value));
      }),
      { seed: SEED, numRuns, endOnFailure: true },
    );
    await healthy();
  };
}

// ---- generators -------------------------------------------------------------------------------

/** Names that mean something to JavaScript objects: each must be a plain name everywhere. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__'];
const prototypeName = fc.constantFrom(...PROTOTYPE_NAMES);
/** Dotted and negated field paths through prototype names (the fields extension walks them). */
const prototypePath = fc
  .tuple(fc.constantFrom('', '-', '+'), fc.array(fc.oneof(prototypeName, fc.constantFrom('properties', 'cube:variables', 'assets', 'links')), { minLength: 1, maxLength: 4 }))
  .map(([sign, parts]) => sign + parts.join('.'));
/** LIKE patterns that backtrack catastrophically in a naive regular expression. */
const catastrophicPattern = fc.integer({ min: 2, max: 30 }).map((n) => `${'%_'.repeat(n)}%#`);

const nastyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('..', '.', '%2F', '%2e%2e', '%00', '%', '%zz', '%C0%AE', '\u0000', 'a%2Fb', '~', '', ' ', '\\', '..%2F..%2Fetc%2Fpasswd'),
  fc.string({ minLength: 300, maxLength: 5000 }).map((s) => `${s}x`.repeat(2)),
  prototypeName,
);
const datasetId = fc.oneof(fc.constantFrom(...DATASETS), nastyText);
const index = fc.oneof(
  fc.nat({ max: 40 }),
  fc.integer({ min: -5, max: -1 }),
  fc.constantFrom('9007199254740993', '1e400', '99999999999999999999999999', '-0', '0x1', '1.5', 'NaN', 'Infinity', '', ' 1', '01'),
  fc.string({ maxLength: 8 }),
);
const chunkKey = fc.record({
  array: fc.oneof(fc.constantFrom(...ARRAYS), nastyText),
  indices: fc.array(index, { maxLength: 7 }),
  separator: fc.constantFrom('.', '/'),
  v3: fc.boolean(),
  meta: fc.constantFrom(undefined, '.zarray', '.zattrs', '.zgroup', '.zmetadata', 'zarr.json'),
});
type ChunkKey = typeof chunkKey extends fc.Arbitrary<infer T> ? T : never;
const keyPath = (key: ChunkKey): string => {
  if (key.meta) return key.array === 'nope' ? key.meta : `${pathSafe(key.array)}/${key.meta}`;
  const indices = key.indices.map((i) => pathSafe(String(i)));
  return key.v3 ? `${pathSafe(key.array)}/c/${indices.join('/')}` : `${pathSafe(key.array)}/${indices.join(key.separator)}`;
};

const bigNumber = fc.oneof(fc.nat(), fc.constantFrom('18446744073709551616', '99999999999999999999999', '-1', '1e3', ''));
const rangeHeader = fc
  .oneof(
    fc.tuple(bigNumber, bigNumber).map(([a, b]) => `bytes=${a}-${b}`),
    fc.tuple(fc.nat({ max: 100 }), fc.nat({ max: 100 })).map(([a, b]) => `bytes=${Math.max(a, b)}-${Math.min(a, b)}`),
    bigNumber.map((n) => `bytes=-${n}`),
    bigNumber.map((n) => `bytes=${n}-`),
    fc.array(fc.tuple(fc.nat({ max: 50 }), fc.nat({ max: 50 })), { minLength: 2, maxLength: 5 }).map((ranges) => `bytes=${ranges.map(([a, b]) => `${a}-${a + b}`).join(',')}`),
    fc.constantFrom('bytes=', 'bytes=-', 'bytes=--1', 'items=0-1', 'bytes=0-1,', 'bytes = 0-1', 'bytes=0x10-0x20', 'bytes=1-2-3'),
    fc.string({ maxLength: 30 }).map((s) => `bytes=${s}`),
  )
  .map((h) => h.replace(/[^\x20-\x7e]/g, ''));

const storeRequest = fc.record({
  id: datasetId,
  view: fc.constantFrom('kerchunk', 'zarr'),
  key: chunkKey,
  method: fc.constantFrom('GET', 'GET', 'HEAD'),
  range: fc.option(rangeHeader, { nil: undefined }),
  ifNoneMatch: fc.option(fc.constantFrom('*', '"x"', 'W/"abc"', '', '""'), { nil: undefined }),
});

const dapName = fc.oneof(fc.constantFrom(...ARRAYS), fc.string({ maxLength: 12 }));
const hyperslab = fc.array(
  fc.oneof(
    fc.nat({ max: 30 }).map((n) => `[${n}]`),
    fc.tuple(fc.integer({ min: -3, max: 40 }), fc.integer({ min: -3, max: 40 })).map(([a, b]) => `[${a}:${b}]`),
    fc.tuple(fc.nat({ max: 20 }), fc.integer({ min: -1, max: 5 }), fc.nat({ max: 40 })).map(([a, s, b]) => `[${a}:${s}:${b}]`),
    fc.constantFrom('[99999999999999999999]', '[0:1:9007199254740993]', '[', ']', '[]', '[a]', '[0:0:0]'),
  ),
  { maxLength: 5 },
);
const constraint = fc.oneof(
  fc
    .array(
      fc.tuple(dapName, hyperslab).map(([n, s]) => n + s.join('')),
      { maxLength: 4 },
    )
    .map((p) => p.join(',')),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('tas&time>0', 'tas.tas', 'a,,b', ',', 'tas[0:1:1]&', '"tas"', '%', 'tas[0:1:2][0:1:2][0:1:2][0:1:2]'),
);
const dapRequest = fc.record({
  id: datasetId,
  suffix: fc.constantFrom('.dds', '.das', '.dods', '.ddx', '.dmr', '', '.html', '.asc'),
  constraint,
  method: fc.constantFrom('GET', 'HEAD'),
});

const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  prototypeName,
  prototypePath,
  catastrophicPattern.map((p) => JSON.stringify({ op: 'like', args: [{ property: 'description' }, p] })),
  fc.constantFrom(
    '-180,-90,180,90',
    '1,2,3',
    'a,b,c,d',
    '1,2,3,4,5,6',
    '2001-01-01T00:00:00Z',
    '../2002-01-01T00:00:00Z',
    '..',
    '2001-13-45',
    '0',
    '-1',
    '99999999999',
    '1e9',
    'NaN',
  ),
);
const searchQuery = fc.dictionary(
  fc.constantFrom('bbox', 'datetime', 'limit', 'ids', 'collections', 'sortby', 'fields', 'filter', 'filter-lang', 'token', 'intersects', 'q', 'page'),
  queryValue,
  { maxKeys: 5 },
);
const searchBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        bbox: fc.jsonValue({ maxDepth: 2 }),
        datetime: fc.jsonValue({ maxDepth: 1 }),
        limit: fc.jsonValue({ maxDepth: 1 }),
        ids: fc.jsonValue({ maxDepth: 2 }),
        collections: fc.jsonValue({ maxDepth: 2 }),
        sortby: fc.jsonValue({ maxDepth: 3 }),
        fields: fc.jsonValue({ maxDepth: 3 }),
        filter: fc.jsonValue({ maxDepth: 5 }),
        intersects: fc.jsonValue({ maxDepth: 4 }),
        token: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.record({ fields: fc.record({ include: fc.array(prototypePath, { maxLength: 3 }), exclude: fc.array(prototypePath, { maxLength: 3 }) }) }).map((v) => JSON.stringify(v)),
  fc.record({ sortby: fc.array(fc.record({ field: prototypePath, direction: fc.constantFrom('asc', 'desc') }), { maxLength: 2 }) }).map((v) => JSON.stringify(v)),
  fc
    .tuple(fc.oneof(prototypeName, fc.constantFrom('description', 'title', 'id')), fc.oneof(catastrophicPattern, prototypeName))
    .map(([property, pattern]) => JSON.stringify({ filter: { op: 'like', args: [{ property }, pattern] } })),
  prototypeName.map((name) => `{"${name}": {"limit": 1, "polluted": true}, "filter": {"op": "=", "args": [{"property": "${name}"}, 1]}}`),
  fc.constantFrom(
    '{',
    '[',
    '{"limit": 1',
    '',
    'null',
    '"x"',
    '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
    '{"filter":' + '{"op":"not","args":['.repeat(2000) + 'true' + ']}'.repeat(2000) + '}',
  ),
);

const plotRequest = fc.record({
  id: fc.oneof(fc.constantFrom('basic', 'templated', 'combined', 'generated'), nastyText),
  variable: fc.oneof(fc.constantFrom(...ARRAYS), fc.string({ maxLength: 12 })),
  params: fc.dictionary(fc.constantFrom('time', 'level', 'cmap', 'vmin', 'vmax', 'plev', 'width', 'x'), queryValue, { maxKeys: 5 }),
});

const adminBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        id: fc.oneof(
          fc.string({ maxLength: 20 }).map((s) => `fuzz-${s}`),
          fc.jsonValue({ maxDepth: 1 }),
          nastyText,
        ),
        refs: fc.oneof(fc.constantFrom('basic.json', '../../etc/passwd', '/etc/passwd', 'refs/templated.json', 'data/', 'nope.json', ''), fc.jsonValue({ maxDepth: 1 })),
        title: fc.jsonValue({ maxDepth: 2 }),
        processing: fc.jsonValue({ maxDepth: 3 }),
        stac: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.constantFrom('{', '{"id": "x", "refs": ', '[]', 'null', '\u0000', '{"id":' + '['.repeat(10000) + ']'.repeat(10000) + '}', `{"id":"big","title":"${'x'.repeat(3_000_000)}"}`),
);
const adminRequest = fc.record({
  method: fc.constantFrom('POST', 'PUT'),
  id: fc.oneof(
    fc.string({ maxLength: 12 }).map((s) => `fuzz-${s}`),
    nastyText,
  ),
  body: adminBody,
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
  token: fc.constantFrom(ADMIN_TOKEN, ADMIN_TOKEN, 'wrong', ''),
});

const oddRequest = fc.record({
  method: fc.constantFrom('PATCH', 'OPTIONS', 'DELETE', 'PUT', 'POST', 'PROPFIND', 'TRACE', 'FOO'),
  path: fc.oneof(
    fc.constantFrom(
      '/',
      '/datasets',
      '/datasets/basic/kerchunk/.zmetadata',
      '/datasets/basic/zarr/tas/0.0.0',
      '/stac/search',
      '/health',
      '/metrics',
      '/datasets/basic/opendap.dds',
      '/admin/datasets/basic',
      '/intake.yaml',
    ),
    nastyText.map((s) => `/${pathSafe(s)}`),
  ),
  body: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
});

// ---- properties -------------------------------------------------------------------------------

describe('fuzzed HTTP inputs', { timeout: 120_000 }, () => {
  it(
    'store keys of both views, v2 and v3, with Range and If-None-Match',
    run(
      storeRequest,
      (r) => ({
        method: r.method,
        path: `/datasets/${pathSafe(r.id)}/${r.view}/${keyPath(r.key)}`,
        headers: { ...(r.range === undefined ? {} : { range: r.range }), ...(r.ifNoneMatch === undefined ? {} : { 'if-none-match': r.ifNoneMatch }) },
      }),
      700,
    ),
  );

  it(
    'Range headers on good keys',
    run(
      fc.record({
        range: rangeHeader,
        path: fc.constantFrom(
          '/datasets/basic/kerchunk/tas/0.0.0',
          '/datasets/basic-parquet/zarr/.zmetadata',
          '/datasets/templated/zarr/ta/c/0/0/0/0',
          '/datasets/generated/kerchunk/field/0.0.0',
        ),
      }),
      (r) => ({ method: 'GET', path: r.path, headers: { range: r.range } }),
      250,
    ),
  );

  it(
    'dataset-level routes with odd ids',
    run(
      fc.record({ id: datasetId, route: fc.constantFrom('', 'keys', 'dict', 'info', 'catalog.yaml', 'stac', 'kerchunk', 'zarr/') }),
      (r) => ({ method: 'GET', path: `/datasets/${pathSafe(r.id)}/${r.route}` }),
      200,
    ),
  );

  it(
    'OPeNDAP constraint expressions',
    run(dapRequest, (r) => ({ method: r.method, path: `/datasets/${pathSafe(r.id)}/opendap${r.suffix}?${pathSafe(r.constraint)}` }), 300),
  );

  it(
    'STAC search query strings and POST bodies',
    run(
      fc.oneof(
        searchQuery.map((q) => ({ method: 'GET', path: `/stac/search?${new URLSearchParams(q).toString()}` }) satisfies RawRequest),
        searchBody.map((body) => ({ method: 'POST', path: '/stac/search', headers: { 'content-type': 'application/json' }, body }) satisfies RawRequest),
        searchQuery.map((q) => ({ method: 'GET', path: `/stac/collections/strato/items?${new URLSearchParams(q).toString()}` }) satisfies RawRequest),
      ),
      (r) => r,
      250,
    ),
  );

  it(
    'plot parameters',
    run(plotRequest, (r) => ({ method: 'GET', path: `/datasets/${pathSafe(r.id)}/plot/${pathSafe(r.variable)}.png?${new URLSearchParams(r.params).toString()}` }), 150),
  );

  it(
    'admin JSON bodies (with and without the token)',
    run(
      adminRequest,
      (r) => ({
        method: r.method,
        path: r.method === 'POST' ? '/admin/datasets' : `/admin/datasets/${pathSafe(r.id)}`,
        headers: { ...(r.contentType ? { 'content-type': r.contentType } : {}), ...(r.token ? { authorization: `Bearer ${r.token}` } : {}) },
        body: r.body,
      }),
      150,
    ),
  );

  it(
    'odd methods and paths',
    run(oddRequest, (r) => ({ method: r.method, path: r.path, ...(r.body === undefined ? {} : { body: r.body }) }), 150),
  );

  for (const [path, headers] of [
    ['/stac/search', { 'content-type': 'application/json' }],
    ['/admin/datasets', { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }],
  ] as const) {
    it(`answers a POST ${path} body that never ends once it passes the limit (bounded buffering)`, async () => {
      const { request } = await import('node:http');
      const base = new URL(server.url);
      const status = await new Promise<number>((resolve, reject) => {
        const outgoing = request({ host: base.hostname, port: base.port, method: 'POST', path, headers: { ...headers, 'transfer-encoding': 'chunked' } }, (incoming) => {
          resolve(incoming.statusCode ?? 0);
          incoming.resume();
          outgoing.destroy();
        });
        outgoing.on('error', () => undefined); // the server may close the upload once it has answered
        const piece = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          if (outgoing.destroyed) return;
          sent += piece.length;
          if (sent > 256 * 1024 * 1024) return reject(new Error(`${path}: no answer after 256 MiB of body`));
          if (outgoing.write(piece)) setImmediate(pump);
          else outgoing.once('drain', pump);
        };
        pump();
      });
      cases++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect([400, 413]).toContain(status);
      await healthy();
    });
  }

  it('still serves the fixtures after all of it', async () => {
    for (const id of DATASETS) {
      const response = await rawRequest(server.url, { method: 'GET', path: `/datasets/${id}/kerchunk/.zmetadata` });
      expect(response.status, id).toBe(200);
    }
  });
});
