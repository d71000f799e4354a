import type { Dir } from 'node:fs';
import { type FileHandle, open, opendir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkGrid, locateChunk } from './chunk-grid.js';
import { objectMemberTexts } from './json-spans.js';
import { Gate } from './parquet/gate.js';
import { LIMITS } from './parquet/limits.js';
import { type ColumnName, type RecordLayout, type RowGroupLayout, readRecordLayout } from './parquet/record-layout.js';
import { type ColumnRows, readRowRange } from './parquet/row-range.js';
import { type ChunkReference, type JsonValue, ReferenceFormatError, type ReferenceStore } from './reference.js';
import { SingleFlightCache } from './single-flight-cache.js';
import { keyProblem } from './zarr-keys.js';
import { type ZarrArrayMetadata, zarrayProblem } from './zarr-metadata.js';

/**
 * fsspec parquet reference sets (the `LazyReferenceMapper` layout written by kerchunk):
 *
 * ```
 * dir/.zmetadata                 {"metadata": {key: document}, "record_size": N}
 * dir/<array>/refs.<record>.parq  rows path, offset, size, raw — one row per chunk
 * ```
 *
 * Chunk k (C-order linear index in the array's chunk grid) is row `k % N` of record `k / N`.
 * A row with `raw` holds the chunk inline; otherwise a null `path` is a missing chunk, offset =
 * size = 0 is the whole file, anything else a byte range (an empty path counts as null). A record
 * file that does not exist holds only missing chunks (fsspec answers KeyError for its keys); one
 * that cannot be decoded makes `chunk()` reject with a ReferenceFormatError naming the file.
 *
 * A request reads only what its row needs: the record file's footer and offset indexes (kept
 * in a small LRU), then the pages holding the row's piece of LIMITS.pieceRows rows — or, for
 * files without an offset index (fsspec's, older strato's), the row group holding it. Pieces
 * are decoded into typed arrays and live in an LRU bounded in bytes; concurrent requests for
 * one piece read it once. Every size a record file declares is checked before it is used
 * (parquet/record-layout.ts, parquet/row-range.ts).
 */
export interface ParquetReferenceOptions {
  /** Upper bound on the record layouts and decoded pieces kept in memory, in bytes (default 64 MiB; up to an eighth, at most 2 MiB, for layouts). */
  readonly cacheBytes?: number;
}

export interface ParquetCacheStats {
  /** Bytes of decoded pieces and record layouts held now. */
  readonly bytes: number;
  /** Decoded pieces (row ranges of records) held now. */
  readonly records: number;
  /** The bound on `bytes`. */
  readonly maxBytes: number;
  /** Pieces (row ranges) read and decoded since the store was opened: the cache misses. */
  readonly loads: number;
}

export interface ParquetReferenceStore extends ReferenceStore {
  /** Rows per record file, from `.zmetadata`. */
  readonly recordSize: number;
  /** As ReferenceStore's; reads only the record files that exist, and stops when `signal` aborts. */
  urls(options?: { readonly signal?: AbortSignal }): AsyncIterable<string>;
  cacheStats(): ParquetCacheStats;
}

export const DEFAULT_PARQUET_CACHE_BYTES = 64 * 1024 * 1024;

/** The consolidated metadata file of a parquet reference set. */
export const PARQUET_METADATA_FILE = '.zmetadata';

/** The file holding record `record` of the chunks of `array` ('T2', 'group/var'). */
export function recordFilePath(dir: string, array: string, record: number): string {
  return join(dir, ...array.split('/'), `refs.${record}.parq`);
}

export async function openParquetReferences(dir: string, options: ParquetReferenceOptions = {}): Promise<ParquetReferenceStore> {
  const cacheBytes = options.cacheBytes ?? DEFAULT_PARQUET_CACHE_BYTES;
  if (!Number.isSafeInteger(cacheBytes) || cacheBytes <= 0) {
    throw new RangeError(`cacheBytes must be a positive integer, got ${cacheBytes}`);
  }
  const file = join(dir, PARQUET_METADATA_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ReferenceFormatError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const { metadata, metadataText, recordSize } = parseZmetadata(text, file);
  return new LazyParquetStore(dir, metadata, metadataText, recordSize, parquetArrayGrids(metadata, file), cacheBytes);
}

interface Zmetadata {
  readonly metadata: Map<string, JsonValue>;
  readonly metadataText: Map<string, string>;
  readonly recordSize: number;
}

/** `.zmetadata`: documents parsed, and their text as written (a string document's text is its value). */
function parseZmetadata(text: string, file: string): Zmetadata {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ReferenceFormatError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(document)) throw new ReferenceFormatError(`${file} must hold a JSON object`);
  const recordSize = document.record_size;
  if (typeof recordSize !== 'number' || !Number.isSafeInteger(recordSize) || recordSize <= 0) {
    throw new ReferenceFormatError(`${file} needs "record_size", a positive integer; got ${describe(recordSize)}`);
  }
  if (!isObject(document.metadata)) throw new ReferenceFormatError(`${file} needs a "metadata" object`);
  const texts = documentTexts(text);
  const metadata = new Map<string, JsonValue>();
  const metadataText = new Map<string, string>();
  for (const [key, value] of Object.entries(document.metadata)) {
    if (key === PARQUET_METADATA_FILE) continue;
    const documentText = typeof value === 'string' ? value : (texts.get(key) ?? JSON.stringify(value));
    let parsed: unknown = value;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch (error) {
        throw new ReferenceFormatError(`${file}: metadata "${key}" is a string that is not JSON: ${(error as Error).message}`);
      }
    }
    if (!isObject(parsed)) throw new ReferenceFormatError(`${file}: metadata "${key}" must be a JSON object, got ${describe(value)}`);
    metadata.set(key, parsed as JsonValue);
    metadataText.set(key, documentText.trim());
  }
  return { metadata, metadataText, recordSize };
}

/** The text of each document in `.zmetadata` (empty when the scan fails: then documents are re-serialised). */
function documentTexts(text: string): Map<string, string> {
  try {
    return objectMemberTexts(objectMemberTexts(text).get('metadata') ?? '{}');
  } catch {
    return new Map();
  }
}

/**
 * The chunk grid of every array that has record files ('T2', 'group/var'; a root array has none).
 * Throws ReferenceFormatError, naming `file`, for unusable array paths and `.zarray` documents.
 */
export function parquetArrayGrids(metadata: ReadonlyMap<string, JsonValue>, file: string): Map<string, ChunkGrid> {
  const grids = new Map<string, ChunkGrid>();
  for (const [key, document] of metadata) {
    if (!key.endsWith('/.zarray')) continue;
    const array = key.slice(0, -'/.zarray'.length);
    const pathProblem = keyProblem(array);
    if (pathProblem !== undefined) throw new ReferenceFormatError(`${file}: array path "${array}" is unusable: ${pathProblem}`);
    const problem = zarrayProblem(document);
    if (problem !== undefined) throw new ReferenceFormatError(`${file}: "${key}" ${problem}`);
    grids.set(array, gridOf(document as unknown as ZarrArrayMetadata, key, file));
  }
  return grids;
}

function gridOf(zarray: ZarrArrayMetadata, key: string, file: string): ChunkGrid {
  try {
    return new ChunkGrid(zarray.shape, zarray.chunks, zarray.dimension_separator ?? '.');
  } catch (error) {
    throw new ReferenceFormatError(`${file}: "${key}": ${(error as Error).message}`);
  }
}

class LazyParquetStore implements ParquetReferenceStore {
  /** Footers and offset indexes of record files (what it takes to find a row's bytes). */
  private readonly layouts: SingleFlightCache<RecordLayout>;
  /** Decoded row ranges of records. */
  private readonly pieces: SingleFlightCache<RecordTable>;
  private readonly reads = new Gate(PARALLEL_READS, PARALLEL_ROWS);
  private loads = 0;

  constructor(
    private readonly dir: string,
    readonly metadata: ReadonlyMap<string, JsonValue>,
    readonly metadataText: ReadonlyMap<string, string>,
    readonly recordSize: number,
    private readonly grids: ReadonlyMap<string, ChunkGrid>,
    private readonly cacheBytes: number,
  ) {
    // Layouts are a few KiB a record: 2 MiB holds hundreds; the rest is for decoded rows.
    const layoutBytes = Math.max(1, Math.min(Math.floor(cacheBytes / 8), 2 * 1024 * 1024));
    this.layouts = new SingleFlightCache({ maxBytes: layoutBytes, sizeOf: (layout) => layout.byteSize });
    this.pieces = new SingleFlightCache({ maxBytes: Math.max(1, cacheBytes - layoutBytes), sizeOf: (table) => table.byteSize });
  }

  async chunk(key: string): Promise<ChunkReference | undefined> {
    const location = locateChunk(key, this.grids);
    if (location === undefined) return undefined;
    const record = Math.floor(location.index / this.recordSize);
    const row = location.index - record * this.recordSize;
    const layout = await this.layout(location.array, record, true);
    if (row >= layout.rows) return undefined;
    const { group, from, to } = pieceOf(layout, row);
    const table = await this.pieces.get(pieceKey(location.array, record, from), () => this.readRows(location.array, record, group, from, to));
    return table.reference(row - from);
  }

  /**
   * The distinct URLs of the record files that exist. Each array's directory is listed, so the
   * cost follows the files on disk, never the size of the chunk grid (a sparse set may declare
   * 10^12 records and hold two). Yields to the event loop between row groups; stops with the
   * signal's reason when `signal` aborts.
   */
  async *urls(options: { readonly signal?: AbortSignal } = {}): AsyncIterable<string> {
    const { signal } = options;
    const seen = new Set<string>();
    for (const [array, grid] of this.grids) {
      signal?.throwIfAborted();
      const records = Math.ceil(grid.size / this.recordSize);
      for (const record of await this.recordFiles(array, records, signal)) {
        // Walk past the caches: a full scan must not evict what serves requests.
        const layout = await this.layout(array, record, false);
        for (const group of layout.rowGroups) {
          await yieldToEventLoop();
          signal?.throwIfAborted();
          if (group.rows === 0) continue;
          const table = await this.readRows(array, record, group, group.start, group.start + group.rows);
          for (const url of table.paths) {
            if (seen.has(url)) continue;
            seen.add(url);
            yield url;
          }
        }
      }
    }
  }

  /** Numbers below `records` of the record files in an array's directory, ascending. */
  private async recordFiles(array: string, records: number, signal: AbortSignal | undefined): Promise<number[]> {
    const directory = join(this.dir, ...array.split('/'));
    const found: number[] = [];
    let listing: Dir;
    try {
      listing = await opendir(directory, { bufferSize: 256 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // No directory: every record of the array is missing (fsspec: KeyError for its chunks).
      if (code === 'ENOENT' || code === 'ENOTDIR') return found;
      throw new ReferenceFormatError(`cannot list the record files of "${array}" in ${directory}: ${(error as Error).message}`);
    }
    let entries = 0;
    for await (const entry of listing) {
      if (++entries % 1024 === 0) {
        await yieldToEventLoop();
        signal?.throwIfAborted(); // leaving the loop closes the directory
      }
      const match = RECORD_FILE.exec(entry.name);
      if (match === null) continue;
      const record = Number(match[1]);
      if (Number.isSafeInteger(record) && record < records) found.push(record);
    }
    return found.sort((a, b) => a - b);
  }

  cacheStats(): ParquetCacheStats {
    return { bytes: this.pieces.bytes + this.layouts.bytes, records: this.pieces.size, maxBytes: this.cacheBytes, loads: this.loads };
  }

  async close(): Promise<void> {
    this.pieces.clear();
    this.layouts.clear();
  }

  /** A record file's layout from the cache, or read once however many requests ask for it meanwhile. */
  private layout(array: string, record: number, keep: boolean): Promise<RecordLayout> {
    const read = () => this.reads.run(LIMITS.pieceRows, () => this.withFile(array, record, (handle, file) => readRecordLayout(handle, file, this.recordSize), NO_FILE));
    return this.layouts.get(cacheKey(array, record), read, { keep });
  }

  /** Rows [from, to) of a record (one row group's), decoded; through the gate of PARALLEL_READS and PARALLEL_ROWS. */
  private readRows(array: string, record: number, group: RowGroupLayout, from: number, to: number): Promise<RecordTable> {
    return this.reads.run(to - from, () =>
      this.withFile(
        array,
        record,
        async (handle, file) => {
          const columns = await readRowRange(handle, file, group, from - group.start, to - group.start);
          this.loads++;
          return buildTable(columns, to - from, from, file);
        },
        undefined,
      ),
    );
  }

  /**
   * `use` with the record file open. A file that is not there answers `missing` (fsspec: it
   * holds no chunks) or, when it went away since its layout was read, an error.
   */
  private async withFile<T>(array: string, record: number, use: (handle: FileHandle, file: string) => Promise<T>, missing: T | undefined): Promise<T> {
    const file = recordFilePath(this.dir, array, record);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (missing !== undefined && (code === 'ENOENT' || code === 'ENOTDIR')) return missing;
      throw new ReferenceFormatError(`cannot read record file ${file}: ${(error as Error).message}`);
    }
    try {
      return await use(handle, file);
    } catch (error) {
      if (error instanceof ReferenceFormatError) throw error;
      throw new ReferenceFormatError(`${file}: cannot decode the parquet data: ${(error as Error).message}`);
    } finally {
      await handle.close();
    }
  }
}

/**
 * Footers or row ranges read and decoded at the same time, and the rows they may hold between
 * them: what a burst of misses holds in memory is bounded however the reads fall (four records
 * of 100 000 rows, or four pieces; a record larger than that is read alone).
 */
const PARALLEL_READS = 4;
const PARALLEL_ROWS = 400_000;

/** A record file that is not there: no rows, so every chunk of it is missing. */
const NO_FILE: RecordLayout = Object.freeze({ file: '', rows: 0, columns: [], rowGroups: [], byteSize: 64 });

/** The rows read together for `row`: its page-aligned piece where the file can seek, else its row group. */
function pieceOf(layout: RecordLayout, row: number): { group: RowGroupLayout; from: number; to: number } {
  const groups = layout.rowGroups;
  let low = 0;
  let high = groups.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((groups[middle] as RowGroupLayout).start <= row) low = middle;
    else high = middle - 1;
  }
  const group = groups[low] as RowGroupLayout;
  const end = group.start + group.rows;
  if (!group.seekable) return { group, from: group.start, to: end };
  const from = group.start + Math.floor((row - group.start) / LIMITS.pieceRows) * LIMITS.pieceRows;
  return { group, from, to: Math.min(end, from + LIMITS.pieceRows) };
}

/** `refs.<record>.parq`, the record number written as `recordFilePath` writes it. */
const RECORD_FILE = /^refs\.(0|[1-9][0-9]*)\.parq$/;

/** Lets other work run between steps of a long loop. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function cacheKey(array: string, record: number): string {
  return `${array}\u0000${record}`;
}

function pieceKey(array: string, record: number, from: number): string {
  return `${array}\u0000${record}\u0000${from}`;
}

// ---------------------------------------------------------------------------------------------
// Rows of a record, decoded

// 0: no reference (a missing chunk)
const INLINE = 1;
const RANGE = 2;
const WHOLE = 3;

/**
 * Rows of one record file, column-wise in typed arrays. Rows past `rows` are missing chunks,
 * so the null padding fsspec writes up to record_size costs nothing here.
 */
class RecordTable {
  readonly byteSize: number;

  constructor(private readonly columns: RecordColumns) {
    const { kinds, pathIds, paths, offsets, sizes, rawStarts, rawBytes } = columns;
    let bytes = 256 + kinds.byteLength + pathIds.byteLength + offsets.byteLength + sizes.byteLength;
    bytes += (rawStarts?.byteLength ?? 0) + (rawBytes?.byteLength ?? 0);
    for (const path of paths) bytes += 48 + 2 * path.length;
    this.byteSize = bytes;
  }

  get paths(): readonly string[] {
    return this.columns.paths;
  }

  reference(row: number): ChunkReference | undefined {
    const { rows, kinds, pathIds, paths, offsets, sizes, rawStarts, rawBytes } = this.columns;
    if (row >= rows) return undefined;
    switch (kinds[row]) {
      case INLINE:
        if (rawStarts === undefined || rawBytes === undefined) return { kind: 'inline', data: new Uint8Array(0) };
        return { kind: 'inline', data: rawBytes.slice(rawStarts[row], rawStarts[row + 1]) };
      case RANGE:
        return { kind: 'range', url: paths[pathIds[row] as number] as string, offset: offsets[row] as number, length: sizes[row] as number };
      case WHOLE:
        return { kind: 'whole', url: paths[pathIds[row] as number] as string };
      default:
        return undefined;
    }
  }
}

/** Decoded rows, column-wise; rows past `rows` are missing chunks. */
interface RecordColumns {
  readonly rows: number;
  /** 0 (missing), INLINE, RANGE or WHOLE per row. */
  readonly kinds: Uint8Array;
  /** Index into `paths` per range or whole row; 8 or 16 bits when the record has few paths (the usual case). */
  readonly pathIds: Uint8Array | Uint16Array | Uint32Array;
  /** Distinct paths of the rows, as written. */
  readonly paths: readonly string[];
  /** 32 bits when every offset fits (sources under 4 GiB). */
  readonly offsets: Uint32Array | Float64Array;
  /** 32 bits when every size fits (always, in practice). */
  readonly sizes: Uint32Array | Float64Array;
  /** Inline row i is rawBytes[rawStarts[i], rawStarts[i + 1]); absent when all inline rows are empty. */
  readonly rawStarts?: Uint32Array;
  readonly rawBytes?: Uint8Array;
}

/** `rows` rows read from record row `firstRow` on (error messages name record rows). */
function buildTable(columns: ReadonlyMap<ColumnName, ColumnRows>, rows: number, firstRow: number, file: string): RecordTable {
  const column = (name: ColumnName): ((row: number) => unknown) => {
    const read = columns.get(name);
    if (read === undefined) return () => null;
    const { values, at } = read;
    return (row) => values[at + row];
  };
  const pathOf = column('path');
  const rawOf = column('raw');
  const offsetOf = column('offset');
  const sizeOf = column('size');

  // Trailing missing rows (fsspec pads every record to record_size) are not stored.
  let used = 0;
  for (let row = rows - 1; row >= 0; row--) {
    const path = pathOf(row);
    if (rawOf(row) != null || (path != null && path !== '')) {
      used = row + 1;
      break;
    }
  }
  const kinds = new Uint8Array(used);
  const pathIds = new Uint32Array(used);
  const offsetColumn = new Float64Array(used);
  const sizeColumn = new Float64Array(used);
  const rawStarts = new Uint32Array(used + 1);
  const distinct = new Map<string, number>();
  const inline: Uint8Array[] = [];
  let rawLength = 0;
  let lastPath: unknown;
  let lastUrl = '';

  for (let row = 0; row < used; row++) {
    rawStarts[row] = rawLength;
    const raw = rawOf(row);
    if (raw != null) {
      const data = asBytes(raw, file, firstRow + row);
      inline.push(data);
      rawLength += data.byteLength;
      if (rawLength > 0xffffffff) throw new ReferenceFormatError(`${file} holds more than 4 GiB of inline data`);
      kinds[row] = INLINE;
      continue;
    }
    const path = pathOf(row);
    if (path == null) continue;
    // Dictionary-encoded columns repeat one decoded value object: decode its text once.
    if (path !== lastPath) {
      lastPath = path;
      lastUrl = asText(path, file, firstRow + row);
    }
    const url = lastUrl;
    if (url === '') continue;
    const offset = asCount(offsetOf(row), 'offset', file, firstRow + row);
    const size = asCount(sizeOf(row), 'size', file, firstRow + row);
    let id = distinct.get(url);
    if (id === undefined) {
      id = distinct.size;
      distinct.set(url, id);
    }
    pathIds[row] = id;
    offsetColumn[row] = offset;
    sizeColumn[row] = size;
    kinds[row] = offset === 0 && size === 0 ? WHOLE : RANGE;
  }
  rawStarts[used] = rawLength;

  // Narrow columns: a 10-million-chunk set is 100 records, and how many stay cached is bytes per row.
  const table = {
    rows: used,
    kinds,
    pathIds: distinct.size <= 0x100 ? Uint8Array.from(pathIds) : distinct.size <= 0x10000 ? Uint16Array.from(pathIds) : pathIds,
    paths: [...distinct.keys()],
    offsets: largest(offsetColumn) <= 0xffffffff ? Uint32Array.from(offsetColumn) : offsetColumn,
    sizes: largest(sizeColumn) <= 0xffffffff ? Uint32Array.from(sizeColumn) : sizeColumn,
  };
  if (rawLength === 0) return new RecordTable(table);
  const rawBytes = new Uint8Array(rawLength);
  let at = 0;
  for (const data of inline) {
    rawBytes.set(data, at);
    at += data.byteLength;
  }
  return new RecordTable({ ...table, rawStarts, rawBytes });
}

function largest(values: Float64Array): number {
  let max = 0;
  for (const value of values) if (value > max) max = value;
  return max;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

function asText(value: unknown, file: string, row: number): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) {
    try {
      return textDecoder.decode(value);
    } catch {
      throw new ReferenceFormatError(`${file}: row ${row} has a path that is not UTF-8`);
    }
  }
  throw new ReferenceFormatError(`${file}: row ${row} has a path of unexpected type ${typeof value}`);
}

function asBytes(value: unknown, file: string, row: number): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return textEncoder.encode(value);
  throw new ReferenceFormatError(`${file}: row ${row} has raw data of unexpected type ${typeof value}`);
}

function asCount(value: unknown, column: string, file: string, row: number): number {
  const number = typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw new ReferenceFormatError(`${file}: row ${row} has a path but ${column} ${describe(value)}, expected a non-negative integer`);
  }
  return number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  const text = typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
