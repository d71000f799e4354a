import type { ChunkReference, JsonValue } from '../reference.js';
import { ReferenceFormatError } from '../reference.js';
import { setOwn } from '../zarr-metadata.js';
import { attributesText } from './attributes-text.js';
import { formatSize, type RangeReader } from './range-reader.js';
import type { ScanOptions, ScanResult } from './scan-hdf5.js';

/** NetCDF classic types: Zarr dtype and size. */
const TYPES: Record<number, { dtype: string; size: number }> = {
  1: { dtype: '|i1', size: 1 },
  2: { dtype: '|S1', size: 1 },
  3: { dtype: '>i2', size: 2 },
  4: { dtype: '>i4', size: 4 },
  5: { dtype: '>f4', size: 4 },
  6: { dtype: '>f8', size: 8 },
  7: { dtype: '|u1', size: 1 },
  8: { dtype: '>u2', size: 2 },
  9: { dtype: '>u4', size: 4 },
  10: { dtype: '>i8', size: 8 },
  11: { dtype: '>u8', size: 8 },
};

const NC_DIMENSION = 0x0a;
const NC_VARIABLE = 0x0b;
const NC_ATTRIBUTE = 0x0c;
const STREAMING = 0xffffffff;

interface Dimension {
  readonly name: string;
  readonly length: number;
}
interface Variable {
  readonly name: string;
  readonly dimIds: number[];
  readonly attributes: Map<string, { type: number; values: Uint8Array; count: number }>;
  readonly type: number;
  readonly begin: number;
}

/**
 * The largest NetCDF-3 header the scanner reads (bytes). Real headers are kilobytes (a few MiB
 * with thousands of variables); a declared length that would take the header past this is a
 * corrupt or hostile file.
 */
export const MAX_NETCDF3_HEADER_BYTES = 64 * 1024 * 1024;

/**
 * The most chunk references one NetCDF-3 file may yield (one per record of each record variable).
 * A file of billions of one-byte records would otherwise fill memory with references.
 */
export const MAX_NETCDF3_CHUNKS = 10_000_000;

export interface Netcdf3ScanOptions extends ScanOptions {
  /** Upper bound on the header size in bytes (default MAX_NETCDF3_HEADER_BYTES). */
  readonly maxHeaderBytes?: number;
}

/** The header continues past the bytes read so far: read up to `end` (at least) and parse again. */
class OutOfHeader extends Error {
  constructor(readonly end: number) {
    super('header continues');
  }
}

/** Where a header may end: the file's end when known, and the header size limit. */
interface HeaderBounds {
  readonly fileSize: number | undefined;
  readonly maxHeaderBytes: number;
}

/** Minimum bytes of one list element (tag, name length, ...): bounds declared counts before looping. */
const MIN_DIMENSION_BYTES = 8; // name length, length
const MIN_ATTRIBUTE_BYTES = 12; // name length, type, count
const MIN_VARIABLE_BYTES = 28; // name length, rank, attribute list, type, vsize, begin

/**
 * A big-endian reader over the header bytes read so far. Every length the header declares is
 * checked against the bytes the file has left and the header size limit before it is used
 * (`ensure`), so a corrupt count fails with a message naming it instead of growing the read.
 */
class HeaderCursor {
  private readonly view: DataView;
  position = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly wide: boolean,
    private readonly fail: (p: string) => never,
    private readonly bounds: HeaderBounds,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Fails unless `n` more bytes fit in the file and under the header limit; `what` says what
   * takes them ('the 10 values of global attribute "title"'), `atLeast` that `n` is a lower bound.
   */
  ensure(n: number, what: string, atLeast = false): void {
    const end = this.position + n;
    const { fileSize, maxHeaderBytes } = this.bounds;
    const takes = `${what} would take ${atLeast ? 'at least ' : ''}${n} bytes at offset ${this.position}`;
    if (fileSize !== undefined && !(end <= fileSize)) {
      this.fail(`truncated or corrupt NetCDF-3 header: ${takes}, but the file has ${Math.max(fileSize - this.position, 0)} bytes left`);
    }
    if (!(end <= maxHeaderBytes)) this.fail(`corrupt NetCDF-3 header: ${takes}, past the ${formatSize(maxHeaderBytes)} a header may have`);
  }

  private need(n: number, what = 'the header'): void {
    if (this.position + n <= this.bytes.length) return;
    this.ensure(n, what);
    throw new OutOfHeader(this.position + n);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.position);
    this.position += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.position);
    this.position += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('a header field is too large');
    return Number(v);
  }

  /** A count: 4 bytes, or 8 in CDF-5. */
  count(): number {
    return this.wide ? this.u64() : this.u32();
  }

  take(n: number, what?: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.position, this.position + n);
    this.position += n;
    return out;
  }

  /** `n` bytes and the padding to a multiple of 4. */
  padded(n: number, what?: string): Uint8Array {
    this.need(n + ((4 - (n % 4)) % 4), what);
    const out = this.take(n);
    this.take((4 - (n % 4)) % 4);
    return out;
  }

  name(what: string): string {
    return new TextDecoder().decode(this.padded(this.count(), `the name of ${what}`));
  }
}

/** Whether `bytes` start like a NetCDF classic / 64-bit-offset / CDF-5 file. */
export function isNetcdf3(bytes: Uint8Array): boolean {
  return bytes[0] === 0x43 && bytes[1] === 0x44 && bytes[2] === 0x46 && [1, 2, 5].includes(bytes[3]!);
}

/**
 * Translates a NetCDF-3 file (classic, 64-bit offset, CDF-5) into Zarr v2 metadata and chunk
 * references: each fixed-size variable is one chunk; a record variable has one chunk per record
 * (chunk shape [1, ...]) at `begin + record * recordSize`.
 */
export async function scanNetcdf3(read: RangeReader, options: Netcdf3ScanOptions): Promise<ScanResult> {
  const name = options.name ?? options.url;
  const fail = (problem: string): never => {
    throw new ReferenceFormatError(`${name}: ${problem}`);
  };
  const bounds: HeaderBounds = { fileSize: options.fileSize, maxHeaderBytes: options.maxHeaderBytes ?? MAX_NETCDF3_HEADER_BYTES };
  const limit = Math.min(bounds.maxHeaderBytes, options.fileSize ?? Infinity);
  let length = Math.min(65536, limit);
  for (;;) {
    const bytes = await readUpTo(read, length, options.fileSize);
    try {
      return await translate(read, bytes, options, fail, bounds);
    } catch (error) {
      if (!(error instanceof OutOfHeader)) throw error;
      if (bytes.length < length || length >= limit) fail('truncated or corrupt NetCDF-3 header');
      // The cursor checked error.end against the file size and the header limit.
      length = Math.min(Math.max(length * 4, error.end), limit);
    }
  }
}

async function readUpTo(read: RangeReader, length: number, fileSize: number | undefined): Promise<Uint8Array> {
  if (fileSize !== undefined) return read(0, Math.min(length, fileSize));
  let n = length;
  for (;;) {
    try {
      return await read(0, n);
    } catch (error) {
      if (n <= 4) throw error;
      n = Math.floor(n / 2);
    }
  }
}

async function translate(read: RangeReader, bytes: Uint8Array, options: ScanOptions, fail: (p: string) => never, bounds: HeaderBounds): Promise<ScanResult> {
  if (!isNetcdf3(bytes)) fail('not a NetCDF-3 file');
  const version = bytes[3]!;
  const wide = version === 5;
  const c = new HeaderCursor(bytes, wide, fail, bounds);
  const countBytes = wide ? 8 : 4;
  c.take(4);
  let records = wide ? c.u64() : c.u32();

  const dimensions: Dimension[] = [];
  listOf(c, NC_DIMENSION, 'dimensions', MIN_DIMENSION_BYTES, fail, (i) => {
    dimensions.push({ name: c.name(`dimension #${i}`), length: c.count() });
  });
  const globals = readAttributes(c, 'global attribute', fail);
  const variables: Variable[] = [];
  listOf(c, NC_VARIABLE, 'variables', MIN_VARIABLE_BYTES, fail, (i) => {
    const name = c.name(`variable #${i}`);
    const rank = c.count();
    c.ensure(rank * countBytes, `the ${rank} dimension ids of variable "${name}"`);
    const dimIds: number[] = [];
    for (let i = 0; i < rank; i++) dimIds.push(c.count());
    const attributes = readAttributes(c, `attribute of variable "${name}"`, fail);
    const type = c.u32();
    if (wide) c.u64();
    else c.u32(); // vsize (recomputed below)
    const begin = version === 1 ? c.u32() : c.u64();
    variables.push({ name, dimIds, attributes, type, begin });
  });

  for (const v of variables) {
    for (const id of v.dimIds) if (!dimensions[id]) fail(`variable "${v.name}" refers to dimension ${id}, which does not exist`);
  }
  const isRecordDim = (id: number) => dimensions[id]?.length === 0;
  const recordVars = variables.filter((v) => v.dimIds.length > 0 && isRecordDim(v.dimIds[0]!));
  const sizeOf = (v: Variable): number => {
    const t = TYPES[v.type] ?? fail(`variable "${v.name}" has unknown type ${v.type}`);
    const dims = v.dimIds.map((id) => {
      const d = dimensions[id] ?? fail(`variable "${v.name}" refers to dimension ${id}, which does not exist`);
      return d.length;
    });
    return dims.filter((_, i) => !(i === 0 && isRecordDim(v.dimIds[0]!))).reduce((a, b) => a * b, t.size);
  };
  const recordSize = recordVars.length === 1 ? sizeOf(recordVars[0]!) : recordVars.reduce((sum, v) => sum + Math.ceil(sizeOf(v) / 4) * 4, 0);
  if (records === STREAMING && !wide) {
    if (options.fileSize === undefined || recordVars.length === 0 || recordSize === 0) fail('streaming NetCDF-3 file with unknown record count');
    records = Math.floor((options.fileSize! - recordVars[0]!.begin) / recordSize);
  }

  const threshold = options.inlineThreshold ?? 500;
  const metadata = new Map<string, JsonValue>();
  const chunks = new Map<string, ChunkReference>();
  metadata.set('.zgroup', { zarr_format: 2 });
  metadata.set('.zattrs', convertAttributes(globals, fail));
  const pending: { key: string; offset: number; length: number }[] = [];

  for (const v of variables) {
    const t = TYPES[v.type] ?? fail(`variable "${v.name}" has unknown type ${v.type}`);
    const isRecord = v.dimIds.length > 0 && isRecordDim(v.dimIds[0]!);
    const shape = v.dimIds.map((id, i) => (i === 0 && isRecord ? records : dimensions[id]!.length));
    const chunkShape = isRecord ? [1, ...shape.slice(1)] : shape.map((n) => Math.max(n, 1));
    const fill = v.attributes.get('_FillValue');
    const zattrs = convertAttributes(v.attributes, fail);
    zattrs._ARRAY_DIMENSIONS = v.dimIds.map((id) => dimensions[id]!.name);
    metadata.set(`${v.name}/.zarray`, {
      chunks: chunkShape,
      compressor: null,
      dtype: t.dtype,
      fill_value: fill ? fillValue(fill, v.type) : null,
      filters: null,
      order: 'C',
      shape,
      zarr_format: 2,
    });
    metadata.set(`${v.name}/.zattrs`, zattrs);
    const size = sizeOf(v);
    if (size === 0) continue;
    if (!isRecord) {
      if (shape.includes(0)) continue;
      pending.push({ key: `${v.name}/${shape.length === 0 ? '0' : shape.map(() => 0).join('.')}`, offset: v.begin, length: size });
      continue;
    }
    const rest = shape
      .slice(1)
      .map(() => '.0')
      .join('');
    if (pending.length + records > MAX_NETCDF3_CHUNKS) {
      fail(`record variable "${v.name}" has ${records} records: more than the ${MAX_NETCDF3_CHUNKS} chunk references a NetCDF-3 scan makes`);
    }
    if (records > 0) await read(v.begin + (records - 1) * recordSize + size - 1, 1); // last record inside the file
    for (let r = 0; r < records; r++) pending.push({ key: `${v.name}/${r}${rest}`, offset: v.begin + r * recordSize, length: size });
  }
  for (const p of pending) {
    if (options.fileSize !== undefined && p.offset + p.length > options.fileSize) {
      fail(`variable data ${p.key} lies beyond the end of the file (truncated file?)`);
    }
    if (p.length < threshold) chunks.set(p.key, { kind: 'inline', data: (await read(p.offset, p.length)).slice() });
    else chunks.set(p.key, { kind: 'range', url: options.url, offset: p.offset, length: p.length });
  }
  const metadataText = new Map<string, string>();
  for (const [key, document] of metadata) {
    const floats = floatAttributes.get(document as object);
    metadataText.set(key, floats ? attributesText(document as Record<string, JsonValue>, floats) : JSON.stringify(document));
  }
  return { metadata, chunks, metadataText };
}

/** A header list: tag, count, then `count` elements of at least `minBytes` each (checked before looping). */
function listOf(c: HeaderCursor, tag: number, what: string, minBytes: number, fail: (p: string) => never, each: (i: number) => void): void {
  const found = c.u32();
  const count = c.count();
  if (found === 0 && count === 0) return;
  if (found !== tag) fail(`corrupt NetCDF-3 header (expected list tag ${tag}, found ${found})`);
  c.ensure(count * minBytes, `the list of ${count} ${what}`, true);
  for (let i = 0; i < count; i++) each(i);
}

/** An attribute list; `kind` names its attributes in errors ('global attribute', 'attribute of variable "v"'). */
function readAttributes(c: HeaderCursor, kind: string, fail: (p: string) => never): Map<string, { type: number; values: Uint8Array; count: number }> {
  const out = new Map<string, { type: number; values: Uint8Array; count: number }>();
  const [noun, owner] = kind.startsWith('attribute ') ? ['attribute', kind.slice('attribute '.length)] : [kind, ''];
  const which = (name: string) => `${noun} ${name}${owner ? ` ${owner}` : ''}`;
  listOf(c, NC_ATTRIBUTE, `${noun}s${owner ? ` ${owner}` : ''}`, MIN_ATTRIBUTE_BYTES, fail, (i) => {
    const name = c.name(which(`#${i}`));
    const type = c.u32();
    const count = c.count();
    const t = TYPES[type] ?? fail(`${which(JSON.stringify(name))} has unknown type ${type}`);
    out.set(name, { type, values: c.padded(count * t.size, `the ${count} values of ${which(JSON.stringify(name))}`), count });
  });
  return out;
}

function numbers(type: number, bytes: Uint8Array, count: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    switch (type) {
      case 1:
        out.push(view.getInt8(i));
        break;
      case 3:
        out.push(view.getInt16(i * 2));
        break;
      case 4:
        out.push(view.getInt32(i * 4));
        break;
      case 5:
        out.push(view.getFloat32(i * 4));
        break;
      case 6:
        out.push(view.getFloat64(i * 8));
        break;
      case 7:
        out.push(view.getUint8(i));
        break;
      case 8:
        out.push(view.getUint16(i * 2));
        break;
      case 9:
        out.push(view.getUint32(i * 4));
        break;
      case 10:
        out.push(Number(view.getBigInt64(i * 8)));
        break;
      case 11:
        out.push(Number(view.getBigUint64(i * 8)));
        break;
      default:
        break;
    }
  }
  return out;
}

function jsonNumber(v: number): JsonValue {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

const NC_FLOAT = 5;
const NC_DOUBLE = 6;

/** Float-typed attribute names of each converted attributes document (for their JSON text). */
const floatAttributes = new WeakMap<object, Set<string>>();

function convertAttributes(attributes: Map<string, { type: number; values: Uint8Array; count: number }>, fail: (p: string) => never): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  const floats = new Set<string>();
  floatAttributes.set(out, floats);
  for (const [name, a] of attributes) {
    if (name === '_FillValue') continue;
    if (a.type === 2) {
      let end = a.values.length;
      while (end > 0 && a.values[end - 1] === 0) end--;
      setOwn(out, name, new TextDecoder().decode(a.values.subarray(0, end)));
      continue;
    }
    if (!TYPES[a.type]) fail(`attribute "${name}" has unknown type ${a.type}`);
    const values = numbers(a.type, a.values, a.count).map(jsonNumber);
    setOwn(out, name, values.length === 1 ? values[0]! : values);
    if (a.type === NC_FLOAT || a.type === NC_DOUBLE) floats.add(name);
  }
  return out;
}

function fillValue(fill: { type: number; values: Uint8Array; count: number }, type: number): JsonValue {
  if (type === 2) {
    const bytes = fill.values.subarray(0, 1);
    return Buffer.from(bytes.length && bytes[0] ? bytes : new Uint8Array([0x20])).toString('base64');
  }
  const v = numbers(fill.type, fill.values, 1)[0];
  return v === undefined ? null : jsonNumber(v);
}
