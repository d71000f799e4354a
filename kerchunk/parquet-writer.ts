import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as zlib from 'node:zlib';
import type { SchemaElement } from 'hyparquet';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { type ChunkGrid, locateChunk } from './chunk-grid.js';
import { PARQUET_METADATA_FILE, parquetArrayGrids, recordFilePath } from './parquet-references.js';
import { type ChunkReference, type JsonValue, ReferenceFormatError } from './reference.js';

/**
 * Writes a reference table as an fsspec parquet reference set, the layout `parquet-references.ts`
 * reads and fsspec's `LazyReferenceMapper` (kerchunk `refs_to_dataframe`) writes:
 *
 * - `dir/.zmetadata`: `{"metadata": {key: document}, "record_size": N, "zarr_consolidated_format": 1}`,
 *   documents as JSON objects (their `metadataText` verbatim where it still says the same, so
 *   `150.0` stays a float for Python readers), written last (temp file + rename);
 * - `dir/<array>/refs.<record>.parq` for every record of every array's chunk grid, chunks with a
 *   reference or not, each with exactly N rows (null padding, as fsspec pads); columns path
 *   (UTF8, optional), offset and size (INT64, required), raw (binary, optional); row groups of
 *   10 000 rows, pages of about 8 KiB with an offset index, so readers can decode just the rows
 *   of one key (parquet-references.ts does), and statistics on an all-null column chunk so they
 *   skip it.
 *
 * A range reference of length 0 at offset 0 would read back as "whole file", so it is written as
 * empty inline data. Existing files in `dir` are replaced, never removed.
 */
export interface ParquetReferenceSet {
  readonly metadata: ReadonlyMap<string, JsonValue>;
  /** The documents' original JSON text (a ReferenceStore's `metadataText`), used where it parses to the document. */
  readonly metadataText?: ReadonlyMap<string, string>;
  readonly chunks: ReadonlyMap<string, ChunkReference>;
}

/** A set whose chunks are asked for by array and linear index: for sets too large for a map of keys. */
export interface IndexedParquetReferenceSet extends Omit<ParquetReferenceSet, 'chunks'> {
  readonly chunks: IndexedChunks;
}

/**
 * Chunk references asked for by array path ('tas', 'group/var') and C-order linear index in the
 * array's chunk grid, one record at a time: a set of 10 million chunks never exists as 10 million
 * key strings and objects at once.
 */
export interface IndexedChunks {
  /** The reference of chunk `index` of `array`, or undefined for a missing chunk. */
  reference(array: string, index: number): ChunkReference | undefined;
}

/**
 * Page compression. fastparquet, pyarrow and hyparquet decode all four; ZSTD is what fsspec writes.
 * hyparquet-writer compresses SNAPPY itself and takes the others as functions: GZIP comes from
 * node:zlib, ZSTD from node:zlib or zstd-napi.
 */
export type ParquetCodec = 'ZSTD' | 'GZIP' | 'SNAPPY' | 'UNCOMPRESSED';

export interface ParquetWriteOptions {
  /** Rows per record file (fsspec's record_size; default 100 000). */
  readonly recordSize?: number;
  /** Default: ZSTD (what fsspec writes) where node:zlib (Node ≥ 22.15) or zstd-napi can write it, else GZIP. */
  readonly codec?: ParquetCodec;
}

export interface ParquetWriteSummary {
  readonly codec: ParquetCodec;
  readonly recordSize: number;
  /** Record files written. */
  readonly recordFiles: number;
  /** Chunk references written. */
  readonly chunks: number;
}

export const DEFAULT_RECORD_SIZE = 100_000;

type Compressor = (input: Uint8Array) => Uint8Array;

/**
 * A synchronous zstd encoder (hyparquet-writer calls compressors synchronously): node:zlib's where
 * this Node has one (22.15 / 23.8 on; @types/node 20 lacks it), else the native zstd-napi build
 * (an optional dependency compiled at install), else none.
 */
const zstdCompressSync = ((): ((input: Uint8Array) => Uint8Array) | undefined => {
  const fromZlib = (zlib as unknown as { zstdCompressSync?: (input: Uint8Array) => Uint8Array }).zstdCompressSync;
  if (fromZlib) return fromZlib;
  try {
    const { compress } = createRequire(import.meta.url)('zstd-napi') as { compress(input: Uint8Array, level?: number): Uint8Array };
    return (input) => compress(input, 3);
  } catch {
    return undefined;
  }
})();

const COMPRESSORS: Readonly<Record<ParquetCodec, Compressor | undefined>> = {
  ZSTD: zstdCompressSync && ((input) => toBytes(zstdCompressSync(input))),
  GZIP: (input) => toBytes(zlib.gzipSync(input, { level: 6 })),
  SNAPPY: undefined, // hyparquet-writer's own
  UNCOMPRESSED: undefined,
};

/** The codec used when none is asked for: ZSTD (what fsspec writes) where it can be written, else GZIP. */
export function defaultParquetCodec(): ParquetCodec {
  return zstdCompressSync ? 'ZSTD' : 'GZIP';
}

export async function writeParquetReferences(
  dir: string,
  references: ParquetReferenceSet | IndexedParquetReferenceSet,
  options: ParquetWriteOptions = {},
): Promise<ParquetWriteSummary> {
  const recordSize = options.recordSize ?? DEFAULT_RECORD_SIZE;
  if (!Number.isSafeInteger(recordSize) || recordSize <= 0) throw new RangeError(`recordSize must be a positive integer, got ${recordSize}`);
  const codec = options.codec ?? defaultParquetCodec();
  if (codec === 'ZSTD' && !zstdCompressSync) {
    throw new Error(`ZSTD needs node:zlib zstd support (Node ≥ 22.15) or the zstd-napi package; this is Node ${process.versions.node}: use GZIP or SNAPPY`);
  }
  const encoder = new RecordEncoder(recordSize, codec);
  const target = join(dir, PARQUET_METADATA_FILE);

  const zmetadata = parquetZmetadataText(references.metadata, references.metadataText, recordSize, target);
  const grids = parquetArrayGrids(references.metadata, target);
  const rowsOf = isIndexed(references.chunks) ? indexedRows(references.chunks, grids, recordSize) : groupedRows(references.chunks, grids, recordSize);

  await mkdir(dir, { recursive: true });
  let recordFiles = 0;
  let chunks = 0;
  for (const [array, grid] of grids) {
    const count = Math.ceil(grid.size / recordSize);
    for (let record = 0; record < count; record++) {
      const rows = rowsOf(array, record);
      const bytes = rows === undefined ? encoder.empty() : encoder.encode(rows);
      for (const row of rows ?? []) if (row !== undefined) chunks++;
      await writeAtomically(recordFilePath(dir, array, record), bytes);
      recordFiles++;
    }
  }
  await writeAtomically(target, Buffer.from(zmetadata, 'utf8'));
  return { codec, recordSize, recordFiles, chunks };
}

function isIndexed(chunks: ReadonlyMap<string, ChunkReference> | IndexedChunks): chunks is IndexedChunks {
  return typeof (chunks as Partial<IndexedChunks>).reference === 'function';
}

/** The rows of record `record` of `array`, undefined when it holds no chunk. */
type RecordSource = (array: string, record: number) => RecordRows | undefined;

function groupedRows(chunks: ReadonlyMap<string, ChunkReference>, grids: ReadonlyMap<string, ChunkGrid>, recordSize: number): RecordSource {
  const records = groupByRecord(chunks, grids, recordSize);
  return (array, record) => records.get(array)?.get(record);
}

function indexedRows(chunks: IndexedChunks, grids: ReadonlyMap<string, ChunkGrid>, recordSize: number): RecordSource {
  return (array, record) => {
    const grid = grids.get(array) as ChunkGrid;
    const start = record * recordSize;
    const end = Math.min(grid.size, start + recordSize);
    const rows: RecordRows = new Array<ChunkReference | undefined>(recordSize);
    let any = false;
    for (let index = start; index < end; index++) {
      const reference = chunks.reference(array, index);
      if (reference === undefined) continue;
      checkReference(() => `${array}/${grid.suffixOf(index)}`, reference);
      rows[index - start] = reference;
      any = true;
    }
    return any ? rows : undefined;
  };
}

/**
 * The bytes of one record file of `recordSize` rows (row k: the chunk `rows[k]`, a hole or
 * undefined for a missing chunk), in memory: what `writeParquetReferences` writes for each
 * record, for a server that answers record files on request. Throws ReferenceFormatError for a
 * reference without a url or with a negative or fractional range.
 */
export function encodeParquetRecord(rows: ReadonlyArray<ChunkReference | undefined>, recordSize: number, codec: ParquetCodec = defaultParquetCodec()): Uint8Array {
  if (!Number.isSafeInteger(recordSize) || recordSize <= 0) throw new RangeError(`recordSize must be a positive integer, got ${recordSize}`);
  if (rows.length > recordSize) throw new RangeError(`${rows.length} rows for a record of ${recordSize}`);
  if (codec === 'ZSTD' && !zstdCompressSync) throw new Error('ZSTD needs node:zlib zstd support or the zstd-napi package');
  for (let row = 0; row < rows.length; row++) {
    const reference = rows[row];
    if (reference !== undefined) checkReference(() => `row ${row}`, reference);
  }
  return new RecordEncoder(recordSize, codec).encode(rows);
}

/**
 * The text of `.zmetadata`, documents in metadata order (verbatim from `texts` where they say
 * the same). Throws ReferenceFormatError, naming `target`, for a document that is not an object.
 */
export function parquetZmetadataText(metadata: ReadonlyMap<string, JsonValue>, texts: ReadonlyMap<string, string> | undefined, recordSize: number, target: string): string {
  const members: string[] = [];
  for (const [key, document] of metadata) {
    if (key === PARQUET_METADATA_FILE) continue;
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new ReferenceFormatError(`${target}: metadata "${key}" must be a JSON object`);
    }
    const text = texts?.get(key);
    const verbatim = text !== undefined && saysTheSame(text, document);
    members.push(`${JSON.stringify(key)}: ${verbatim ? text.trim() : JSON.stringify(document)}`);
  }
  return `{"metadata": {${members.join(', ')}}, "record_size": ${recordSize}, "zarr_consolidated_format": 1}`;
}

function saysTheSame(text: string, document: JsonValue): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(text), document);
  } catch {
    return false;
  }
}

/** Per array, per record number: the record's rows (holes are missing chunks). */
type RecordRows = Array<ChunkReference | undefined>;
type ReadonlyRecordRows = ReadonlyArray<ChunkReference | undefined>;

function groupByRecord(chunks: ReadonlyMap<string, ChunkReference>, grids: ReadonlyMap<string, ChunkGrid>, recordSize: number): Map<string, Map<number, RecordRows>> {
  const records = new Map<string, Map<number, RecordRows>>();
  for (const [key, reference] of chunks) {
    const location = locateChunk(key, grids);
    if (location === undefined) {
      throw new ReferenceFormatError(`chunk key "${key}" is not a chunk of any array in the metadata (unknown array or index outside its grid)`);
    }
    checkReference(() => key, reference);
    let byRecord = records.get(location.array);
    if (byRecord === undefined) {
      byRecord = new Map();
      records.set(location.array, byRecord);
    }
    const record = Math.floor(location.index / recordSize);
    let rows = byRecord.get(record);
    if (rows === undefined) {
      rows = new Array<ChunkReference | undefined>(recordSize);
      byRecord.set(record, rows);
    }
    rows[location.index - record * recordSize] = reference;
  }
  return records;
}

const SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: 4 },
  { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'offset', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'size', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'raw', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
];

const EMPTY_BYTES = new Uint8Array(0);

/** Target uncompressed bytes of a data page: 1024 offsets or sizes, 2048 dictionary-coded paths. */
const PAGE_BYTES = 8192;

/** Rows of a row group (the last of a record may have fewer). */
const ROW_GROUP_ROWS = 10_000;

/** Encodes records of `recordSize` rows as parquet files. */
class RecordEncoder {
  private emptyRecord: Uint8Array | undefined;

  constructor(
    private readonly recordSize: number,
    private readonly codec: ParquetCodec,
  ) {}

  /** The file of a record with no chunks (the same bytes every time). */
  empty(): Uint8Array {
    this.emptyRecord ??= this.encode(new Array<ChunkReference | undefined>(this.recordSize));
    return this.emptyRecord;
  }

  /** Rows are checked by checkReference. */
  encode(rows: ReadonlyRecordRows): Uint8Array {
    const size = this.recordSize;
    const paths = new Array<string | null>(size).fill(null);
    const offsets = new BigInt64Array(size);
    const sizes = new BigInt64Array(size);
    const raws = new Array<Uint8Array | null>(size).fill(null);
    let anyPath = false;
    for (let row = 0; row < size; row++) {
      const reference = rows[row];
      if (reference === undefined) continue;
      if (reference.kind === 'inline') {
        raws[row] = reference.data;
        continue;
      }
      if (reference.kind === 'range') {
        if (reference.offset === 0 && reference.length === 0) {
          raws[row] = EMPTY_BYTES; // [url, 0, 0] means the whole file
          continue;
        }
        offsets[row] = BigInt(reference.offset);
        sizes[row] = BigInt(reference.length);
      }
      paths[row] = reference.url;
      anyPath = true;
    }
    const columnData: ColumnSource[] = [
      // Dictionary pages keep repeated urls small and decode fast; an all-null column gets none.
      // The nullable columns carry statistics (null_count): readers skip an all-null chunk unread.
      { name: 'path', data: paths, statistics: true, ...(anyPath ? { encoding: 'RLE_DICTIONARY' as const } : {}) },
      { name: 'offset', data: offsets },
      { name: 'size', data: sizes },
      { name: 'raw', data: raws, statistics: true },
    ];
    const compressor = COMPRESSORS[this.codec];
    const buffer = parquetWriteBuffer({
      columnData,
      schema: SCHEMA,
      codec: this.codec,
      ...(compressor ? { compressors: { [this.codec]: compressor } } : {}),
      statistics: false,
      statisticsTruncateLength: 64, // min / max of paths and inline data: a bound, not a copy
      // Row groups of 10 000 rows and small pages with an offset index per column
      // (hyparquet-writer writes one for every chunk of several pages): a reader seeks to the
      // ~1000 rows holding a key, not the record. The row groups bound what a reader decodes for
      // a column of few values (inline data, a sparse path), which fills a single page.
      rowGroupSize: ROW_GROUP_ROWS,
      pageSize: PAGE_BYTES,
      createdBy: 'strato (hyparquet-writer)',
    });
    return new Uint8Array(buffer);
  }
}

/** `key` names the chunk in errors (made only then: the indexed path has no key strings). */
function checkReference(key: () => string, reference: ChunkReference): void {
  if (reference.kind === 'inline') return;
  if (reference.url === '') throw new ReferenceFormatError(`chunk "${key()}": reference without a url`);
  if (reference.kind === 'whole') return;
  for (const [name, value] of [
    ['offset', reference.offset],
    ['length', reference.length],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ReferenceFormatError(`chunk "${key()}": ${name} ${value} is not a non-negative integer`);
    }
  }
}

async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function toBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
