import { appendFileSync } from 'node:fs';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonReferences } from '../../kerchunk/json-references.js';
import { openParquetReferences, parquetArrayGrids } from '../../kerchunk/parquet-references.js';
import { ReferenceFormatError, type ReferenceStore } from '../../kerchunk/reference.js';
import { scanFile } from '../../kerchunk/scan/index.js';
import { makeFixtures as makeHdf5Fixtures, removeFixtures } from '../fixtures/hdf5/fixtures.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';

/**
 * Property-based fuzzing of every file that enters: JSON reference tables (v0/v1, mutated),
 * parquet reference sets (truncated record files, wrong record_size), HDF5 / NetCDF files
 * (truncated, bytes flipped) fed to the scanner. Each case must succeed or throw the module's
 * own ReferenceFormatError, within a deadline, and memory must stay bounded over all cases.
 * FUZZ_TRACE=file appends each case before it runs (to find a case that hangs synchronously).
 */
const SEED = 20261201;
const DEADLINE_MS = 10_000;
const outcomes = new Map<string, number>();

let fixtures: Fixtures;
let hdf5Dir: string;
let scratch: string;

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  hdf5Dir = makeHdf5Fixtures();
  scratch = join(fixtures.dir, 'scratch');
});
afterAll(async () => {
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
  removeFixtures(hdf5Dir);
  console.log(`reference fuzz outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}; rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
});

/** Runs `work` with a deadline; it must resolve or reject with ReferenceFormatError. */
async function expectCleanOutcome(what: string, work: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${DEADLINE_MS} ms (a hang)`)), DEADLINE_MS);
  });
  try {
    await Promise.race([work(), deadline]);
    count(`${what}: ok`);
  } catch (error) {
    if (!(error instanceof ReferenceFormatError)) {
      throw new Error(`${what}: threw ${(error as Error).name}: ${(error as Error).message}\n${(error as Error).stack}`);
    }
    count(`${what}: ReferenceFormatError`);
  } finally {
    clearTimeout(timer);
    // names from the table never reach a prototype
    if ('polluted' in Object.prototype || typeof Object.prototype.hasOwnProperty !== 'function') throw new Error(`${what}: Object.prototype was changed`);
  }
}

function count(outcome: string): void {
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
}

/** Everything a server asks of a store: every chunk key of every array, and every url. */
async function exercise(store: ReferenceStore): Promise<void> {
  try {
    for await (const url of store.urls()) void url;
    for (const [array, grid] of parquetArrayGrids(store.metadata, 'fuzz')) {
      const n = Math.min(grid.size, 200);
      for (let i = 0; i < n; i++) await store.chunk(`${array}/${grid.suffixOf(i)}`);
    }
  } finally {
    await store.close();
  }
}

const memoryBefore = () => process.memoryUsage().rss;

// ---- JSON reference tables ---------------------------------------------------------------------

const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(-1, -1e300, 1e300, 2 ** 53 + 2, 0.5, NaN, '', 'base64:!!!', 'base64:', '{{u}}', '{{ 1/0 }}', '{{ u ~ u }}', [], [null], ['x', -1, 10], ['x', 0, -5], ['x', 0]),
);

/** Mutations of a parsed table (applied to a copy). */
type Mutation = (table: Record<string, unknown>) => void;
/** The object holding the references (v1 `refs`, or the table itself for v0), if still an object. */
const refsOf = (t: Record<string, unknown>): Record<string, unknown> => {
  const refs = 'refs' in t ? t.refs : t;
  return refs !== null && typeof refs === 'object' && !Array.isArray(refs) ? (refs as Record<string, unknown>) : {};
};
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), jsonValue).map(
    ([i, v]): Mutation =>
      (t) => {
        const refs = refsOf(t);
        const keys = Object.keys(refs);
        if (keys.length) refs[keys[i % keys.length]!] = v;
      },
  ),
  fc.tuple(fc.constantFrom('version', 'templates', 'gen', 'refs'), jsonValue).map(
    ([k, v]): Mutation =>
      (t) => {
        t[k] = v;
      },
  ),
  fc.constantFrom<Mutation>(
    (t) => {
      t.templates = { u: '{{u}}', v: '{{w}}', w: '{{v}}' }; // cyclic templates
    },
    (t) => {
      t.version = 1;
      t.refs = 'refs' in t ? refsOf(t) : {};
      t.gen = [{ key: 'v/{{i}}.{{j}}', url: 'x', dimensions: { i: { stop: 100000 }, j: { stop: 100000 } } }]; // 10^10 keys
    },
    (t) => {
      t.version = 1;
      t.refs = 'refs' in t ? refsOf(t) : {};
      t.gen = [{ key: 'v/{{i}}', url: '{{ ' + '('.repeat(20000) + 'i' + ')'.repeat(20000) + ' }}', dimensions: { i: [1] } }];
    },
    (t) => {
      t.version = 1;
      t.refs = 'refs' in t ? refsOf(t) : {};
      t.gen = [{ key: 'v/{{i}}', url: 'x', offset: '{{ -i }}', length: '{{ i * -1 }}', dimensions: { i: { start: 1, stop: 3 } } }];
    },
    (t) => {
      t.version = 1;
      t.refs = 'refs' in t ? refsOf(t) : {};
      t.gen = [{ key: 'v/{{i}}', url: 'x', offset: '{{ 2 ** 2000 }}', length: '{{ 9 ** 99 ** 99 }}', dimensions: { i: [0] } }];
    },
    (t) => {
      t.version = 1;
      t.refs = 'refs' in t ? refsOf(t) : {};
      t.templates = { u: 'x'.repeat(1000) };
      t.gen = [{ key: 'v/{{i}}', url: '{{u ~ u ~ u ~ u}}', dimensions: { i: { stop: 1000 } } }];
    },
    (t) => {
      const refs = refsOf(t);
      for (const key of Object.keys(refs))
        if (key.endsWith('.zarray'))
          refs[key] = JSON.stringify({ zarr_format: 2, shape: [2 ** 53], chunks: [1], dtype: '<f4', compressor: null, filters: null, fill_value: 0, order: 'C' });
    },
    (t) => {
      const refs = refsOf(t);
      for (const key of Object.keys(refs))
        if (key.endsWith('.zarray'))
          refs[key] = JSON.stringify({ zarr_format: 2, shape: [10, -1], chunks: [0, 1e9], dtype: 'nope', compressor: 7, filters: {}, fill_value: 'x', order: 'Q' });
    },
    (t) => {
      const refs = refsOf(t);
      refs['.zmetadata'] = '{"metadata": {"a/.zarray": "{"}}';
    },
    // names that mean something to JavaScript objects, as array, attribute, template and gen names
    (t) => {
      const refs = refsOf(t);
      for (const key of Object.keys(refs)) {
        const slash = key.indexOf('/');
        if (slash > 0) refs[`__proto__${key.slice(slash)}`] = refs[key];
      }
    },
    (t) => {
      const refs = refsOf(t);
      for (const key of Object.keys(refs)) if (key.endsWith('.zattrs')) refs[key] = '{"__proto__": {"polluted": 1}, "constructor": "x", "_ARRAY_DIMENSIONS": ["__proto__"]}';
    },
    (t) => {
      t.version = 1;
      t.refs = 'refs' in t ? refsOf(t) : {};
      t.templates = JSON.parse('{"__proto__": "data/x.nc", "constructor": "y"}') as unknown;
      t.gen = JSON.parse('[{"key": "v/{{__proto__}}", "url": "{{constructor}}", "dimensions": {"__proto__": {"stop": 3}}}]') as unknown;
    },
    // a chunk declared huge behind a tiny stored one (decoders must refuse, not allocate)
    (t) => {
      const refs = refsOf(t);
      for (const key of Object.keys(refs))
        if (key.endsWith('.zarray'))
          refs[key] = JSON.stringify({
            zarr_format: 2,
            shape: [2 ** 31],
            chunks: [2 ** 31],
            dtype: '<f8',
            compressor: { id: 'zstd', level: 1 },
            filters: null,
            fill_value: 0,
            order: 'C',
          });
    },
  ),
);

const jsonCase = fc.record({
  table: fc.constantFrom('basic.json', 'refs/templated.json', 'data/generated.json', 'refs/combined.json'),
  mutations: fc.array(mutation, { maxLength: 3 }),
  truncateAt: fc.option(
    fc.integer({ min: 0, max: 999 }).map((n) => n / 1000),
    { nil: undefined },
  ),
});

// ---- binary files ------------------------------------------------------------------------------

/** A uniform fraction in [0, 1) (fc.double favours extremes: truncation would nearly always cut at 0). */
const fraction = fc.integer({ min: 0, max: 999_999 }).map((n) => n / 1_000_000);
const damage = fc.record({
  truncateAt: fc.option(fraction, { nil: undefined, freq: 3 }),
  flips: fc.array(fc.tuple(fraction, fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
  /** Flips concentrated in the first 4 KiB, where superblocks, headers and B-tree roots live. */
  headFlips: fc.array(fc.tuple(fc.nat({ max: 4095 }), fc.integer({ min: 1, max: 255 })), { maxLength: 2 }),
});
type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

function damaged(bytes: Uint8Array, d: Damage): Uint8Array {
  const out = Uint8Array.from(d.truncateAt === undefined ? bytes : bytes.subarray(0, Math.floor(bytes.length * d.truncateAt)));
  for (const [at, xor] of d.flips) if (out.length) out[Math.floor(at * out.length)]! ^= xor;
  for (const [at, xor] of d.headFlips) if (at < out.length) out[at]! ^= xor;
  return out;
}

describe('fuzzed reference files', { timeout: 600_000 }, () => {
  it('JSON tables: truncated, wrong types, negative offsets, cyclic templates, huge gen', async () => {
    const rssBefore = memoryBefore();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(jsonCase, async (c) => {
        const original = await readFile(join(fixtures.dir, c.table), 'utf8');
        const table = JSON.parse(original) as Record<string, unknown>;
        for (const mutate of c.mutations) mutate(table);
        let text = JSON.stringify(table);
        if (c.truncateAt !== undefined) text = text.slice(0, Math.floor(text.length * c.truncateAt));
        n++;
        if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `${n} ${c.table} ${c.mutations.map(String).join(' | ').slice(0, 300)} trunc=${c.truncateAt}\n`);
        await expectCleanOutcome('json', async () => exercise(parseJsonReferences(text, c.table)));
      }),
      { seed: SEED, numRuns: 400, endOnFailure: true },
    );
    const grown = (memoryBefore() - rssBefore) / 2 ** 20;
    console.log(`json tables: ${n} cases, rss grew ${grown.toFixed(0)} MiB`);
    expect(grown).toBeLessThan(512);
  });

  it('parquet reference sets: truncated or flipped record files, wrong record_size', async () => {
    const rssBefore = memoryBefore();
    const sets = fixtures.datasets.filter((d) => d.format === 'parquet').map((d) => d.refs);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.record({ set: fc.constantFrom(...sets), victim: fc.nat(), damage, recordSize: fc.option(jsonValue, { nil: undefined, freq: 4 }) }), async (c) => {
        const dir = join(scratch, `parq-${n++}`);
        await cp(join(fixtures.dir, c.set), dir, { recursive: true });
        const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.parq'));
        const victim = join(dir, files[c.victim % files.length]!);
        await writeFile(victim, damaged(await readFile(victim), c.damage));
        if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `parquet ${n} ${victim} ${JSON.stringify(c)}\n`);
        if (c.recordSize !== undefined) {
          const zmetadata = JSON.parse(await readFile(join(dir, '.zmetadata'), 'utf8')) as Record<string, unknown>;
          zmetadata.record_size = c.recordSize;
          await writeFile(join(dir, '.zmetadata'), JSON.stringify(zmetadata));
        }
        try {
          await expectCleanOutcome('parquet', async () => exercise(await openParquetReferences(dir)));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }),
      { seed: SEED, numRuns: 120, endOnFailure: true },
    );
    const grown = (memoryBefore() - rssBefore) / 2 ** 20;
    console.log(`parquet sets: ${n} cases, rss grew ${grown.toFixed(0)} MiB`);
    expect(grown).toBeLessThan(512);
  });

  it('HDF5 / NetCDF files: truncated at random offsets, random bytes flipped, scanned', async () => {
    const rssBefore = memoryBefore();
    const names = (await readdir(hdf5Dir)).filter((f) => /\.(nc|h5)$/.test(f) && !f.startsWith('big'));
    const fixtureFiles = fixtures.datasets.flatMap((d) => d.files);
    const sources = [...names.map((f) => join(hdf5Dir, f)), ...new Set(fixtureFiles)];
    const contents = new Map(await Promise.all(sources.map(async (f) => [f, await readFile(f)] as const)));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.record({ file: fc.constantFrom(...sources), damage }), async (c) => {
        const path = join(fixtures.dir, `scan-${n++}.nc`);
        await writeFile(path, damaged(contents.get(c.file)!, c.damage));
        if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `scan ${n} ${c.file} ${JSON.stringify(c.damage)}\n`);
        try {
          await expectCleanOutcome('scan', () => scanFile(path));
        } finally {
          await rm(path, { force: true });
        }
      }),
      { seed: SEED, numRuns: 600, endOnFailure: true },
    );
    const grown = (memoryBefore() - rssBefore) / 2 ** 20;
    console.log(`scanned files: ${n} cases over ${sources.length} originals, rss grew ${grown.toFixed(0)} MiB`);
    expect(grown).toBeLessThan(512);
  });
});
