import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkGrid } from './chunk-grid.js';
import { openParquetReferences, recordFilePath } from './parquet-references.js';
import { defaultParquetCodec, encodeParquetRecord, type IndexedChunks, type ParquetCodec, type ParquetReferenceSet, writeParquetReferences } from './parquet-writer.js';
import { type ChunkReference, type JsonValue, ReferenceFormatError } from './reference.js';

function zarray(shape: number[], chunks: number[], extra: Record<string, JsonValue> = {}): JsonValue {
  return { zarr_format: 2, shape, chunks, dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C', ...extra };
}

async function fileBuffer(file: string): Promise<ArrayBuffer> {
  const bytes = await readFile(file);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'strato-parquet-writer-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A table with every kind of reference, groups, a 0-d array, '/' keys and missing chunks. */
function sampleSet(): ParquetReferenceSet {
  const metadata = new Map<string, JsonValue>([
    ['.zgroup', { zarr_format: 2 }],
    ['.zattrs', { title: 'sample', scale: 150.0 }],
    ['tas/.zarray', zarray([5, 6], [2, 2])], // 3 × 3 = 9 chunks
    ['tas/.zattrs', { _ARRAY_DIMENSIONS: ['time', 'x'], valid_range: [150.0, 350.0] }],
    ['group/.zgroup', { zarr_format: 2 }],
    ['group/slashed/.zarray', zarray([4, 4], [2, 2], { dimension_separator: '/' })],
    ['scalar/.zarray', zarray([], [])],
    ['empty/.zarray', zarray([10], [1])], // metadata only: no chunk has a reference
  ]);
  const notUtf8 = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0a, 0x22]);
  const chunks = new Map<string, ChunkReference>([
    ['tas/0.0', { kind: 'range', url: 'data/a.nc', offset: 100, length: 50 }],
    ['tas/0.1', { kind: 'range', url: 's3://bucket/b file.nc', offset: 2 ** 40, length: 7 }],
    ['tas/0.2', { kind: 'whole', url: 'data/whole.bin' }],
    ['tas/1.0', { kind: 'inline', data: notUtf8 }],
    ['tas/1.1', { kind: 'inline', data: new Uint8Array(0) }],
    // tas/1.2 and tas/2.0 missing
    ['tas/2.1', { kind: 'range', url: 'data/a.nc', offset: 5, length: 0 }],
    ['tas/2.2', { kind: 'range', url: 'data/ü-ñ.nc', offset: 1, length: 2 }],
    ['group/slashed/1/0', { kind: 'range', url: 'data/g.nc', offset: 10, length: 20 }],
    ['group/slashed/0/1', { kind: 'inline', data: new TextEncoder().encode('{"json": "text"}') }],
    ['scalar/0', { kind: 'inline', data: new Uint8Array([0, 0, 0x80, 0x3f]) }],
  ]);
  return { metadata, chunks };
}

describe('writeParquetReferences', () => {
  const set = sampleSet();
  let dir: string;
  beforeAll(async () => {
    dir = join(scratch, 'sample');
    const summary = await writeParquetReferences(dir, set, { recordSize: 4 });
    expect(summary).toEqual({ codec: defaultParquetCodec(), recordSize: 4, recordFiles: 3 + 1 + 1 + 3, chunks: set.chunks.size });
  });

  it('round-trips every key of every array, missing chunks included', async () => {
    const store = await openParquetReferences(dir);
    expect(store.recordSize).toBe(4);
    expect(store.metadata).toEqual(set.metadata);
    const arrays = [
      ['tas', new ChunkGrid([5, 6], [2, 2])],
      ['group/slashed', new ChunkGrid([4, 4], [2, 2], '/')],
      ['scalar', new ChunkGrid([], [])],
      ['empty', new ChunkGrid([10], [1])],
    ] as const;
    let present = 0;
    for (const [array, grid] of arrays) {
      for (let index = 0; index < grid.size; index++) {
        const key = `${array}/${grid.suffixOf(index)}`;
        const expected = set.chunks.get(key);
        expect(await store.chunk(key), key).toEqual(expected);
        if (expected !== undefined) present++;
      }
    }
    expect(present).toBe(set.chunks.size);
    expect(await store.chunk('tas/1.2')).toBeUndefined();
    expect(await store.chunk('group/slashed/1.0')).toBeUndefined();
    expect((await collectUrls(store)).sort()).toEqual(['data/a.nc', 'data/g.nc', 'data/whole.bin', 'data/ü-ñ.nc', 's3://bucket/b file.nc']);
  });

  it('writes the fsspec layout: every record of the grid, record_size rows each, four typed columns', async () => {
    expect((await readdir(join(dir, 'tas'))).sort()).toEqual(['refs.0.parq', 'refs.1.parq', 'refs.2.parq']);
    expect(await readdir(join(dir, 'group', 'slashed'))).toEqual(['refs.0.parq']);
    expect(await readdir(join(dir, 'scalar'))).toEqual(['refs.0.parq']);
    // An array whose chunks have no references still gets the record files of its grid.
    expect((await readdir(join(dir, 'empty'))).sort()).toEqual(['refs.0.parq', 'refs.1.parq', 'refs.2.parq']);

    for (const [array, record] of [
      ['tas', 2],
      ['scalar', 0],
      ['empty', 1],
    ] as const) {
      const metadata = parquetMetadata(await fileBuffer(recordFilePath(dir, array, record)));
      expect(metadata.num_rows).toBe(4n); // padded with nulls, as fsspec pads, even the last record
      expect(metadata.row_groups).toHaveLength(1);
      expect(metadata.schema.slice(1).map(({ name, type, converted_type, repetition_type }) => ({ name, type, converted_type, repetition_type }))).toEqual([
        { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'offset', type: 'INT64', converted_type: undefined, repetition_type: 'REQUIRED' },
        { name: 'size', type: 'INT64', converted_type: undefined, repetition_type: 'REQUIRED' },
        { name: 'raw', type: 'BYTE_ARRAY', converted_type: undefined, repetition_type: 'OPTIONAL' },
      ]);
      for (const column of metadata.row_groups[0]?.columns ?? []) expect(column.meta_data?.codec).toBe(defaultParquetCodec());
    }

    // Row i of record r is chunk r * record_size + i in C order: tas/1.0 is chunk 3, row 3 of record 0.
    const rows = await parquetReadObjects({ file: await fileBuffer(recordFilePath(dir, 'tas', 0)), compressors, utf8: false });
    expect(rows[3]).toEqual({ path: null, offset: 0n, size: 0n, raw: new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0a, 0x22]) });
    expect(rows[2]).toEqual({ path: 'data/whole.bin', offset: 0n, size: 0n, raw: null });
    expect(rows[1]).toEqual({ path: 's3://bucket/b file.nc', offset: 2n ** 40n, size: 7n, raw: null });
  });

  it('writes .zmetadata with the documents as JSON objects and record_size', async () => {
    const zmetadata = JSON.parse(await readFile(join(dir, '.zmetadata'), 'utf8'));
    expect(zmetadata.record_size).toBe(4);
    expect(zmetadata.zarr_consolidated_format).toBe(1);
    expect(Object.keys(zmetadata.metadata)).toEqual([...set.metadata.keys()]);
    expect(zmetadata.metadata['tas/.zarray']).toEqual(set.metadata.get('tas/.zarray'));
  });

  it('keeps metadata text verbatim where it still says the same as the document', async () => {
    const target = join(scratch, 'verbatim');
    const metadataText = new Map([
      ['tas/.zattrs', '{"_ARRAY_DIMENSIONS": ["time", "x"], "valid_range": [150.0, 350.0]}'],
      ['.zattrs', '{"title": "stale", "scale": 150.0}'], // no longer the document: re-serialised
    ]);
    await writeParquetReferences(target, { ...set, metadataText }, { recordSize: 4 });
    const text = await readFile(join(target, '.zmetadata'), 'utf8');
    expect(text).toContain('"tas/.zattrs": {"_ARRAY_DIMENSIONS": ["time", "x"], "valid_range": [150.0, 350.0]}');
    expect(text).toContain('".zattrs": {"title":"sample","scale":150}');
    const store = await openParquetReferences(target);
    expect(store.metadataText.get('tas/.zattrs')).toBe(metadataText.get('tas/.zattrs'));
    expect(store.metadata.get('.zattrs')).toEqual({ title: 'sample', scale: 150 });
  });

  it('writes a zero-length range at offset 0 as empty inline data, which it means', async () => {
    const target = join(scratch, 'zero-range');
    const chunks = new Map<string, ChunkReference>([['v/0', { kind: 'range', url: 'a.nc', offset: 0, length: 0 }]]);
    await writeParquetReferences(target, { metadata: new Map([['v/.zarray', zarray([1], [1])]]), chunks });
    expect(await (await openParquetReferences(target)).chunk('v/0')).toEqual({ kind: 'inline', data: new Uint8Array(0) });
  });

  it('replaces a set written before in the same directory', async () => {
    const target = join(scratch, 'rewrite');
    const metadata = new Map([['v/.zarray', zarray([4], [1])]]);
    await writeParquetReferences(target, { metadata, chunks: new Map([['v/0', { kind: 'whole', url: 'old.nc' }]]) }, { recordSize: 2 });
    await writeParquetReferences(target, { metadata, chunks: new Map([['v/3', { kind: 'whole', url: 'new.nc' }]]) }, { recordSize: 2 });
    const store = await openParquetReferences(target);
    expect(await store.chunk('v/0')).toBeUndefined();
    expect(await store.chunk('v/3')).toEqual({ kind: 'whole', url: 'new.nc' });
    expect((await readdir(join(target, 'v'))).sort()).toEqual(['refs.0.parq', 'refs.1.parq']); // no temporary files left
  });

  it('writes every codec it offers in a form hyparquet reads back', async () => {
    const codecs: ParquetCodec[] = ['GZIP', 'SNAPPY', 'UNCOMPRESSED', ...(defaultParquetCodec() === 'ZSTD' ? (['ZSTD'] as const) : [])];
    for (const codec of codecs) {
      const target = join(scratch, `codec-${codec}`);
      expect((await writeParquetReferences(target, set, { recordSize: 3, codec })).codec).toBe(codec);
      const store = await openParquetReferences(target);
      for (const [key, reference] of set.chunks) expect(await store.chunk(key), `${codec} ${key}`).toEqual(reference);
    }
  });

  it('writes the same files from chunks given by array and linear index as from a map of keys', async () => {
    const grids = new Map([
      ['tas', new ChunkGrid([5, 6], [2, 2])],
      ['group/slashed', new ChunkGrid([4, 4], [2, 2], '/')],
      ['scalar', new ChunkGrid([], [])],
      ['empty', new ChunkGrid([10], [1])],
    ]);
    const asked: string[] = [];
    const indexed: IndexedChunks = {
      reference(array, index) {
        const grid = grids.get(array);
        asked.push(`${array}/${index}`);
        return grid && set.chunks.get(`${array}/${grid.suffixOf(index)}`);
      },
    };
    const target = join(scratch, 'indexed');
    const summary = await writeParquetReferences(target, { metadata: set.metadata, chunks: indexed }, { recordSize: 4 });
    expect(summary).toEqual({ codec: defaultParquetCodec(), recordSize: 4, recordFiles: 8, chunks: set.chunks.size });
    // Every chunk of every grid asked for once, none past the end of a grid (tas: 9 chunks in 3 records of 4).
    expect(asked).toHaveLength([...grids.values()].reduce((total, grid) => total + grid.size, 0));
    expect(new Set(asked).size).toBe(asked.length);
    for (const [array, grid] of grids) {
      for (let record = 0; record < Math.ceil(grid.size / 4); record++) {
        const file = (base: string) => recordFilePath(base, array, record);
        expect(await readFile(file(target)), `${array} record ${record}`).toEqual(await readFile(file(dir)));
      }
    }
    expect(await readFile(join(target, '.zmetadata'), 'utf8')).toBe(await readFile(join(dir, '.zmetadata'), 'utf8'));
    const bad: IndexedChunks = { reference: (array, index) => (array === 'tas' && index === 7 ? { kind: 'range', url: 'a.nc', offset: 1, length: -2 } : undefined) };
    await expect(writeParquetReferences(join(scratch, 'indexed-bad'), { metadata: set.metadata, chunks: bad })).rejects.toThrow(/chunk "tas\/2\.1": length -2/);
  });

  it('refuses what the layout cannot hold', async () => {
    const metadata = new Map([['v/.zarray', zarray([4], [2])]]);
    const one = (key: string, reference: ChunkReference = { kind: 'whole', url: 'a.nc' }): ParquetReferenceSet => ({ metadata, chunks: new Map([[key, reference]]) });
    await expect(writeParquetReferences(join(scratch, 'x1'), one('w/0'))).rejects.toThrow(/chunk key "w\/0" is not a chunk of any array/);
    await expect(writeParquetReferences(join(scratch, 'x2'), one('v/2'))).rejects.toThrow(ReferenceFormatError);
    await expect(writeParquetReferences(join(scratch, 'x3'), one('v/0', { kind: 'range', url: 'a.nc', offset: -1, length: 2 }))).rejects.toThrow(/chunk "v\/0": offset -1/);
    await expect(writeParquetReferences(join(scratch, 'x4'), one('v/0', { kind: 'whole', url: '' }))).rejects.toThrow(/without a url/);
    await expect(writeParquetReferences(join(scratch, 'x5'), one('v/0'), { recordSize: 0 })).rejects.toThrow(RangeError);
    await expect(writeParquetReferences(join(scratch, 'x6'), { metadata: new Map([['.zattrs', [1, 2]]]), chunks: new Map() })).rejects.toThrow(/"\.zattrs" must be a JSON object/);
    await expect(writeParquetReferences(join(scratch, 'x7'), { metadata: new Map([['v/.zarray', { shape: [1] }]]), chunks: new Map() })).rejects.toThrow(
      /"v\/\.zarray" has zarr_format/,
    );
    if (defaultParquetCodec() !== 'ZSTD') {
      await expect(writeParquetReferences(join(scratch, 'x8'), one('v/0'), { codec: 'ZSTD' })).rejects.toThrow(/ZSTD needs node:zlib zstd/);
    }
  });
});

async function collectUrls(store: { urls(): AsyncIterable<string> }): Promise<string[]> {
  const urls: string[] = [];
  for await (const url of store.urls()) urls.push(url);
  return urls;
}

describe('encodeParquetRecord', () => {
  it('makes in memory the bytes writeParquetReferences writes for a record', async () => {
    const dir = join(scratch, 'buffer');
    const rows: Array<ChunkReference | undefined> = [
      { kind: 'whole', url: 'http://example.test/a' },
      undefined,
      { kind: 'inline', data: new Uint8Array([1, 2, 3]) },
      { kind: 'range', url: 'http://example.test/b', offset: 8, length: 16 },
    ];
    const chunks = new Map<string, ChunkReference>();
    for (const [index, reference] of rows.entries()) if (reference) chunks.set(`v/${index}`, reference);
    await writeParquetReferences(
      dir,
      {
        metadata: new Map<string, JsonValue>([
          ['.zgroup', { zarr_format: 2 }],
          ['v/.zarray', zarray([6], [1])],
        ]),
        chunks,
      },
      { recordSize: 4, codec: 'GZIP' },
    );
    const written = new Uint8Array(await fileBuffer(recordFilePath(dir, 'v', 0)));
    expect(encodeParquetRecord(rows, 4, 'GZIP')).toEqual(written);
    // a short last record is padded to recordSize rows of nulls
    const padded = encodeParquetRecord(rows.slice(0, 2), 4, 'GZIP');
    const read = (await parquetReadObjects({ file: padded.slice().buffer, compressors, utf8: false })) as Array<{ path: string | null; raw: Uint8Array | null }>;
    expect(read.map((row) => row.path)).toEqual(['http://example.test/a', null, null, null]);
  });

  it('refuses more rows than the record holds and references it cannot write', () => {
    expect(() => encodeParquetRecord([undefined, undefined], 1)).toThrow(RangeError);
    expect(() => encodeParquetRecord([], 0)).toThrow(RangeError);
    expect(() => encodeParquetRecord([{ kind: 'whole', url: '' }], 1)).toThrow(ReferenceFormatError);
    expect(() => encodeParquetRecord([{ kind: 'range', url: 'u', offset: -1, length: 1 }], 1)).toThrow(ReferenceFormatError);
  });
});
