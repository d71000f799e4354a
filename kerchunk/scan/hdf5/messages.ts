import type { Cursor } from './cursor.js';
import { decodeUtf8 } from './cursor.js';
import type { Hdf5File } from './file.js';

// ---------------------------------------------------------------- datatype

export type Datatype =
  | { readonly class: 'integer'; readonly size: number; readonly signed: boolean; readonly bigEndian: boolean }
  | { readonly class: 'float'; readonly size: number; readonly bigEndian: boolean }
  | { readonly class: 'string'; readonly size: number; readonly padding: number; readonly utf8: boolean }
  | { readonly class: 'vlen-string'; readonly size: number; readonly utf8: boolean }
  | { readonly class: 'vlen-sequence'; readonly size: number; readonly base: Datatype }
  | { readonly class: 'enum'; readonly size: number; readonly base: Datatype }
  | { readonly class: 'reference'; readonly size: number; readonly kind: number }
  | { readonly class: 'array'; readonly size: number; readonly dims: readonly number[]; readonly base: Datatype }
  | { readonly class: 'other'; readonly size: number; readonly name: string };

const CLASS_NAMES = ['fixed-point', 'floating-point', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'variable-length', 'array', 'complex'];

export function parseDatatype(c: Cursor): Datatype {
  const classAndVersion = c.u8();
  const cls = classAndVersion & 0x0f;
  const version = classAndVersion >> 4;
  const b0 = c.u8();
  const b1 = c.u8();
  c.u8();
  const size = c.u32();
  switch (cls) {
    case 0: {
      c.skip(4); // bit offset, precision
      return { class: 'integer', size, signed: (b0 & 0x08) !== 0, bigEndian: (b0 & 0x01) !== 0 };
    }
    case 1: {
      c.skip(12);
      if (b0 & 0x40) return { class: 'other', size, name: 'VAX-order floating-point' };
      return { class: 'float', size, bigEndian: (b0 & 0x01) !== 0 };
    }
    case 3:
      return { class: 'string', size, padding: b0 & 0x0f, utf8: b0 >> 4 === 1 };
    case 7:
      return { class: 'reference', size, kind: b0 & 0x0f };
    case 8: {
      const base = parseDatatype(c);
      const count = b0 | (b1 << 8);
      // names and values follow; they are not needed (enum values are read as the base type)
      for (let i = 0; i < count; i++) {
        const start = c.position;
        c.cString();
        if (version < 3) c.skip(Math.min((8 - ((c.position - start) % 8)) % 8, c.remaining));
      }
      c.skip(count * base.size);
      return { class: 'enum', size, base };
    }
    case 9: {
      const type = b0 & 0x0f;
      const base = parseDatatype(c);
      if (type === 1) return { class: 'vlen-string', size, utf8: (b1 & 0x0f) === 1 };
      return { class: 'vlen-sequence', size, base };
    }
    case 10: {
      const rank = c.u8();
      if (version < 3) c.skip(3);
      const dims: number[] = [];
      for (let i = 0; i < rank; i++) dims.push(c.u32());
      if (version < 3) c.skip(4 * rank); // permutation indices
      const base = parseDatatype(c);
      return { class: 'array', size, dims, base };
    }
    default:
      return { class: 'other', size, name: CLASS_NAMES[cls] ?? `class ${cls}` };
  }
}

// ---------------------------------------------------------------- dataspace

export interface Dataspace {
  /** 'null' has no elements; 'scalar' has rank 0 and one element. */
  readonly kind: 'scalar' | 'simple' | 'null';
  readonly dims: readonly number[];
  /** Maximum sizes; -1 for unlimited. Equal to dims when not stored. */
  readonly maxDims: readonly number[];
}

export function parseDataspace(c: Cursor): Dataspace {
  const version = c.u8();
  const rank = c.u8();
  const flags = c.u8();
  let kind: Dataspace['kind'] = rank === 0 ? 'scalar' : 'simple';
  if (version === 1) {
    c.skip(5);
  } else {
    const type = c.u8();
    kind = type === 0 ? 'scalar' : type === 2 ? 'null' : 'simple';
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(c.length());
  const maxDims: number[] = [];
  if (flags & 0x01) {
    for (let i = 0; i < rank; i++) {
      const unlimited = c.bytes.subarray(c.position, c.position + c.lengthSize).every((b) => b === 0xff);
      if (unlimited) {
        c.skip(c.lengthSize);
        maxDims.push(-1);
      } else {
        maxDims.push(c.length());
      }
    }
  } else {
    maxDims.push(...dims);
  }
  return { kind, dims, maxDims };
}

export function elementCount(space: Dataspace): number {
  if (space.kind === 'null') return 0;
  return space.dims.reduce((a, b) => a * b, 1);
}

// ---------------------------------------------------------------- fill value

export interface FillValue {
  /** The fill value bytes when one is defined (empty array: the library default, zeros). */
  readonly value: Uint8Array | undefined;
}

export function parseFillValue(c: Cursor): FillValue {
  const version = c.u8();
  if (version === 1 || version === 2) {
    c.u8(); // space allocation time
    c.u8(); // fill value write time
    const defined = c.u8();
    if (version === 1 || defined) {
      const size = c.u32();
      const value = c.take(size);
      return { value: defined ? value : undefined };
    }
    return { value: undefined };
  }
  const flags = c.u8();
  if (flags & 0x20) {
    const size = c.u32();
    return { value: c.take(size) };
  }
  return { value: undefined };
}

export function parseOldFillValue(c: Cursor): FillValue {
  const size = c.u32();
  return { value: c.take(size) };
}

// ---------------------------------------------------------------- filter pipeline

export interface Filter {
  readonly id: number;
  readonly name: string;
  readonly flags: number;
  readonly values: readonly number[];
}

export function parseFilterPipeline(c: Cursor): Filter[] {
  const version = c.u8();
  const count = c.u8();
  if (version === 1) c.skip(6);
  const filters: Filter[] = [];
  for (let i = 0; i < count; i++) {
    const id = c.u16();
    const nameLength = version === 1 || id >= 256 ? c.u16() : 0;
    const flags = c.u16();
    const nValues = c.u16();
    let name = '';
    if (nameLength > 0) {
      const raw = c.take(nameLength);
      const nul = raw.indexOf(0);
      name = decodeUtf8(nul >= 0 ? raw.subarray(0, nul) : raw);
      if (version === 1) c.skip((8 - (nameLength % 8)) % 8);
    }
    const values: number[] = [];
    for (let j = 0; j < nValues; j++) values.push(c.u32());
    if (version === 1 && nValues % 2 === 1) c.skip(4);
    filters.push({ id, name, flags, values });
  }
  return filters;
}

// ---------------------------------------------------------------- data layout

export type ChunkIndex =
  | { readonly type: 'btree1'; readonly address: number | undefined }
  | { readonly type: 'single'; readonly address: number | undefined; readonly filteredSize?: number; readonly filterMask?: number }
  | { readonly type: 'implicit'; readonly address: number | undefined }
  | { readonly type: 'fixed-array'; readonly address: number | undefined; readonly pageBits: number }
  | { readonly type: 'extensible-array'; readonly address: number | undefined }
  | { readonly type: 'btree2'; readonly address: number | undefined };

export type Layout =
  | { readonly class: 'compact'; readonly data: Uint8Array }
  | { readonly class: 'contiguous'; readonly address: number | undefined; readonly size: number | undefined }
  | {
      readonly class: 'chunked';
      /** Chunk shape in elements (without the trailing element-size dimension). */
      readonly chunk: readonly number[];
      readonly elementSize: number;
      readonly index: ChunkIndex;
      /** Layout v4 flag: partial edge chunks are stored unfiltered. */
      readonly unfilteredEdges: boolean;
    }
  | { readonly class: 'virtual' };

export function parseLayout(c: Cursor, fail: (problem: string) => never): Layout {
  const version = c.u8();
  if (version === 1 || version === 2) {
    const rank = c.u8();
    const cls = c.u8();
    c.skip(5);
    const address = cls === 0 ? undefined : c.address();
    const dims: number[] = [];
    for (let i = 0; i < rank; i++) dims.push(c.u32());
    if (cls === 0) {
      const size = c.u32();
      return { class: 'compact', data: c.take(size) };
    }
    if (cls === 1) return { class: 'contiguous', address, size: undefined };
    const elementSize = dims.pop()!;
    return { class: 'chunked', chunk: dims, elementSize, index: { type: 'btree1', address }, unfilteredEdges: false };
  }
  if (version !== 3 && version !== 4) fail(`unsupported data layout message version ${version}`);
  const cls = c.u8();
  if (cls === 0) {
    const size = c.u16();
    return { class: 'compact', data: c.take(size) };
  }
  if (cls === 1) {
    const address = c.address();
    const size = c.length();
    return { class: 'contiguous', address, size };
  }
  if (cls === 3) return { class: 'virtual' };
  if (cls !== 2) fail(`unknown data layout class ${cls}`);
  if (version === 3) {
    const rank = c.u8();
    const address = c.address();
    const dims: number[] = [];
    for (let i = 0; i < rank; i++) dims.push(c.u32());
    const elementSize = dims.pop()!;
    return { class: 'chunked', chunk: dims, elementSize, index: { type: 'btree1', address }, unfilteredEdges: false };
  }
  const flags = c.u8();
  const rank = c.u8();
  const dimBytes = c.u8();
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(c.uint(dimBytes));
  const elementSize = dims.pop()!;
  const indexType = c.u8();
  let index: ChunkIndex;
  switch (indexType) {
    case 1: {
      let filteredSize: number | undefined;
      let filterMask: number | undefined;
      if (flags & 0x02) {
        filteredSize = c.length();
        filterMask = c.u32();
      }
      const address = c.address();
      index = filteredSize === undefined ? { type: 'single', address } : { type: 'single', address, filteredSize, filterMask: filterMask! };
      break;
    }
    case 2:
      index = { type: 'implicit', address: c.address() };
      break;
    case 3: {
      const pageBits = c.u8();
      index = { type: 'fixed-array', address: c.address(), pageBits };
      break;
    }
    case 4:
      c.skip(5); // max bits, index elements, min pointers, min elements, page bits (also in the header)
      index = { type: 'extensible-array', address: c.address() };
      break;
    case 5:
      c.skip(6); // node size, split %, merge %
      index = { type: 'btree2', address: c.address() };
      break;
    default:
      fail(`unknown chunk index type ${indexType}`);
  }
  return { class: 'chunked', chunk: dims, elementSize, index, unfilteredEdges: (flags & 0x01) !== 0 };
}

// ---------------------------------------------------------------- links

export type Link =
  | { readonly name: string; readonly kind: 'hard'; readonly address: number; readonly order?: number | undefined }
  | { readonly name: string; readonly kind: 'soft' | 'external' | 'other'; readonly order?: number | undefined };

export function parseLink(c: Cursor): Link {
  const version = c.u8();
  if (version !== 1) c.fail(`unsupported link message version ${version}`);
  const flags = c.u8();
  const type = flags & 0x08 ? c.u8() : 0;
  const order = flags & 0x04 ? c.u64() : undefined;
  if (flags & 0x10) c.u8(); // charset
  const nameLength = c.uint(1 << (flags & 0x03));
  const name = decodeUtf8(c.take(nameLength));
  if (type === 0) {
    const address = c.address();
    if (address === undefined) c.fail(`link "${name}" has no address`);
    return { name, kind: 'hard', address: address!, order };
  }
  return { name, kind: type === 1 ? 'soft' : type === 64 ? 'external' : 'other', order };
}

export interface DenseStorageInfo {
  readonly heapAddress: number | undefined;
  readonly nameIndexAddress: number | undefined;
}

/** Link Info message and Attribute Info message share this shape. */
export function parseLinkInfo(c: Cursor): DenseStorageInfo {
  c.u8(); // version
  const flags = c.u8();
  if (flags & 0x01) c.u64();
  const heapAddress = c.address();
  const nameIndexAddress = c.address();
  return { heapAddress, nameIndexAddress };
}

export function parseAttributeInfo(c: Cursor): DenseStorageInfo {
  c.u8(); // version
  const flags = c.u8();
  if (flags & 0x01) c.u16();
  const heapAddress = c.address();
  const nameIndexAddress = c.address();
  return { heapAddress, nameIndexAddress };
}

export function parseSymbolTable(c: Cursor): { btree: number; heap: number } {
  const btree = c.address();
  const heap = c.address();
  if (btree === undefined || heap === undefined) c.fail('symbol table message without B-tree or heap');
  return { btree: btree!, heap: heap! };
}

// ---------------------------------------------------------------- attributes

export interface RawAttribute {
  readonly name: string;
  readonly datatype: Datatype;
  readonly dataspace: Dataspace;
  readonly data: Uint8Array;
  /** The datatype is a shared message; `datatype` is then a placeholder to resolve. */
  readonly sharedDatatype?: Uint8Array | undefined;
}

export function parseAttribute(file: Hdf5File, bytes: Uint8Array): RawAttribute {
  const c = file.cursorOf(bytes);
  const version = c.u8();
  const flags = version === 1 ? (c.u8(), 0) : c.u8();
  const nameSize = c.u16();
  const datatypeSize = c.u16();
  const dataspaceSize = c.u16();
  if (version === 3) c.u8(); // name charset
  const pad = (n: number) => (version === 1 ? Math.ceil(n / 8) * 8 : n);
  const nameBytes = c.take(pad(nameSize));
  const nul = nameBytes.indexOf(0);
  const name = decodeUtf8(nameBytes.subarray(0, nul >= 0 ? Math.min(nul, nameSize) : nameSize));
  const datatypeBytes = c.take(pad(datatypeSize));
  const dataspaceBytes = c.take(pad(dataspaceSize));
  if (flags & 0x02) file.fail(`attribute "${name}": shared dataspaces are not supported`);
  const shared = (flags & 0x01) !== 0;
  const datatype: Datatype = shared ? { class: 'other', size: 0, name: 'shared' } : parseDatatype(file.cursorOf(datatypeBytes));
  const dataspace = parseDataspace(file.cursorOf(dataspaceBytes));
  const data = bytes.subarray(c.position);
  return { name, datatype, dataspace, data, sharedDatatype: shared ? datatypeBytes : undefined };
}

/** Address of the object header holding a shared (committed) message. */
export function parseSharedMessage(file: Hdf5File, bytes: Uint8Array): number {
  const c = file.cursorOf(bytes);
  const version = c.u8();
  const type = c.u8();
  if (version === 1) c.skip(6);
  if (version === 3 && type === 1) file.fail('messages shared through the shared-message heap are not supported');
  const address = c.address();
  if (address === undefined) file.fail('shared message without address');
  return address!;
}
