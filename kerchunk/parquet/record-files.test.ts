import { type FileHandle, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FileMetaData, parquetMetadata } from 'hyparquet';
import { ByteWriter, parquetWriteBuffer } from 'hyparquet-writer';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { serializeTCompactProtocol } from 'hyparquet-writer/src/thrift.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openParquetReferences, recordFilePath } from '../parquet-references.js';
import { writeParquetReferences } from '../parquet-writer.js';
import { type ChunkReference, type JsonValue, ReferenceFormatError } from '../reference.js';
import { LIMITS } from './limits.js';
import { readRecordLayout } from './record-layout.js';
import { checkPageHeaders, readRowRange } from './row-range.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'strato-parquet-records-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function zarray(shape: number[], chunks: number[]): JsonValue {
  return { zarr_format: 2, shape, chunks, dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' };
}

/** A set `name` with array `v` of `chunks` chunks, record_size `recordSize`, and record 0 holding `bytes`. */
async function setWithRecord(name: string, bytes: Uint8Array, recordSize: number, chunks = recordSize): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(join(dir, 'v'), { recursive: true });
  await writeFile(join(dir, '.zmetadata'), JSON.stringify({ metadata: { 'v/.zarray': zarray([chunks], [1]) }, record_size: recordSize }));
  await writeFile(recordFilePath(dir, 'v', 0), bytes);
  return dir;
}

/** A record file of `rows` range references to `data/<i % 3>.nc`, as hyparquet-writer writes it with `pageSize`. */
function rangeRecord(rows: number, pageSize?: number, extra: Parameters<typeof parquetWriteBuffer>[0]['columnData'] = []): Uint8Array {
  const columnData = [
    { name: 'path', data: Array.from({ length: rows }, (_, i) => `data/${i % 3}.nc`), type: 'STRING' as const },
    { name: 'offset', data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(100 + i * 10)), type: 'INT64' as const },
    { name: 'size', data: BigInt64Array.from({ length: rows }, () => 10n), type: 'INT64' as const },
    ...extra,
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData, ...(pageSize === undefined ? {} : { pageSize }), rowGroupSize: rows }));
}

function expected(row: number): Extract<ChunkReference, { kind: 'range' }> {
  return { kind: 'range', url: `data/${row % 3}.nc`, offset: 100 + row * 10, length: 10 };
}

/** The file with its footer replaced by `edit` of the decoded footer (column data unchanged). */
function withFooter(file: Uint8Array, edit: (metadata: FileMetaData) => void): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const dataEnd = file.byteLength - 8 - view.getUint32(file.byteLength - 8, true);
  const metadata = parquetMetadata(file);
  edit(metadata);
  const writer = new ByteWriter();
  writer.appendBytes(file.subarray(0, dataEnd));
  writeMetadata(writer, metadata);
  writer.appendUint32(0x31524150);
  return writer.getBytes().slice();
}

/** Opens the set and asks for `key`, expecting a ReferenceFormatError. */
async function refusal(dir: string, key = 'v/0'): Promise<string> {
  const store = await openParquetReferences(dir);
  const error = await store.chunk(key).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ReferenceFormatError);
  return (error as Error).message;
}

/** A FileHandle that counts the bytes read through it. */
function counting(handle: FileHandle): { handle: FileHandle; bytes: () => number } {
  let bytes = 0;
  const wrapped = {
    stat: () => handle.stat(),
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      const result = await handle.read(buffer, offset, length, position);
      bytes += result.bytesRead;
      return result;
    },
  };
  return { handle: wrapped as unknown as FileHandle, bytes: () => bytes };
}

describe('hostile record files: a clear error, bounded memory and time', () => {
  it('refuses a footer that declares more bytes than the file holds', async () => {
    const file = rangeRecord(4);
    new DataView(file.buffer).setUint32(file.byteLength - 8, 0xfffffff0, true);
    expect(await refusal(await setWithRecord('footer-past-end', file, 4))).toMatch(/not a readable parquet file.*footer declares 4294967280 bytes/);
  });

  it('refuses a footer larger than the bound without parsing it (a million row groups)', async () => {
    const footer = LIMITS.footerBytes + 1;
    const file = new Uint8Array(footer + 12);
    const view = new DataView(file.buffer);
    view.setUint32(0, 0x31524150, true);
    view.setUint32(file.byteLength - 8, footer, true);
    view.setUint32(file.byteLength - 4, 0x31524150, true);
    expect(await refusal(await setWithRecord('huge-footer', file, 4))).toMatch(new RegExp(`footer of ${footer} bytes is larger than the ${LIMITS.footerBytes}`));
  });

  it('refuses a record file declaring billions of rows, even when record_size allows them', async () => {
    const file = withFooter(rangeRecord(4), (metadata) => {
      metadata.num_rows = 5_000_000_000n;
      for (const group of metadata.row_groups) group.num_rows = 5_000_000_000n;
    });
    const dir = await setWithRecord('billions', file, 1e12, 1e12);
    expect(await refusal(dir)).toMatch(new RegExp(`has 5000000000 rows, more than the ${LIMITS.recordRows} a record file may have`));
    // A row count within the bound whose pages do not hold the rows is an error too, not a hang.
    const short = withFooter(rangeRecord(4), (metadata) => {
      metadata.num_rows = 1_000_000n;
      for (const group of metadata.row_groups) group.num_rows = 1_000_000n;
      for (const column of metadata.row_groups[0]?.columns ?? []) if (column.meta_data) column.meta_data.num_values = 1_000_000n;
    });
    expect(await refusal(await setWithRecord('millions', short, 1e12, 1e12), 'v/999999')).toMatch(/pages hold values up to row 4, the row group has rows up to 1000000/);
  });

  it('refuses row groups that do not add up to the rows of the file', async () => {
    const file = withFooter(rangeRecord(4), (metadata) => {
      const group = metadata.row_groups[0];
      if (group) metadata.row_groups = Array.from({ length: 1000 }, () => group);
    });
    expect(await refusal(await setWithRecord('many-groups', file, 1e6, 1e6))).toMatch(/row groups hold 4000 rows, its footer says 4/);
  });

  it('refuses column chunks that lie outside the file or declare a type the schema does not', async () => {
    const outside = withFooter(rangeRecord(4), (metadata) => {
      const meta = metadata.row_groups[0]?.columns[1]?.meta_data;
      if (meta) meta.total_compressed_size = 2n ** 40n;
    });
    expect(await refusal(await setWithRecord('outside', outside, 4))).toMatch(/column "offset": its bytes .* lie outside the data of the file/);
    const retyped = withFooter(rangeRecord(4), (metadata) => {
      const meta = metadata.row_groups[0]?.columns[0]?.meta_data;
      if (meta) meta.type = 'INT32';
    });
    expect(await refusal(await setWithRecord('retyped', retyped, 4))).toMatch(/column "path" holds INT32 values, its schema says BYTE_ARRAY/);
  });

  it('refuses an offset index that does not describe its column chunk', async () => {
    const file = withFooter(rangeRecord(3000, 512), (metadata) => {
      const chunk = metadata.row_groups[0]?.columns[1];
      if (chunk?.offset_index_offset === undefined) throw new Error('the writer wrote no offset index');
      chunk.offset_index_offset = 4n; // the first page's bytes, not an index
    });
    expect(await refusal(await setWithRecord('lying-index', file, 3000), 'v/2500')).toMatch(/offset index/);
  });

  it('reads around a __proto__ or constructor column, and refuses two columns named path', async () => {
    const file = rangeRecord(5, undefined, [
      { name: '__proto__', data: ['x', 'y', 'z', 'w', 'v'], type: 'STRING' },
      { name: 'constructor', data: [1, 2, 3, 4, 5], type: 'INT32' },
    ]);
    const store = await openParquetReferences(await setWithRecord('proto', file, 5));
    for (let row = 0; row < 5; row++) expect(await store.chunk(`v/${row}`)).toEqual(expected(row));
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);

    const twice = withFooter(rangeRecord(2), (metadata) => {
      const offset = metadata.schema[2];
      if (offset) offset.name = 'path';
      const meta = metadata.row_groups[0]?.columns[1]?.meta_data;
      if (meta) meta.path_in_schema = ['path'];
    });
    expect(await refusal(await setWithRecord('two-paths', twice, 2))).toMatch(/two columns named "path"|has type INT64, expected BYTE_ARRAY/);
  });
});

describe('page headers, checked before a page is decoded', () => {
  /** A DATA_PAGE_V2 header followed by `body` bytes. */
  function page(fields: { uncompressed: number; compressed: number; values: number; rows: number }, body = 4): Uint8Array {
    const writer = new ByteWriter();
    serializeTCompactProtocol(writer, {
      field_1: 3, // DATA_PAGE_V2
      field_2: fields.uncompressed,
      field_3: fields.compressed,
      field_8: { field_1: fields.values, field_2: 0, field_3: fields.rows, field_4: 0, field_5: 0, field_6: 0 },
    });
    writer.appendBytes(new Uint8Array(body));
    return writer.getBytes().slice();
  }

  it('refuses huge declared sizes and value counts', () => {
    expect(() => checkPageHeaders(page({ uncompressed: 2 ** 31 - 1, compressed: 4, values: 10, rows: 10 }), 100, 'col')).toThrow(/declares 2147483647 bytes uncompressed/);
    expect(() => checkPageHeaders(page({ uncompressed: 4, compressed: 4, values: 2_000_000_000, rows: 10 }), 100, 'col')).toThrow(
      /declares 2000000000 values in a row group of 100 rows/,
    );
    expect(() => checkPageHeaders(page({ uncompressed: 4, compressed: 4000, values: 10, rows: 10 }), 100, 'col')).toThrow(/runs past the end/);
    expect(() => checkPageHeaders(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 100, 'col')).toThrow(ReferenceFormatError);
    expect(() => checkPageHeaders(page({ uncompressed: 4, compressed: 4, values: 10, rows: 10 }), 100, 'col')).not.toThrow();
  });
});

describe('reading the part of a record a key needs', () => {
  it('reads a few pages of a strato-written record, not the record', async () => {
    const rows = 100_000;
    const dir = join(scratch, 'strato-written');
    await writeParquetReferences(dir, { metadata: new Map([['v/.zarray', zarray([rows], [1])]]), chunks: { reference: (_, index) => expected(index) } }, { recordSize: rows });
    const file = recordFilePath(dir, 'v', 0);
    const size = (await readFile(file)).byteLength;
    const handle = await open(file, 'r');
    try {
      const layout = await readRecordLayout(handle, file, rows);
      expect(layout.rowGroups.map((group) => [group.start, group.rows, group.seekable])).toEqual(Array.from({ length: 10 }, (_, i) => [i * 10_000, 10_000, true]));
      const group = layout.rowGroups[5] as (typeof layout.rowGroups)[number];
      expect(group.columns.find((column) => column.name === 'raw')?.allNull).toBe(true); // skipped unread
      const counted = counting(handle);
      const read = await readRowRange(counted.handle, file, group, 4096, 5120); // rows 54 096..55 120
      // One read of the pages' span in the row group (a tenth of the record), not the record.
      const groupBytes = Math.max(...group.columns.map((column) => column.end)) - Math.min(...group.columns.map((column) => column.start));
      expect(counted.bytes()).toBeLessThanOrEqual(groupBytes);
      expect(counted.bytes()).toBeLessThan(size / 8);
      const offsets = read.get('offset');
      expect(Number(offsets?.values[(offsets?.at ?? 0) + 225] as bigint)).toBe(expected(54_321).offset);
    } finally {
      await handle.close();
    }
    const store = await openParquetReferences(dir, { cacheBytes: 200_000 });
    for (const index of [0, 1023, 1024, 54_321, 99_999, 99_998]) expect(await store.chunk(`v/${index}`)).toEqual(expected(index));
    expect(store.cacheStats().loads).toBe(4);
    const urls: string[] = [];
    for await (const url of store.urls()) urls.push(url);
    expect(urls.sort()).toEqual(['data/0.nc', 'data/1.nc', 'data/2.nc']);
    expect(store.cacheStats().loads).toBe(4 + 10); // a scan reads each row group whole, past the cache
  });

  it('reads files without an offset index (fsspec, older strato) a row group at a time', async () => {
    const rows = 5000;
    const dir = await setWithRecord('no-index', rangeRecord(rows), rows);
    const store = await openParquetReferences(dir);
    for (const index of [0, 4999, 2500, 1]) expect(await store.chunk(`v/${index}`)).toEqual(expected(index));
    expect(store.cacheStats()).toMatchObject({ loads: 1, records: 1 });
  });

  it('answers keys across pages of different sizes in every column', async () => {
    const rows = 3000;
    const dir = await setWithRecord('small-pages', rangeRecord(rows, 700), rows);
    const store = await openParquetReferences(dir);
    for (let index = 0; index < rows; index += 7) expect(await store.chunk(`v/${index}`), `v/${index}`).toEqual(expected(index));
    expect(await store.chunk(`v/${rows - 1}`)).toEqual(expected(rows - 1));
    expect(store.cacheStats().loads).toBe(Math.ceil(rows / LIMITS.pieceRows));
  });
});
