import type { FileHandle } from 'node:fs/promises';
import type { DecodedArray } from 'hyparquet';
import { parquetHeader, readColumn } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { compressors } from 'hyparquet-compressors';
import { ReferenceFormatError } from '../reference.js';
import { readInto } from './file-bytes.js';
import { LIMITS } from './limits.js';
import type { ColumnLayout, ColumnName, RowGroupLayout } from './record-layout.js';

/**
 * Reads rows [from, to) of one row group: for each reference column only the pages holding those
 * rows when the file has an offset index (plus the column's dictionary page), else the whole
 * column chunk. Every page header in the bytes read is checked before a page is decoded, so a
 * declared size or value count never allocates more than the record can hold.
 */

/** A column's values for the rows asked for: row `from + i` is `values[at + i]`. */
export interface ColumnRows {
  readonly values: ArrayLike<unknown>;
  readonly at: number;
}

/** Columns whose statistics say they hold only nulls are left out (every row is null). */
export async function readRowRange(handle: FileHandle, file: string, group: RowGroupLayout, from: number, to: number): Promise<Map<ColumnName, ColumnRows>> {
  const plans = group.columns.filter((column) => !column.allNull).map((column) => planColumn(group, column, from, to));
  const spans = await fetchSpans(
    handle,
    file,
    plans.flatMap((plan) => plan.spans),
  );
  const columns = new Map<ColumnName, ColumnRows>();
  let next = 0;
  for (const plan of plans) {
    const parts = spans.slice(next, next + plan.spans.length);
    next += plan.spans.length;
    columns.set(plan.column.name, decodeColumnRows(file, group, plan, joined(parts), from, to));
  }
  return columns;
}

type Decoder = Parameters<typeof readColumn>[2];

interface Span {
  readonly start: number;
  readonly end: number;
}

/** The bytes to read for a column: its dictionary page and the data pages holding the rows. */
interface ColumnPlan {
  readonly column: ColumnLayout;
  readonly spans: readonly Span[];
  /** The first row of the first data page read, relative to the row group. */
  readonly first: number;
}

function planColumn(group: RowGroupLayout, column: ColumnLayout, from: number, to: number): ColumnPlan {
  const { pages } = column;
  if (pages === undefined || (from === 0 && to >= group.rows)) return { column, spans: [{ start: column.start, end: column.end }], first: 0 };
  let firstPage = -1;
  let lastPage = 0;
  for (let i = 0; i < pages.length; i++) {
    const pageStart = (pages[i] as (typeof pages)[number]).firstRow;
    const pageEnd = i + 1 < pages.length ? (pages[i + 1] as (typeof pages)[number]).firstRow : group.rows;
    if (firstPage < 0 && pageEnd > from) firstPage = i;
    if (pageStart < to) lastPage = i;
  }
  const start = pages[Math.max(firstPage, 0)] as (typeof pages)[number];
  const last = pages[lastPage] as (typeof pages)[number];
  const data = { start: start.offset, end: last.offset + last.bytes };
  // The dictionary page lies between the chunk's start and its first data page.
  const dictionaryEnd = (pages[0] as (typeof pages)[number]).offset;
  if (dictionaryEnd === column.start) return { column, spans: [data], first: start.firstRow };
  if (dictionaryEnd === data.start) return { column, spans: [{ start: column.start, end: data.end }], first: start.firstRow };
  return { column, spans: [{ start: column.start, end: dictionaryEnd }, data], first: start.firstRow };
}

/**
 * The bytes of each span: one read when they all lie within LIMITS.coalesceBytes (the columns
 * of a row group usually do: one system call for a lookup instead of one per page run).
 */
async function fetchSpans(handle: FileHandle, file: string, spans: readonly Span[]): Promise<Uint8Array[]> {
  if (spans.length === 0) return [];
  const low = Math.min(...spans.map((span) => span.start));
  const high = Math.max(...spans.map((span) => span.end));
  if (high - low <= LIMITS.coalesceBytes) {
    const all = new Uint8Array(high - low);
    await readInto(handle, all, low, file);
    return spans.map((span) => all.subarray(span.start - low, span.end - low));
  }
  const parts: Uint8Array[] = [];
  for (const span of spans) {
    const bytes = new Uint8Array(span.end - span.start);
    await readInto(handle, bytes, span.start, file);
    parts.push(bytes);
  }
  return parts;
}

function joined(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return bytes;
}

function decodeColumnRows(file: string, group: RowGroupLayout, plan: ColumnPlan, bytes: Uint8Array, from: number, to: number): ColumnRows {
  const { column, first } = plan;
  const where = `${file}: column "${column.name}"`;
  checkPageHeaders(bytes, group.rows, where);

  const decoder: Decoder = {
    pathInSchema: [column.name],
    type: column.meta.type,
    element: (column.schemaPath[1] as (typeof column.schemaPath)[number]).element,
    schemaPath: column.schemaPath,
    codec: column.meta.codec,
    parsers: DEFAULT_PARSERS,
    compressors,
    utf8: false,
  };
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  let result: { data: DecodedArray[]; skipped: number };
  try {
    result = readColumn(reader, { groupStart: 0, selectStart: from - first, selectEnd: to - first, groupRows: group.rows - first }, decoder);
  } catch (error) {
    throw new ReferenceFormatError(`${where}: cannot decode the parquet data: ${(error as Error).message}`);
  }
  const base = first + result.skipped; // the row of the first value decoded
  const only = result.data[0];
  if (result.data.length === 1 && only !== undefined) {
    if (base + only.length < to || base > from) throw tooFew(where, base + only.length, to);
    return { values: only, at: from - base };
  }
  const values = new Array<unknown>(to - from);
  let row = base;
  for (const part of result.data) {
    for (let i = 0; i < part.length; i++, row++) if (row >= from && row < to) values[row - from] = part[i];
  }
  if (row < to || base > from) throw tooFew(where, row, to);
  return { values, at: 0 };
}

function tooFew(where: string, end: number, to: number): ReferenceFormatError {
  return new ReferenceFormatError(`${where}: its pages hold values up to row ${end}, the row group has rows up to ${to}`);
}

function bad(where: string, why: string): ReferenceFormatError {
  return new ReferenceFormatError(`${where}: ${why}`);
}

/**
 * Walks the page headers of column bytes as the decoder will, refusing pages that run past the
 * bytes, declare more than LIMITS.pageBytes uncompressed, or more values than the row group has
 * rows (a run-length page of a few bytes may declare billions).
 */
export function checkPageHeaders(bytes: Uint8Array, rows: number, where: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { view, offset: 0 };
  while (reader.offset < view.byteLength - 1) {
    let header: ReturnType<typeof parquetHeader>;
    try {
      header = parquetHeader(reader);
    } catch (error) {
      throw bad(where, `a page header cannot be read: ${(error as Error).message}`);
    }
    const compressed = header.compressed_page_size;
    const uncompressed = header.uncompressed_page_size;
    if (!Number.isSafeInteger(compressed) || compressed < 0 || reader.offset + compressed > view.byteLength) {
      throw bad(where, `a page of ${compressed} bytes runs past the end of its column chunk`);
    }
    if (!Number.isSafeInteger(uncompressed) || uncompressed < 0 || uncompressed > LIMITS.pageBytes) {
      throw bad(where, `a page declares ${uncompressed} bytes uncompressed (at most ${LIMITS.pageBytes})`);
    }
    const counts: number[] = [];
    if (header.type === 'DATA_PAGE') {
      counts.push(header.data_page_header?.num_values ?? -1);
    } else if (header.type === 'DATA_PAGE_V2') {
      const v2 = header.data_page_header_v2;
      counts.push(v2?.num_values ?? -1, v2?.num_rows ?? -1, v2?.num_nulls ?? -1);
      const levels = (v2?.definition_levels_byte_length ?? 0) + (v2?.repetition_levels_byte_length ?? 0);
      if (!Number.isSafeInteger(levels) || levels < 0 || levels > Math.min(compressed, uncompressed)) {
        throw bad(where, `a page declares ${levels} bytes of levels in ${compressed} bytes`);
      }
    } else if (header.type === 'DICTIONARY_PAGE') {
      const values = header.dictionary_page_header?.num_values ?? -1;
      // A dictionary value takes at least a byte; its count must fit its page.
      if (!Number.isSafeInteger(values) || values < 0 || values > uncompressed) throw bad(where, `a dictionary page declares ${values} values in ${uncompressed} bytes`);
    } else {
      throw bad(where, `unsupported page type ${String(header.type)}`);
    }
    for (const count of counts) {
      if (!Number.isSafeInteger(count) || count < 0 || count > rows) throw bad(where, `a page declares ${count} values in a row group of ${rows} rows`);
    }
    reader.offset += compressed;
  }
}
