import type { Dataset } from '../catalog/dataset.js';
import type { ChunkGrid } from '../kerchunk/chunk-grid.js';
import { PARQUET_METADATA_FILE, parquetArrayGrids } from '../kerchunk/parquet-references.js';
import { encodeParquetRecord, parquetZmetadataText } from '../kerchunk/parquet-writer.js';
import type { ChunkReference, JsonValue } from '../kerchunk/reference.js';
import type { RequestBudget } from '../kerchunk/request-budget.js';
import { etagOf } from '../server/http/etag.js';
import { completeMetadata } from './raw-view.js';
import { chunkUrlMaker } from './reference-table.js';

/**
 * A dataset's kerchunk reference table in fsspec's parquet layout (what `LazyReferenceMapper`
 * and kerchunk/parquet-references.ts read), made one file at a time on request:
 *
 * - `.zmetadata`: `{"metadata": {key: document}, "record_size": N, ...}`, the raw view's documents;
 * - `<array>/refs.<record>.parq`: rows path, offset, size, raw for chunks record·N … record·N+N-1
 *   of the array's grid in C order (the last record padded with null rows, as fsspec pads).
 *   A chunk the table has inline stays inline (`raw`); any other is the absolute URL of the raw
 *   view's object (offset = size = 0: the whole object), spelled as references.json spells it;
 *   a chunk the table lacks has a null path (a missing chunk: the fill value). A derived
 *   dataset lists every chunk by URL (it computes a chunk to know whether it exists).
 *
 * Only the rows of the asked record are looked up and encoded: a grid of 10^9 chunks costs no
 * more per file than one of 10^4, and nothing the size of the grid is ever allocated.
 */
export const PARQUET_RECORD_SIZE = 10_000;

/** The arrays with record files and their grids; the completed metadata documents. */
export interface ParquetLayout {
  readonly texts: ReadonlyMap<string, string>;
  readonly metadata: ReadonlyMap<string, JsonValue>;
  readonly grids: ReadonlyMap<string, ChunkGrid>;
}

export function parquetLayout(dataset: Dataset): ParquetLayout {
  const texts = completeMetadata(dataset.references.metadataText);
  const metadata = new Map<string, JsonValue>();
  for (const [key, text] of texts) metadata.set(key, JSON.parse(text) as JsonValue);
  return { texts, metadata, grids: parquetArrayGrids(metadata, PARQUET_METADATA_FILE) };
}

/** The text of `.zmetadata`. */
export function parquetZmetadata(layout: ParquetLayout, recordSize: number = PARQUET_RECORD_SIZE): string {
  return `${parquetZmetadataText(layout.metadata, layout.texts, recordSize, PARQUET_METADATA_FILE)}\n`;
}

/** Record files of a grid (a grid without chunks has none). */
export function recordCount(grid: ChunkGrid, recordSize: number = PARQUET_RECORD_SIZE): number {
  return Math.ceil(grid.size / recordSize);
}

/**
 * The bytes of record `record` of `array`, or undefined when the dataset has no such array or
 * the record lies past its grid. `baseUrl`: the server's public base URL (no trailing slash).
 */
export async function parquetRecord(
  dataset: Dataset,
  layout: ParquetLayout,
  array: string,
  record: number,
  baseUrl: string,
  budget: RequestBudget,
  recordSize: number = PARQUET_RECORD_SIZE,
): Promise<Uint8Array | undefined> {
  const grid = layout.grids.get(array);
  if (grid === undefined || !Number.isSafeInteger(record) || record < 0 || record >= recordCount(grid, recordSize)) return undefined;
  const view = `${baseUrl}/datasets/${encodeURIComponent(dataset.id)}/kerchunk`;
  const urlOf = chunkUrlMaker(dataset.id, { path: array, grid }, baseUrl, view);
  const computed = 'derivedFrom' in dataset;
  const start = record * recordSize;
  const end = Math.min(grid.size, start + recordSize);
  const rows = new Array<ChunkReference | undefined>(end - start);
  for (let index = start; index < end; index++) {
    if ((index - start) % 256 === 0) await budget.checkpoint();
    const suffix = grid.suffixOf(index);
    const reference = computed ? undefined : await dataset.references.chunk(`${array}/${suffix}`);
    if (!computed && reference === undefined) continue;
    rows[index - start] = reference?.kind === 'inline' ? reference : { kind: 'whole', url: urlOf(index, suffix) };
  }
  return encodeParquetRecord(rows, recordSize);
}

/**
 * The ETag of a file of the set (`part`: '.zmetadata' or 'array/refs.N.parq'), or undefined for a
 * derived dataset (no table version to name it by). Changes with the table, strato's version,
 * the public URL and the record size.
 */
export function parquetReferenceEtag(dataset: Dataset, part: string, baseUrl: string, version: string, recordSize: number = PARQUET_RECORD_SIZE): string | undefined {
  if (dataset.tableVersion === undefined) return undefined;
  return etagOf('reference-parquet', version, dataset.id, dataset.tableVersion, baseUrl, recordSize, part);
}
