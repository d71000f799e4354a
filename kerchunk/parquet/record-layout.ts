import type { FileHandle } from 'node:fs/promises';
import { type ColumnMetaData, type FileMetaData, parquetMetadata, parquetSchema, readOffsetIndex, type SchemaTree } from 'hyparquet';
import { ReferenceFormatError } from '../reference.js';
import { readExactly } from './file-bytes.js';
import { LIMITS } from './limits.js';

/**
 * Where the reference columns of one record file lie, read from its footer and offset indexes
 * without reading any column data: what a request needs to read one row range of the record.
 * Every number a hostile file declares is checked against the file's own size and the record's
 * row count before anything is allocated from it.
 */

export const REFERENCE_COLUMNS = ['path', 'offset', 'size', 'raw'] as const;
export type ColumnName = (typeof REFERENCE_COLUMNS)[number];

/** One data page of a column chunk, from its offset index. */
export interface PageSpan {
  /** Absolute byte offset of the page header in the file. */
  readonly offset: number;
  /** Bytes of header and page. */
  readonly bytes: number;
  /** First row of the page, relative to its row group. */
  readonly firstRow: number;
}

export interface ColumnLayout {
  readonly name: ColumnName;
  readonly meta: ColumnMetaData;
  readonly schemaPath: SchemaTree[];
  /** Byte range of the column chunk (dictionary page included). */
  readonly start: number;
  readonly end: number;
  /** First data page (where the dictionary page, if any, ends). */
  readonly dataStart: number;
  /** Pages from the offset index, when the file has one for this chunk (several pages). */
  readonly pages?: readonly PageSpan[];
  /** Statistics say every value is null: nothing to read. */
  readonly allNull: boolean;
}

export interface RowGroupLayout {
  /** First row of the group in the record. */
  readonly start: number;
  readonly rows: number;
  readonly columns: readonly ColumnLayout[];
  /** Row ranges can be read page by page: the columns to read have offset indexes (or are small). */
  readonly seekable: boolean;
}

export interface RecordLayout {
  readonly file: string;
  readonly rows: number;
  /** The reference columns present (checked: types, and offset and size beside path). */
  readonly columns: readonly ColumnName[];
  readonly rowGroups: readonly RowGroupLayout[];
  /** What this layout costs in memory, roughly (for the cache bound). */
  readonly byteSize: number;
}

type PageLocation = ReturnType<typeof readOffsetIndex>['page_locations'][number];

const MAGIC = 0x31524150; // "PAR1", little-endian

function unreadable(file: string, why: string): ReferenceFormatError {
  return new ReferenceFormatError(`${file} is not a readable parquet file (truncated or not parquet?): ${why}`);
}

/** Reads and checks the footer and offset indexes of an open record file. */
export async function readRecordLayout(handle: FileHandle, file: string, recordSize: number): Promise<RecordLayout> {
  const { size } = await handle.stat();
  if (size < 12) throw unreadable(file, `${size} bytes is too short`);
  const tail = await readExactly(handle, size - 8, 8, file);
  const tailView = new DataView(tail.buffer, tail.byteOffset, 8);
  const head = await readExactly(handle, 0, 4, file);
  if (tailView.getUint32(4, true) !== MAGIC || new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) !== MAGIC) {
    throw unreadable(file, 'no PAR1 magic at its start and end');
  }
  const footerBytes = tailView.getUint32(0, true);
  if (footerBytes > size - 12) throw unreadable(file, `its footer declares ${footerBytes} bytes, more than the file holds`);
  if (footerBytes > LIMITS.footerBytes) {
    throw new ReferenceFormatError(`${file}: its footer of ${footerBytes} bytes is larger than the ${LIMITS.footerBytes} bytes a record file may have`);
  }
  const footer = await readExactly(handle, size - 8 - footerBytes, footerBytes + 8, file);
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(footer);
  } catch (error) {
    throw unreadable(file, (error as Error).message);
  }
  const dataEnd = size - 8 - footerBytes;
  const columns = checkSchema(metadata, file);
  const rows = checkRows(metadata, file, recordSize);
  const tree = parquetSchema(metadata);
  const groups = planRowGroups(metadata, tree, columns, file, dataEnd);
  const indexBytes = await attachOffsetIndexes(handle, groups, file, dataEnd);
  const rowGroups = groups.map(finishGroup);
  return { file, rows, columns, rowGroups, byteSize: 1024 + footerBytes * 6 + indexBytes * 4 };
}

/** The reference columns a record file has; errors for files that cannot be reference records. */
function checkSchema(metadata: FileMetaData, file: string): ColumnName[] {
  const present: ColumnName[] = [];
  for (const child of parquetSchema(metadata).children) {
    const { name, type } = child.element;
    const column = REFERENCE_COLUMNS.find((candidate) => candidate === name);
    if (column === undefined) continue;
    if (present.includes(column)) throw new ReferenceFormatError(`${file} has two columns named "${column}"`);
    const integer = column === 'offset' || column === 'size';
    const expected = integer ? 'INT64' : 'BYTE_ARRAY';
    if (child.children.length > 0 || child.element.repetition_type === 'REPEATED' || (type !== expected && !(integer && type === 'INT32'))) {
      throw new ReferenceFormatError(`${file}: column "${name}" has type ${type ?? 'group'}, expected ${expected}`);
    }
    present.push(column);
  }
  const has = (name: ColumnName): boolean => present.includes(name);
  if (!has('path') && !has('raw')) {
    throw new ReferenceFormatError(`${file} has neither a "path" nor a "raw" column (columns: ${columnNames(metadata)})`);
  }
  if (has('path')) {
    for (const name of ['offset', 'size'] as const) {
      if (!has(name)) throw new ReferenceFormatError(`${file} has a "path" column but no "${name}" column (columns: ${columnNames(metadata)})`);
    }
  }
  return present;
}

function columnNames(metadata: FileMetaData): string {
  const names = parquetSchema(metadata).children.map((child) => child.element.name);
  const shown = names.slice(0, 20).map((name) => (name.length > 40 ? `${name.slice(0, 37)}...` : name));
  return (shown.join(', ') || 'none') + (names.length > shown.length ? `, … (${names.length} columns)` : '');
}

function checkRows(metadata: FileMetaData, file: string, recordSize: number): number {
  const rows = Number(metadata.num_rows);
  if (!Number.isSafeInteger(rows) || rows < 0) throw unreadable(file, `it declares ${metadata.num_rows} rows`);
  if (rows > recordSize) throw new ReferenceFormatError(`${file} has ${rows} rows, more than the record_size ${recordSize} of .zmetadata`);
  if (rows > LIMITS.recordRows) throw new ReferenceFormatError(`${file} has ${rows} rows, more than the ${LIMITS.recordRows} a record file may have`);
  let sum = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    if (!Number.isSafeInteger(groupRows) || groupRows < 0) throw unreadable(file, `a row group declares ${group.num_rows} rows`);
    sum += groupRows;
  }
  if (sum !== rows) throw unreadable(file, `its row groups hold ${sum} rows, its footer says ${rows}`);
  return rows;
}

interface GroupDraft {
  readonly start: number;
  readonly rows: number;
  readonly columns: Array<Omit<ColumnLayout, 'pages'> & { pages?: PageSpan[]; indexStart?: number; indexBytes?: number }>;
}

function planRowGroups(metadata: FileMetaData, tree: SchemaTree, names: readonly ColumnName[], file: string, dataEnd: number): GroupDraft[] {
  const groups: GroupDraft[] = [];
  let start = 0;
  metadata.row_groups.forEach((group, index) => {
    const rows = Number(group.num_rows);
    const columns: GroupDraft['columns'] = [];
    for (const name of names) {
      const chunk = group.columns.find((candidate) => candidate.meta_data?.path_in_schema.length === 1 && candidate.meta_data.path_in_schema[0] === name);
      const meta = chunk?.meta_data;
      if (chunk === undefined || meta === undefined) throw unreadable(file, `row group ${index} has no chunk of column "${name}"`);
      if (chunk.file_path !== undefined) throw new ReferenceFormatError(`${file}: column chunks in other files (file_path) are not supported`);
      const where = `row group ${index}, column "${name}"`;
      const schemaPath: SchemaTree[] = [tree, tree.children.find((child) => child.element.name === name) as SchemaTree];
      if (meta.type !== schemaPath[1]?.element.type) throw unreadable(file, `${where} holds ${meta.type} values, its schema says ${schemaPath[1]?.element.type}`);
      const dictionary = meta.dictionary_page_offset === undefined ? undefined : Number(meta.dictionary_page_offset);
      const dataStart = Number(meta.data_page_offset);
      const chunkStart = dictionary !== undefined && dictionary > 0 && dictionary < dataStart ? dictionary : dataStart;
      const end = chunkStart + Number(meta.total_compressed_size);
      if (!Number.isSafeInteger(end) || chunkStart < 4 || dataStart < chunkStart || end > dataEnd || dataStart >= end) {
        throw unreadable(file, `${where}: its bytes ${chunkStart}..${end} lie outside the data of the file (4..${dataEnd})`);
      }
      if (end - chunkStart > LIMITS.columnChunkBytes) {
        throw new ReferenceFormatError(`${file}: ${where} has ${end - chunkStart} bytes, more than the ${LIMITS.columnChunkBytes} a record column may have`);
      }
      const values = Number(meta.num_values);
      if (!Number.isSafeInteger(values) || values < 0 || values > rows) throw unreadable(file, `${where} declares ${meta.num_values} values in ${rows} rows`);
      const nulls = meta.statistics?.null_count;
      const allNull = rows > 0 && nulls !== undefined && Number(nulls) === rows && schemaOptional(tree, name);
      const draft: GroupDraft['columns'][number] = {
        name,
        meta,
        schemaPath,
        start: chunkStart,
        end,
        dataStart,
        allNull,
      };
      if (chunk.offset_index_offset !== undefined && chunk.offset_index_length !== undefined && !allNull) {
        draft.indexStart = Number(chunk.offset_index_offset);
        draft.indexBytes = chunk.offset_index_length;
      }
      columns.push(draft);
    }
    groups.push({ start, rows, columns });
    start += rows;
  });
  return groups;
}

function schemaOptional(tree: SchemaTree, name: string): boolean {
  return tree.children.find((child) => child.element.name === name)?.element.repetition_type === 'OPTIONAL';
}

/**
 * Reads the offset indexes of the columns to read, as one span when they lie together (as
 * writers put them, before the footer); a file whose indexes are scattered further apart than
 * LIMITS.indexBytes is read without them (whole column chunks, as for files that have none).
 * Returns the bytes read.
 */
async function attachOffsetIndexes(handle: FileHandle, groups: GroupDraft[], file: string, dataEnd: number): Promise<number> {
  let low = Number.POSITIVE_INFINITY;
  let high = 0;
  for (const group of groups) {
    for (const column of group.columns) {
      if (column.indexStart === undefined || column.indexBytes === undefined) continue;
      low = Math.min(low, column.indexStart);
      high = Math.max(high, column.indexStart + column.indexBytes);
    }
  }
  if (high === 0) return 0;
  if (!Number.isSafeInteger(high) || low < 4 || high > dataEnd || high - low > LIMITS.indexBytes) return 0;
  const span = await readExactly(handle, low, high - low, file);
  for (const [index, group] of groups.entries()) {
    for (const column of group.columns) {
      if (column.indexStart === undefined || column.indexBytes === undefined) continue;
      const where = `row group ${index}, column "${column.name}"`;
      let locations: PageLocation[];
      try {
        const view = new DataView(span.buffer, span.byteOffset + column.indexStart - low, column.indexBytes);
        locations = readOffsetIndex({ view, offset: 0 }).page_locations;
      } catch (error) {
        throw unreadable(file, `the offset index of ${where} cannot be read: ${(error as Error).message}`);
      }
      column.pages = checkPages(locations, column, group.rows, `${file}: ${where}`);
    }
  }
  return high - low;
}

/** Page locations in order, inside their column chunk, covering the group's rows from row 0. */
function checkPages(locations: readonly PageLocation[], column: { start: number; end: number; dataStart: number }, rows: number, where: string): PageSpan[] {
  if (!Array.isArray(locations) || locations.length === 0) throw new ReferenceFormatError(`${where}: an empty offset index`);
  const pages: PageSpan[] = [];
  let lastEnd = column.dataStart;
  for (const location of locations) {
    const offset = Number(location.offset);
    const bytes = location.compressed_page_size;
    const firstRow = Number(location.first_row_index);
    const previous = pages.at(-1);
    const ordered = previous === undefined ? firstRow === 0 : firstRow > previous.firstRow;
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(bytes) ||
      !Number.isSafeInteger(firstRow) ||
      !ordered ||
      firstRow >= Math.max(rows, 1) ||
      bytes <= 0 ||
      offset < lastEnd ||
      offset + bytes > column.end
    ) {
      throw new ReferenceFormatError(
        `${where}: its offset index does not describe the column chunk (page at ${location.offset}, ${location.compressed_page_size} bytes, row ${location.first_row_index})`,
      );
    }
    pages.push({ offset, bytes, firstRow });
    lastEnd = offset + bytes;
  }
  return pages;
}

function finishGroup(draft: GroupDraft): RowGroupLayout {
  const columns: ColumnLayout[] = draft.columns.map(({ indexStart: _start, indexBytes: _bytes, pages, ...column }) =>
    pages !== undefined && pages.length > 1 ? { ...column, pages } : column,
  );
  // A column without an index is read whole with every range: fine when it is small (one page).
  const toRead = columns.filter((column) => !column.allNull);
  const seekable =
    toRead.some((column) => column.pages !== undefined) && toRead.every((column) => column.pages !== undefined || column.end - column.start <= LIMITS.smallChunkBytes);
  return { start: draft.start, rows: draft.rows, columns, seekable };
}
