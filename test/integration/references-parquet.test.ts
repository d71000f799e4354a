import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkGrid } from '../../kerchunk/chunk-grid.js';
import { openParquetReferences, recordFilePath } from '../../kerchunk/parquet-references.js';
import { writeParquetReferences } from '../../kerchunk/parquet-writer.js';
import { PARQUET_RECORD_SIZE } from '../../views/reference-parquet.js';
import { makeGridCatalog } from '../helpers/grid-fixture.js';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';
import { repoRoot } from '../helpers/server.js';

/**
 * `GET /datasets/{id}/references.parq/…`: the kerchunk table as an fsspec parquet reference set,
 * made file by file. Debian has neither pyarrow nor fastparquet (fsspec cannot read parquet
 * here), so the set is downloaded into a directory and read back with strato's own parquet
 * reader (kerchunk/parquet-references.ts, the LazyReferenceMapper layout) and with hyparquet.
 */
let app: InProcessApp;
let scratch: string;
beforeAll(async () => {
  app = await openApp(`${repoRoot}demo/catalog.yaml`);
  scratch = await mkdtemp(join(tmpdir(), 'strato-refs-parq-'));
});
afterAll(async () => {
  await app.close();
  await rm(scratch, { recursive: true, force: true });
});

interface Zmetadata {
  metadata: Record<string, { shape?: number[]; chunks?: number[]; dimension_separator?: '.' | '/' }>;
  record_size: number;
}

async function ok(target: InProcessApp, path: string): Promise<Response> {
  const response = await target.request(path);
  expect(response.status, path).toBe(200);
  return response;
}

/** Downloads the whole set of `id` into `dir`; the grids of its arrays. */
async function download(target: InProcessApp, id: string, dir: string): Promise<Map<string, ChunkGrid>> {
  const base = `/datasets/${encodeURIComponent(id)}/references.parq`;
  const text = await (await ok(target, `${base}/.zmetadata`)).text();
  const zmetadata = JSON.parse(text) as Zmetadata;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, '.zmetadata'), text);
  const grids = new Map<string, ChunkGrid>();
  for (const [key, document] of Object.entries(zmetadata.metadata)) {
    if (!key.endsWith('/.zarray')) continue;
    const array = key.slice(0, -'/.zarray'.length);
    const grid = new ChunkGrid(document.shape as number[], document.chunks as number[], document.dimension_separator ?? '.');
    grids.set(array, grid);
    for (let record = 0; record * zmetadata.record_size < grid.size; record++) {
      const response = await ok(target, `${base}/${array.split('/').map(encodeURIComponent).join('/')}/refs.${record}.parq`);
      expect(response.headers.get('content-type')).toBe('application/vnd.apache.parquet');
      const file = recordFilePath(dir, array, record);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, new Uint8Array(await response.arrayBuffer()));
    }
  }
  return grids;
}

/** Every chunk of the set read back (strato's parquet reader) equals the raw view's bytes; missing ⇔ 404. */
async function expectSameChunks(target: InProcessApp, id: string, dir: string, grids: Map<string, ChunkGrid>): Promise<number> {
  const store = await openParquetReferences(dir);
  let served = 0;
  try {
    for (const [array, grid] of grids) {
      for (let index = 0; index < grid.size; index++) {
        const key = `${array}/${grid.suffixOf(index)}`;
        const raw = await target.request(`/datasets/${encodeURIComponent(id)}/kerchunk/${key}`);
        const reference = await store.chunk(key);
        if (reference === undefined) {
          expect(raw.status, key).toBe(404);
          continue;
        }
        expect(raw.status, key).toBe(200);
        const expected = new Uint8Array(await raw.arrayBuffer());
        if (reference.kind === 'inline') {
          expect(reference.data, key).toEqual(expected);
        } else {
          expect(reference.kind, key).toBe('whole');
          const url = new URL((reference as { url: string }).url);
          expect(url.origin).toBe('http://localhost');
          const viaUrl = await ok(target, `${url.pathname}${url.search}`);
          expect(new Uint8Array(await viaUrl.arrayBuffer()), key).toEqual(expected);
        }
        served++;
      }
    }
  } finally {
    await store.close();
  }
  return served;
}

describe('references.parq', () => {
  it('answers .zmetadata with the raw view documents and a record size', async () => {
    const response = await ok(app, '/datasets/tas-daily/references.parq/.zmetadata');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=60');
    expect(response.headers.get('etag')).toMatch(/^"/);
    expect(response.headers.get('vary')).toContain('x-forwarded-host');
    const zmetadata = JSON.parse(await response.text()) as Zmetadata;
    expect(zmetadata.record_size).toBe(PARQUET_RECORD_SIZE);
    expect(zmetadata.metadata['tas/.zarray']?.shape).toEqual([730, 37, 72]);
    expect(Object.keys(zmetadata.metadata)).toContain('.zgroup');
  });

  it('a JSON dataset round-trips: every chunk of every record file is the raw view chunk', async () => {
    const dir = join(scratch, 'tas');
    const grids = await download(app, 'tas-daily', dir);
    expect(await expectSameChunks(app, 'tas-daily', dir, grids)).toBeGreaterThan(0);
  });

  it('record files have the fsspec schema, record_size rows, null paths for missing chunks', async () => {
    const response = await ok(app, '/datasets/pr-daily/references.parq/pr/refs.0.parq');
    const file = await response.arrayBuffer();
    const metadata = parquetMetadata(file);
    expect(Number(metadata.num_rows)).toBe(PARQUET_RECORD_SIZE);
    const columns = metadata.schema.slice(1).map((element) => [element.name, element.type, element.repetition_type]);
    expect(columns).toEqual([
      ['path', 'BYTE_ARRAY', 'OPTIONAL'],
      ['offset', 'INT64', 'REQUIRED'],
      ['size', 'INT64', 'REQUIRED'],
      ['raw', 'BYTE_ARRAY', 'OPTIONAL'],
    ]);
    const rows = (await parquetReadObjects({ file, compressors })) as Array<{ path: string | null; offset: bigint; size: bigint; raw: Uint8Array | null }>;
    expect(rows).toHaveLength(PARQUET_RECORD_SIZE);
    const zarray = JSON.parse(await (await ok(app, '/datasets/pr-daily/kerchunk/pr/.zarray')).text()) as { shape: number[]; chunks: number[] };
    const grid = new ChunkGrid(zarray.shape, zarray.chunks);
    let missing = 0;
    let padding = 0;
    for (let index = 0; index < rows.length; index++) {
      const row = rows[index] as (typeof rows)[number];
      if (index >= grid.size) {
        expect(row.path).toBeNull();
        expect(row.raw).toBeNull();
        padding++;
        continue;
      }
      const head = await app.request(`/datasets/pr-daily/kerchunk/pr/${grid.suffixOf(index)}`, { method: 'HEAD' });
      if (row.path === null && row.raw === null) {
        missing++;
        expect(head.status).toBe(404);
      } else {
        expect(head.status).toBe(200);
        if (row.path !== null) expect(decodeURIComponent(new URL(row.path).pathname)).toBe(`/datasets/pr-daily/kerchunk/pr/${grid.suffixOf(index)}`);
        expect(row.offset).toBe(0n);
        expect(row.size).toBe(0n);
      }
    }
    // every chunk of the grid is a row, the rest null padding (missing chunks: null paths, seen below)
    expect(rows.length - padding - missing).toBeGreaterThan(0);
    expect(padding).toBe(PARQUET_RECORD_SIZE - grid.size);
  });

  it('spells chunk URLs as references.json does (sorted in C order)', async () => {
    const table = JSON.parse(await (await ok(app, '/datasets/tas-daily/references.json')).text()) as { refs: Record<string, unknown> };
    const rows = (await parquetReadObjects({
      file: await (await ok(app, '/datasets/tas-daily/references.parq/tas/refs.0.parq')).arrayBuffer(),
      compressors,
      columns: ['path'],
    })) as Array<{ path: string | null }>;
    const zarray = JSON.parse(table.refs['tas/.zarray'] as string) as { shape: number[]; chunks: number[] };
    const grid = new ChunkGrid(zarray.shape, zarray.chunks);
    for (let index = 0; index < grid.size; index++) {
      const value = table.refs[`tas/${grid.suffixOf(index)}`];
      expect(rows[index]?.path ?? null).toBe(Array.isArray(value) && value.length === 1 ? value[0] : null);
    }
  });

  it('caches record files: ETag, 304, HEAD, and a URL behind a proxy', async () => {
    const path = '/datasets/tas-daily/references.parq/tas/refs.0.parq';
    const first = await ok(app, path);
    const etag = first.headers.get('etag') as string;
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    expect((await app.request(path, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const head = await app.request(path, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const proxied = await app.request(path, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'data.example.org' } });
    expect(proxied.headers.get('etag')).not.toBe(etag);
    const rows = (await parquetReadObjects({ file: await proxied.arrayBuffer(), compressors, columns: ['path'], rowStart: 0, rowEnd: 1 })) as Array<{ path: string }>;
    expect(rows[0]?.path.startsWith('https://data.example.org/')).toBe(true);
  });

  it('indexes the directory with a link to .zmetadata (fsspec takes a page of links for a directory)', async () => {
    const bare = await app.request('/datasets/tas-daily/references.parq');
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('references.parq/');
    const index = await ok(app, '/datasets/tas-daily/references.parq/');
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('href="http://localhost/datasets/tas-daily/references.parq/.zmetadata"');
  });

  it('answers 404 for records past the grid, unknown arrays and files, __proto__ included', async () => {
    for (const file of [
      'tas/refs.1.parq',
      'tas/refs.9007199254740991.parq',
      'tas/refs.01.parq',
      'tas/refs.-1.parq',
      '__proto__/refs.0.parq',
      'constructor/refs.0.parq',
      'nope',
      'tas/.zarray',
    ]) {
      const response = await app.request(`/datasets/tas-daily/references.parq/${file}`);
      expect(response.status, file).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.text()).not.toContain(repoRoot);
    }
    for (const id of ['__proto__', 'constructor']) {
      const response = await app.request(`/datasets/${id}/references.parq/.zmetadata`);
      expect([400, 404]).toContain(response.status);
    }
  });

  it('keeps ?format=parquet on references.json a 400 that names the directory', async () => {
    const response = await app.request('/datasets/tas-daily/references.json?format=parquet');
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('references.parq');
  });
});

describe('references.parq of hostile and parquet datasets', () => {
  let dir: string;
  let other: InProcessApp;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strato-refs-parq-hostile-'));
    const zarray = (shape: number[]) => ({ zarr_format: 2, shape, chunks: shape.map(() => 1), dtype: '<f4', compressor: null, filters: null, fill_value: 0, order: 'C' });
    const zattrs = (dims: string[]) => ({ _ARRAY_DIMENSIONS: dims });
    // 10^11 chunks (no table could list them) and a variable named __proto__ with 25 001 chunks
    const huge = {
      '.zgroup': '{"zarr_format": 2}',
      'v/.zarray': JSON.stringify(zarray([100_000, 1_000_000])),
      'v/.zattrs': JSON.stringify(zattrs(['y', 'x'])),
      'v/0.0': 'base64:AACAPw==',
    };
    await writeFile(join(dir, 'huge.json'), JSON.stringify({ version: 1, refs: huge }));
    const chunks = new Map<string, { kind: 'inline'; data: Uint8Array }>();
    for (const index of [0, 1, 9_999, 10_000, 25_000]) chunks.set(`__proto__/${index}`, { kind: 'inline', data: new Uint8Array(new Float32Array([index]).buffer) });
    await writeParquetReferences(
      join(dir, 'proto.parq'),
      {
        metadata: new Map<string, never>([
          ['.zgroup', { zarr_format: 2 } as never],
          ['__proto__/.zarray', zarray([25_001]) as never],
          ['__proto__/.zattrs', zattrs(['t']) as never],
        ]),
        chunks,
      },
      { recordSize: 777 },
    );
    await writeFile(join(dir, 'catalog.yaml'), 'datasets:\n  huge:\n    refs: huge.json\n  proto:\n    refs: proto.parq\nsources:\n  allow: [./]\n');
    other = await openApp(join(dir, 'catalog.yaml'));
  });
  afterAll(async () => {
    await other?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves one record of a 10^11-chunk grid and 404 past it, never the whole grid', async () => {
    const first = await ok(other, '/datasets/huge/references.parq/v/refs.0.parq');
    const rows = (await parquetReadObjects({ file: await first.arrayBuffer(), compressors, utf8: false, rowStart: 0, rowEnd: 2 })) as Array<{
      path: string | null;
      raw: Uint8Array | null;
    }>;
    expect(rows[0]?.raw).toEqual(new Uint8Array([0, 0, 0x80, 0x3f]));
    expect(rows[1]?.path).toBeNull();
    const last = 100_000_000_000 / PARQUET_RECORD_SIZE - 1;
    const end = await ok(other, `/datasets/huge/references.parq/v/refs.${last}.parq`);
    expect(Number(parquetMetadata(await end.arrayBuffer()).num_rows)).toBe(PARQUET_RECORD_SIZE);
    const past = await other.request(`/datasets/huge/references.parq/v/refs.${last + 1}.parq`);
    expect(past.status).toBe(404);
    expect(await past.text()).not.toContain(dir);
  });

  it('a parquet dataset with a __proto__ variable round-trips (its own record size replaced by the server’s)', async () => {
    const target = join(scratch, 'proto');
    const grids = await download(other, 'proto', target);
    expect([...grids.keys()]).toEqual(['__proto__']);
    expect(await expectSameChunks(other, 'proto', target, grids)).toBe(5);
    const past = await other.request('/datasets/proto/references.parq/__proto__/refs.3.parq');
    expect(past.status).toBe(404);
  });
});

describe('references.parq of a derived dataset', () => {
  let made: { dir: string; catalog: string };
  let derived: InProcessApp;
  beforeAll(async () => {
    made = await makeGridCatalog();
    const catalog = (await readFile(made.catalog, 'utf8')).replace('datasets:\n', 'datasets:\n  grid-monthly: {derive: {from: grid, resample: {time: month}, reduce: mean}}\n');
    await writeFile(made.catalog, catalog);
    derived = await openApp(made.catalog);
  });
  afterAll(async () => {
    await derived?.close();
    await rm(made.dir, { recursive: true, force: true });
  });

  it('lists every chunk by URL (computed on request), uncached, and the URLs answer the chunks', async () => {
    const target = join(scratch, 'derived');
    const grids = await download(derived, 'grid-monthly', target);
    const record = await ok(derived, `/datasets/grid-monthly/references.parq/${[...grids.keys()][0]}/refs.0.parq`);
    expect(record.headers.get('cache-control')).toBe('no-cache');
    expect(await expectSameChunks(derived, 'grid-monthly', target, grids)).toBe([...grids.values()].reduce((sum, grid) => sum + grid.size, 0));
  });
});
