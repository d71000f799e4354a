import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkGrid } from './chunk-grid.js';
import { openParquetReferences, type ParquetReferenceStore, recordFilePath } from './parquet-references.js';
import { writeParquetReferences } from './parquet-writer.js';
import { type ChunkReference, type JsonValue, ReferenceFormatError } from './reference.js';

const FIXTURE = fileURLToPath(new URL('../../shared/fixtures/kerchunk-wrf-combined.parq', import.meta.url));

interface Row {
  path: string | null;
  offset: bigint | number;
  size: bigint | number;
  raw: Uint8Array | null;
}

/** The rows of a record file, read straight with hyparquet. */
async function readRows(file: string): Promise<Row[]> {
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return (await parquetReadObjects({ file: buffer, compressors, utf8: false })) as Row[];
}

/** What a row means, by the fsspec rules, written out independently of the store. */
function expectedReference(row: Row | undefined): ChunkReference | undefined {
  if (row === undefined) return undefined;
  if (row.raw !== null) return { kind: 'inline', data: row.raw };
  if (row.path === null) return undefined;
  const offset = Number(row.offset);
  const length = Number(row.size);
  if (offset === 0 && length === 0) return { kind: 'whole', url: row.path };
  return { kind: 'range', url: row.path, offset, length };
}

/** A writable copy of a reference set directory (the shared fixture is read-only). */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.isDirectory()) await copyTree(join(from, entry.name), join(to, entry.name));
    else await writeFile(join(to, entry.name), await readFile(join(from, entry.name)));
  }
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const items: string[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function zarray(shape: number[], chunks: number[]): JsonValue {
  return { zarr_format: 2, shape, chunks, dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' };
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'strato-parquet-refs-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('the fsspec-written fixture', () => {
  let store: ParquetReferenceStore;
  let zmetadata: { metadata: Record<string, unknown>; record_size: number };
  beforeAll(async () => {
    store = await openParquetReferences(FIXTURE);
    zmetadata = JSON.parse(await readFile(join(FIXTURE, '.zmetadata'), 'utf8'));
  });
  afterAll(async () => {
    await store.close();
  });

  it('lists the metadata documents of .zmetadata, parsed and as written', () => {
    expect(store.recordSize).toBe(1000);
    expect([...store.metadata.keys()]).toEqual(Object.keys(zmetadata.metadata));
    expect([...store.metadataText.keys()]).toEqual(Object.keys(zmetadata.metadata));
    expect(store.metadata.get('T2/.zarray')).toEqual(zmetadata.metadata['T2/.zarray']);
    expect(JSON.parse(store.metadataText.get('T2/.zattrs') as string)).toEqual(zmetadata.metadata['T2/.zattrs']);
    // The text is the table's own: floats keep their written form.
    expect(store.metadataText.get('.zattrs')).toContain('"DX":4000.0,');
  });

  it('maps T2/1.0.0 to row 1 of T2/refs.0.parq', async () => {
    const rows = await readRows(join(FIXTURE, 'T2', 'refs.0.parq'));
    const reference = await store.chunk('T2/1.0.0');
    expect(reference).toEqual(expectedReference(rows[1]));
    expect(reference?.kind).toBe('range');
  });

  it('answers every chunk of every array as its record row says', async () => {
    let checked = 0;
    for (const key of store.metadata.keys()) {
      if (!key.endsWith('/.zarray')) continue;
      const array = key.slice(0, -'/.zarray'.length);
      const { shape, chunks } = store.metadata.get(key) as { shape: number[]; chunks: number[] };
      const grid = new ChunkGrid(shape, chunks);
      const rows = await readRows(join(FIXTURE, array, 'refs.0.parq'));
      expect(rows).toHaveLength(1000); // fsspec pads every record to record_size
      for (let index = 0; index < grid.size; index++) {
        expect(await store.chunk(`${array}/${grid.suffixOf(index)}`)).toEqual(expectedReference(rows[index]));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('returns inline chunks (coordinate values kerchunk inlined) as bytes', async () => {
    const time = await store.chunk('time/0');
    expect(time?.kind).toBe('inline');
    expect(time?.kind === 'inline' && [...time.data]).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
    const lambert = await store.chunk('Lambert_Conformal/1');
    expect(lambert?.kind === 'inline' && [...lambert.data]).toEqual([0, 0, 192, 127]);
  });

  it('answers undefined for keys that name no chunk', async () => {
    const keys = [
      'T2/2.0.0',
      'T2/0.1.0',
      'T2/0.0.1',
      'T2/0.0',
      'T2/0.0.0.0',
      'T2/a.0.0',
      'T2/-1.0.0',
      'T2/01.0.0',
      'T2/0/0/0',
      'x/1',
      'time/2',
      'unknown/0',
      'T2/.zarray',
      '.zgroup',
      '../T2/0.0.0',
      'T2/../T2/0.0.0',
      'T2',
      '',
      '/T2/0.0.0',
    ];
    for (const key of keys) expect(await store.chunk(key), key).toBeUndefined();
  });

  it('lists the distinct urls of all records', async () => {
    const expected = new Set<string>();
    for (const entry of await readdir(FIXTURE, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      for (const row of await readRows(join(FIXTURE, entry.name, 'refs.0.parq'))) if (row.path !== null && row.raw === null) expected.add(row.path);
    }
    const urls = await collect(store.urls());
    expect(urls).toHaveLength(new Set(urls).size);
    expect(new Set(urls)).toEqual(expected);
    expect(urls.every((url) => url.startsWith('s3://'))).toBe(true);
  });

  it('loads a record once for concurrent requests', async () => {
    const fresh = await openParquetReferences(FIXTURE);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => fresh.chunk(`PP/${i % 2}.0.0`)));
    expect(answers.every((answer) => answer?.kind === 'range')).toBe(true);
    expect(fresh.cacheStats()).toMatchObject({ loads: 1, records: 1 });
    await fresh.chunk('PP/1.0.0');
    expect(fresh.cacheStats().loads).toBe(1);
  });
});

describe('record files that are not there', () => {
  it('hold only missing chunks, as in fsspec', async () => {
    const dir = join(scratch, 'missing-record');
    await copyTree(FIXTURE, dir);
    await rm(join(dir, 'T2', 'refs.0.parq'));
    await rm(join(dir, 'PP'), { recursive: true });
    const store = await openParquetReferences(dir);
    expect(await store.chunk('T2/0.0.0')).toBeUndefined();
    expect(await store.chunk('PP/1.0.0')).toBeUndefined();
    expect((await store.chunk('HR2/1.0.0'))?.kind).toBe('range');
    expect((await collect(store.urls())).length).toBeGreaterThan(0);
  });
});

describe('.zmetadata variants', () => {
  it('accepts documents written as JSON strings', async () => {
    const dir = join(scratch, 'string-documents');
    await copyTree(FIXTURE, dir);
    const original = JSON.parse(await readFile(join(dir, '.zmetadata'), 'utf8'));
    const metadata = Object.fromEntries(Object.entries(original.metadata).map(([key, value]) => [key, JSON.stringify(value)]));
    metadata['T2/.zattrs'] = '{"units": "K", "valid_min": 150.0}';
    await writeFile(join(dir, '.zmetadata'), JSON.stringify({ metadata, record_size: 1000 }));
    const store = await openParquetReferences(dir);
    expect(store.metadata.get('T2/.zarray')).toEqual(original.metadata['T2/.zarray']);
    expect(store.metadata.get('T2/.zattrs')).toEqual({ units: 'K', valid_min: 150 });
    expect(store.metadataText.get('T2/.zattrs')).toBe('{"units": "K", "valid_min": 150.0}');
    expect((await store.chunk('T2/1.0.0'))?.kind).toBe('range');
  });
});

describe('malformed reference sets', () => {
  async function fixtureCopy(name: string): Promise<string> {
    const dir = join(scratch, name);
    await copyTree(FIXTURE, dir);
    return dir;
  }

  async function withZmetadata(name: string, text: string): Promise<string> {
    const dir = join(scratch, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '.zmetadata'), text);
    return dir;
  }

  async function rejection(promise: Promise<unknown>): Promise<Error> {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ReferenceFormatError);
    return error as Error;
  }

  it('reports a missing or unreadable .zmetadata', async () => {
    const error = await rejection(openParquetReferences(join(scratch, 'nothing-here')));
    expect(error.message).toMatch(/cannot read .*nothing-here.*\.zmetadata/);
  });

  it('reports .zmetadata that is not JSON', async () => {
    const error = await rejection(openParquetReferences(await withZmetadata('bad-json', '{"metadata": {')));
    expect(error.message).toMatch(/bad-json.*\.zmetadata is not valid JSON/);
  });

  it('reports a wrong or absent record_size', async () => {
    for (const [name, recordSize] of [
      ['no-size', undefined],
      ['zero-size', 0],
      ['text-size', '1000'],
      ['fraction-size', 2.5],
    ] as const) {
      const dir = await withZmetadata(name, JSON.stringify({ metadata: {}, record_size: recordSize }));
      const error = await rejection(openParquetReferences(dir));
      expect(error.message).toMatch(new RegExp(`${name}.*record_size`));
    }
  });

  it('reports a missing metadata object and documents that are not objects', async () => {
    expect((await rejection(openParquetReferences(await withZmetadata('no-metadata', '{"record_size": 10}')))).message).toMatch(/"metadata" object/);
    const scalar = await withZmetadata('scalar-doc', JSON.stringify({ metadata: { '.zgroup': 2 }, record_size: 10 }));
    expect((await rejection(openParquetReferences(scalar))).message).toMatch(/"\.zgroup" must be a JSON object/);
    const text = await withZmetadata('text-doc', JSON.stringify({ metadata: { '.zgroup': '{zarr' }, record_size: 10 }));
    expect((await rejection(openParquetReferences(text))).message).toMatch(/"\.zgroup" is a string that is not JSON/);
  });

  it('reports unusable .zarray documents and array paths', async () => {
    const bad = await withZmetadata('bad-zarray', JSON.stringify({ metadata: { 'v/.zarray': { zarr_format: 2, shape: [4] } }, record_size: 10 }));
    expect((await rejection(openParquetReferences(bad))).message).toMatch(/"v\/\.zarray" needs "chunks"/);
    const escape = await withZmetadata('escape', JSON.stringify({ metadata: { '../outside/.zarray': zarray([4], [2]) }, record_size: 10 }));
    expect((await rejection(openParquetReferences(escape))).message).toMatch(/array path "\.\.\/outside" is unusable/);
  });

  it('reports a truncated record file when a chunk of it is asked for', async () => {
    const dir = await fixtureCopy('truncated');
    const file = join(dir, 'T2', 'refs.0.parq');
    await truncate(file, 700);
    const store = await openParquetReferences(dir);
    const error = await rejection(store.chunk('T2/0.0.0'));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not a readable parquet file/);
    expect((await store.chunk('PP/0.0.0'))?.kind).toBe('range'); // other records still answer
    await rejection(collect(store.urls()));
  });

  it('reports a record file that is not parquet', async () => {
    const dir = await fixtureCopy('not-parquet');
    await writeFile(join(dir, 'T2', 'refs.0.parq'), 'path,offset,size\nfile.nc,0,10\n');
    const error = await rejection((await openParquetReferences(dir)).chunk('T2/1.0.0'));
    expect(error.message).toMatch(/T2.refs\.0\.parq is not a readable parquet file/);
  });

  it('reports a record with more rows than record_size', async () => {
    const dir = await fixtureCopy('small-record-size');
    const original = JSON.parse(await readFile(join(dir, '.zmetadata'), 'utf8'));
    await writeFile(join(dir, '.zmetadata'), JSON.stringify({ ...original, record_size: 500 }));
    const error = await rejection((await openParquetReferences(dir)).chunk('T2/1.0.0'));
    expect(error.message).toMatch(/T2.refs\.0\.parq has 1000 rows, more than the record_size 500/);
  });

  describe('record files with the wrong columns', () => {
    const metadata = JSON.stringify({ metadata: { 'v/.zarray': zarray([4], [2]) }, record_size: 2 });

    async function setWith(name: string, columns: Parameters<typeof parquetWriteBuffer>[0]['columnData']): Promise<ParquetReferenceStore> {
      const dir = await withZmetadata(name, metadata);
      await mkdir(join(dir, 'v'), { recursive: true });
      await writeFile(recordFilePath(dir, 'v', 0), new Uint8Array(parquetWriteBuffer({ columnData: columns })));
      return openParquetReferences(dir);
    }

    it('needs offset and size beside path', async () => {
      const store = await setWith('no-size', [
        { name: 'path', data: ['a.nc', 'b.nc'], type: 'STRING' },
        { name: 'offset', data: [1n, 2n], type: 'INT64' },
      ]);
      expect((await rejection(store.chunk('v/0'))).message).toMatch(/v.refs\.0\.parq has a "path" column but no "size" column \(columns: path, offset\)/);
    });

    it('needs a path or a raw column', async () => {
      const store = await setWith('no-columns', [{ name: 'key', data: ['v/0', 'v/1'], type: 'STRING' }]);
      expect((await rejection(store.chunk('v/1'))).message).toMatch(/has neither a "path" nor a "raw" column \(columns: key\)/);
    });

    it('needs integer offsets', async () => {
      const store = await setWith('text-offsets', [
        { name: 'path', data: ['a.nc', 'b.nc'], type: 'STRING' },
        { name: 'offset', data: ['1', '2'], type: 'STRING' },
        { name: 'size', data: [1n, 2n], type: 'INT64' },
      ]);
      expect((await rejection(store.chunk('v/0'))).message).toMatch(/column "offset" has type BYTE_ARRAY, expected INT64/);
    });

    it('rejects negative offsets, naming the row', async () => {
      const store = await setWith('negative', [
        { name: 'path', data: ['a.nc', 'b.nc'], type: 'STRING' },
        { name: 'offset', data: [1n, -2n], type: 'INT64' },
        { name: 'size', data: [1n, 2n], type: 'INT64' },
      ]);
      expect((await rejection(store.chunk('v/0'))).message).toMatch(/row 1 has a path but offset -2/);
    });

    it('reads records shorter than record_size: the rows past the end are missing chunks', async () => {
      const store = await setWith('short', [
        { name: 'path', data: ['a.nc'], type: 'STRING' },
        { name: 'offset', data: [0n], type: 'INT64' },
        { name: 'size', data: [0n], type: 'INT64' },
      ]);
      expect(await store.chunk('v/0')).toEqual({ kind: 'whole', url: 'a.nc' });
      expect(await store.chunk('v/1')).toBeUndefined();
    });

    it('reads raw-only records and INT32 offsets, which older writers made', async () => {
      const raw = await setWith('raw-only', [{ name: 'raw', data: [new Uint8Array([1, 2]), null], type: 'BYTE_ARRAY' }]);
      expect(await raw.chunk('v/0')).toEqual({ kind: 'inline', data: new Uint8Array([1, 2]) });
      expect(await raw.chunk('v/1')).toBeUndefined();
      const int32 = await setWith('int32', [
        { name: 'path', data: ['a.nc', null], type: 'STRING' },
        { name: 'offset', data: [10, 0], type: 'INT32' },
        { name: 'size', data: [5, 0], type: 'INT32' },
      ]);
      expect(await int32.chunk('v/0')).toEqual({ kind: 'range', url: 'a.nc', offset: 10, length: 5 });
      expect(await int32.chunk('v/1')).toBeUndefined();
    });
  });
});

describe('the record cache', () => {
  it('stays within its byte bound while reading across many records', async () => {
    const dir = join(scratch, 'many-records');
    const chunks = new Map<string, ChunkReference>();
    const grid = new ChunkGrid([60, 100], [1, 1]);
    for (let index = 0; index < grid.size; index++) {
      chunks.set(`v/${grid.suffixOf(index)}`, { kind: 'range', url: `data/file-${Math.floor(index / 7)}.nc`, offset: index * 100, length: 100 });
    }
    await writeParquetReferences(dir, { metadata: new Map([['v/.zarray', zarray([60, 100], [1, 1])]]), chunks }, { recordSize: 100 });

    const cacheBytes = 20_000;
    const store = await openParquetReferences(dir, { cacheBytes });
    let peak = 0;
    for (let row = 0; row < 60; row++) {
      for (const column of [0, 57, 99]) {
        const key = `v/${row}.${column}`;
        expect(await store.chunk(key)).toEqual(chunks.get(key));
        const stats = store.cacheStats();
        expect(stats.bytes).toBeLessThanOrEqual(cacheBytes);
        peak = Math.max(peak, stats.bytes);
      }
    }
    const stats = store.cacheStats();
    expect(stats.maxBytes).toBe(cacheBytes);
    expect(stats.loads).toBe(60); // one load per record: the three lookups in a row hit the cache
    expect(stats.records).toBeGreaterThan(1);
    expect(stats.records).toBeLessThan(60);
    expect(peak).toBeGreaterThan(cacheBytes / 2);

    // Going back to the first record reloads it: it was evicted.
    await store.chunk('v/0.0');
    expect(store.cacheStats().loads).toBe(61);
    await store.close();
    expect(store.cacheStats()).toMatchObject({ bytes: 0, records: 0 });
  });

  it('holds a record of range chunks in about 10 bytes a row, and widens its columns only where values need it', async () => {
    const rows = 100_000;
    const metadata = new Map([['v/.zarray', zarray([rows], [1])]]);
    // One file under 4 GiB (the usual case): 8-bit path ids, 32-bit offsets and sizes.
    const narrow = join(scratch, 'narrow-record');
    await writeParquetReferences(
      narrow,
      { metadata, chunks: { reference: (_, index) => ({ kind: 'range', url: 'data/one.nc', offset: 512 + index * 3000, length: 3000 }) } },
      { recordSize: rows },
    );
    const store = await openParquetReferences(narrow);
    expect(await store.chunk('v/99999')).toEqual({ kind: 'range', url: 'data/one.nc', offset: 512 + 99_999 * 3000, length: 3000 });
    // One key reads one piece of the record, not the record.
    expect(store.cacheStats()).toMatchObject({ records: 1, loads: 1 });
    expect(store.cacheStats().bytes).toBeLessThan(40_000);
    for (let index = 0; index < rows; index += 997) await store.chunk(`v/${index}`);
    expect(store.cacheStats().loads).toBe(10 * Math.ceil(10_000 / 1024)); // row groups of 10 000 rows, pieces of 1024
    expect(store.cacheStats().bytes / rows).toBeLessThan(11); // 10 bytes a row, and each piece's own few hundred

    // 300 files, offsets past 4 GiB: wider columns, the same answers.
    const wide = join(scratch, 'wide-record');
    const reference = (index: number): ChunkReference => ({ kind: 'range', url: `data/file-${index % 300}.nc`, offset: 2 ** 33 + index * 7, length: 7 + (index % 5) });
    await writeParquetReferences(wide, { metadata, chunks: { reference: (_, index) => reference(index) } }, { recordSize: rows });
    const wideStore = await openParquetReferences(wide);
    for (let index = 0; index < rows; index += 997) expect(await wideStore.chunk(`v/${index}`), `v/${index}`).toEqual(reference(index));
    for (const index of [0, 1, 255, 256, 299, 300, 54_321, 99_999]) expect(await wideStore.chunk(`v/${index}`), `v/${index}`).toEqual(reference(index));
    expect(wideStore.cacheStats().bytes / rows).toBeGreaterThan(15);
  });

  it('serves a million chunks in ten records with random lookups', async () => {
    const dir = join(scratch, 'million');
    const count = 1_000_000;
    const shape = [100, 100, 100];
    const grid = new ChunkGrid(shape, [1, 1, 1]);
    const referenceOf = (index: number): ChunkReference | undefined => {
      if (index % 1000 === 999) return undefined;
      if (index % 5000 === 1) return { kind: 'inline', data: new Uint8Array([index % 256, 0xff]) };
      return { kind: 'range', url: `s3://bucket/run/file-${Math.floor(index / 500)}.nc`, offset: 4096 + index * 1000, length: 1000 };
    };
    const chunks = new Map<string, ChunkReference>();
    for (let index = 0; index < count; index++) {
      const reference = referenceOf(index);
      if (reference !== undefined) chunks.set(`t/${grid.suffixOf(index)}`, reference);
    }
    const started = performance.now();
    const summary = await writeParquetReferences(dir, { metadata: new Map([['t/.zarray', zarray(shape, [1, 1, 1])]]), chunks }, { recordSize: 100_000 });
    const written = performance.now();
    expect(summary.recordFiles).toBe(10);

    const store = await openParquetReferences(dir);
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pieces = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const index = Math.floor(random() * count);
      pieces.add(`${Math.floor(index / 10_000)}:${Math.floor((index % 10_000) / 1024)}`); // pieces of 1024 rows in row groups of 10 000
      expect(await store.chunk(`t/${grid.suffixOf(index)}`)).toEqual(referenceOf(index));
    }
    const stats = store.cacheStats();
    expect(stats.loads).toBe(pieces.size); // each piece of 1024 rows read once, never a whole record
    expect(stats.bytes).toBeLessThanOrEqual(stats.maxBytes);
    console.info(
      `1M chunks: write ${(written - started).toFixed(0)} ms, open + 2000 random lookups ${(performance.now() - written).toFixed(0)} ms, ` +
        `cache ${(stats.bytes / 2 ** 20).toFixed(1)} MiB in ${stats.records} pieces`,
    );
  });
});

describe('F10: a sparse set declaring 10^12 records', () => {
  /** shape 1e12, chunks 1, record_size 1: 10^12 records declared, `present` of them on disk. */
  async function sparseSet(name: string, present: readonly number[]): Promise<string> {
    const dir = join(scratch, name);
    await mkdir(join(dir, 'v'), { recursive: true });
    const metadata = { '.zgroup': { zarr_format: 2 }, 'v/.zarray': zarray([1e12], [1]), 'v/.zattrs': { _ARRAY_DIMENSIONS: ['x'] } };
    await writeFile(join(dir, '.zmetadata'), JSON.stringify({ metadata, record_size: 1, zarr_consolidated_format: 1 }));
    for (const record of present) {
      const columnData = [
        { name: 'path', data: [`data/file-${record}.nc`], type: 'STRING' as const },
        { name: 'offset', data: [BigInt(record)], type: 'INT64' as const },
        { name: 'size', data: [10n], type: 'INT64' as const },
      ];
      await writeFile(recordFilePath(dir, 'v', record), new Uint8Array(parquetWriteBuffer({ columnData })));
    }
    // Files that are not records of this grid: never read.
    await writeFile(join(dir, 'v', 'refs.01.parq'), 'not a record name');
    await writeFile(join(dir, 'v', 'refs.1000000000000.parq'), 'past the grid');
    await writeFile(join(dir, 'v', 'notes.txt'), 'hello');
    return dir;
  }

  it('opens, answers chunks and lists its urls in well under a second', async () => {
    const dir = await sparseSet('sparse-1e12', [0, 7, 999_999_999_999]);
    const started = performance.now();
    const store = await openParquetReferences(dir);
    expect(await store.chunk('v/7')).toEqual({ kind: 'range', url: 'data/file-7.nc', offset: 7, length: 10 });
    expect(await store.chunk('v/8')).toBeUndefined();
    expect(await store.chunk('v/999999999999')).toMatchObject({ url: 'data/file-999999999999.nc' });
    const urls = await collect(store.urls());
    const elapsed = performance.now() - started;
    expect(urls).toEqual(['data/file-0.nc', 'data/file-7.nc', 'data/file-999999999999.nc']);
    expect(elapsed).toBeLessThan(1000);
    await store.close();
  });

  it('lists nothing for an array without a directory', async () => {
    const dir = await sparseSet('sparse-no-dir', []);
    await rm(join(dir, 'v'), { recursive: true });
    const store = await openParquetReferences(dir);
    expect(await collect(store.urls())).toEqual([]);
  });

  it('stops listing when the signal aborts, and lets timers run meanwhile', async () => {
    const dir = await sparseSet(
      'sparse-abort',
      Array.from({ length: 40 }, (_, i) => i * 1000),
    );
    const store = await openParquetReferences(dir);
    const controller = new AbortController();
    const seen: string[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      for await (const url of store.urls({ signal: controller.signal })) {
        seen.push(url);
        if (seen.length === 3) controller.abort(new Error('client left'));
      }
      expect.unreachable('the listing should have stopped');
    } catch (error) {
      expect((error as Error).message).toBe('client left');
    } finally {
      clearInterval(timer);
    }
    expect(seen).toHaveLength(3);
    expect(ticks).toBeGreaterThan(0);
  });
});
