import { readBtree2, readChunkBtree, type StoredChunk } from './btree.js';
import { type Cursor, log2 } from './cursor.js';
import type { Hdf5File } from './file.js';
import type { ChunkIndex } from './messages.js';

export type { StoredChunk } from './btree.js';

export interface ChunkGeometry {
  /** Current dataset shape. */
  readonly dims: readonly number[];
  /** Maximum shape, -1 for unlimited. */
  readonly maxDims: readonly number[];
  /** Chunk shape. */
  readonly chunk: readonly number[];
  readonly elementSize: number;
}

/**
 * Every stored chunk of a chunked dataset, whatever its chunk index. Chunks outside the current
 * shape (left after shrinking) are left out.
 */
export async function readChunkIndex(file: Hdf5File, index: ChunkIndex, g: ChunkGeometry): Promise<StoredChunk[]> {
  if (index.address === undefined) return []; // nothing written yet
  let chunks: StoredChunk[];
  switch (index.type) {
    case 'btree1':
      chunks = await readChunkBtree(file, index.address, g.chunk);
      break;
    case 'single':
      chunks = [
        {
          coords: g.chunk.map(() => 0),
          address: index.address,
          size: index.filteredSize ?? chunkBytes(g),
          filterMask: index.filterMask ?? 0,
        },
      ];
      break;
    case 'implicit':
      chunks = await implicitChunks(file, index.address, g);
      break;
    case 'fixed-array':
      chunks = await readFixedArray(file, index.address, g);
      break;
    case 'extensible-array':
      chunks = await readExtensibleArray(file, index.address, g);
      break;
    case 'btree2':
      chunks = await readBtree2Chunks(file, index.address, g);
      break;
  }
  const grid = g.dims.map((d, i) => Math.ceil(d / g.chunk[i]!));
  return chunks.filter((c) => c.coords.every((x, i) => x < grid[i]!));
}

function chunkBytes(g: ChunkGeometry): number {
  return g.chunk.reduce((a, b) => a * b, g.elementSize);
}

/** Bytes of the "chunk size" field of filtered chunk entries in the newer indexes. */
function chunkSizeLength(g: ChunkGeometry): number {
  return Math.min(8, 1 + Math.floor((log2(chunkBytes(g)) + 8) / 8));
}

/** Chunk grid along the maximum dimensions (the linear chunk numbering of the array indexes). */
function maxGrid(g: ChunkGeometry): number[] {
  return g.maxDims.map((m, i) => Math.ceil((m < 0 ? g.dims[i]! : m) / g.chunk[i]!));
}

/** Row-major coordinates of linear index `n` over `grid`. */
function unravel(n: number, grid: readonly number[]): number[] {
  const coords = new Array<number>(grid.length);
  let rest = n;
  for (let i = grid.length - 1; i >= 0; i--) {
    const size = grid[i]!;
    coords[i] = i === 0 ? rest : rest % size;
    rest = i === 0 ? 0 : Math.floor(rest / size);
  }
  return coords;
}

async function implicitChunks(file: Hdf5File, address: number, g: ChunkGeometry): Promise<StoredChunk[]> {
  const size = chunkBytes(g);
  const grid = maxGrid(g);
  const current = g.dims.map((d, i) => Math.ceil(d / g.chunk[i]!));
  const total = current.reduce((a, b) => a * b, 1);
  const allocated = grid.reduce((a, b) => a * b, 1) * size;
  if (total > 1e8 || !Number.isSafeInteger(allocated)) file.fail('implicit chunk index of impossible size');
  if (allocated > 0) await file.read(address + allocated - 1, 1); // all chunks lie inside the file
  const out: StoredChunk[] = [];
  for (let n = 0; n < total; n++) {
    const coords = unravel(n, current);
    let linear = 0;
    for (let i = 0; i < coords.length; i++) linear = linear * grid[i]! + coords[i]!;
    out.push({ coords, address: address + linear * size, size, filterMask: 0 });
  }
  return out;
}

/** Decodes one chunk entry of a fixed or extensible array (client 0: address; 1: address, size, mask). */
function entryReader(g: ChunkGeometry, filtered: boolean): (c: Cursor) => { address: number | undefined; size: number; filterMask: number } {
  const plainSize = chunkBytes(g);
  const sizeLength = chunkSizeLength(g);
  return (c) => {
    const address = c.address();
    if (!filtered) return { address, size: plainSize, filterMask: 0 };
    const size = c.uint(sizeLength);
    const filterMask = c.u32();
    return { address, size, filterMask };
  };
}

// ---------------------------------------------------------------- fixed array

async function readFixedArray(file: Hdf5File, address: number, g: ChunkGeometry): Promise<StoredChunk[]> {
  const O = file.offsetSize;
  const h = await file.cursor(address, 4 + 1 + 1 + 1 + 1 + file.lengthSize + O + 4);
  h.signature('FAHD');
  file.verify(h.bytes, `fixed array header at ${address}`);
  h.u8();
  const client = h.u8();
  const entrySize = h.u8();
  const pageBits = h.u8();
  const count = h.length();
  const dataBlock = h.address();
  if (dataBlock === undefined) return [];
  if (entrySize === 0 || pageBits > 32) file.fail(`fixed array at ${address} has an impossible geometry`);
  const read = entryReader(g, client === 1);
  const grid = maxGrid(g);
  const gridChunks = grid.reduce((a, b) => a * b, 1);
  if (count > gridChunks) file.fail(`fixed array at ${address} declares ${count} entries for a grid of ${gridChunks} chunks`);
  const out: StoredChunk[] = [];
  const pageElements = 2 ** pageBits;
  const take = (c: Cursor, first: number, n: number): void => {
    for (let i = 0; i < n; i++) {
      const start = c.position;
      const e = read(c);
      c.position = start + entrySize;
      if (e.address !== undefined) out.push({ coords: unravel(first + i, grid), ...e, address: e.address });
    }
  };
  const prefix = 4 + 1 + 1 + O;
  if (count <= pageElements) {
    const c = await file.cursor(dataBlock, prefix + count * entrySize + 4, 'fixed array data block');
    c.signature('FADB');
    file.verify(c.bytes, `fixed array data block at ${dataBlock}`);
    c.skip(prefix - 4);
    take(c, 0, count);
    return out;
  }
  const pages = Math.ceil(count / pageElements);
  const bitmapSize = Math.ceil(pages / 8);
  const head = await file.cursor(dataBlock, prefix + bitmapSize + 4, 'fixed array data block');
  head.signature('FADB');
  file.verify(head.bytes, `fixed array data block at ${dataBlock}`);
  head.skip(prefix - 4);
  const bitmap = head.take(bitmapSize);
  const pageStart = dataBlock + prefix + bitmapSize + 4;
  const pageSize = pageElements * entrySize + 4;
  for (let p = 0; p < pages; p++) {
    if (!bit(bitmap, p)) continue;
    const n = Math.min(pageElements, count - p * pageElements);
    const c = await file.cursor(pageStart + p * pageSize, n * entrySize + 4);
    file.verify(c.bytes, `fixed array page at ${pageStart + p * pageSize}`);
    take(c, p * pageElements, n);
  }
  return out;
}

/** Bit `i` of an HDF5 bitmap (most significant bit first). */
function bit(bitmap: Uint8Array, i: number): boolean {
  return ((bitmap[i >> 3]! >> (7 - (i & 7))) & 1) === 1;
}

// ---------------------------------------------------------------- extensible array

async function readExtensibleArray(file: Hdf5File, address: number, g: ChunkGeometry): Promise<StoredChunk[]> {
  const O = file.offsetSize;
  const L = file.lengthSize;
  const h = await file.cursor(address, 4 + 1 + 1 + 6 + 6 * L + O + 4);
  h.signature('EAHD');
  file.verify(h.bytes, `extensible array header at ${address}`);
  h.u8();
  const client = h.u8();
  const entrySize = h.u8();
  const maxElementBits = h.u8();
  const indexBlockElements = h.u8();
  const dataBlockMinElements = h.u8();
  const superBlockMinPointers = h.u8();
  const pageBits = h.u8();
  for (let i = 0; i < 6; i++) h.length();
  const indexBlock = h.address();
  if (indexBlock === undefined) return [];
  if (maxElementBits > 64 || dataBlockMinElements === 0 || superBlockMinPointers === 0 || entrySize === 0) {
    file.fail(`extensible array at ${address} has an impossible geometry`);
  }

  const read = entryReader(g, client === 1);
  const unlimited = g.maxDims.findIndex((m) => m < 0);
  const others = g.maxDims.map((m, i) => Math.ceil((m < 0 ? g.dims[i]! : m) / g.chunk[i]!)).filter((_, i) => i !== unlimited);
  const perSlab = others.reduce((a, b) => a * b, 1);
  const coordsOf = (n: number): number[] => {
    const slab = Math.floor(n / perSlab);
    const rest = unravel(n % perSlab, others);
    const coords: number[] = [];
    let k = 0;
    for (let i = 0; i < g.maxDims.length; i++) coords.push(i === unlimited ? slab : rest[k++]!);
    return coords;
  };
  const out: StoredChunk[] = [];
  const take = (c: Cursor, first: number, n: number): void => {
    for (let i = 0; i < n; i++) {
      const start = c.position;
      const e = read(c);
      c.position = start + entrySize;
      if (e.address !== undefined) out.push({ coords: coordsOf(first + i), ...e, address: e.address });
    }
  };

  // Super block geometry, as in the HDF5 library's extensible array header initialisation.
  const superBlocks = 1 + maxElementBits - log2(dataBlockMinElements);
  const info: { dataBlocks: number; elements: number; startIndex: number; startBlock: number }[] = [];
  let startIndex = 0;
  let startBlock = 0;
  for (let s = 0; s < superBlocks; s++) {
    const dataBlocks = 2 ** Math.floor(s / 2);
    const elements = 2 ** Math.floor((s + 1) / 2) * dataBlockMinElements;
    info.push({ dataBlocks, elements, startIndex, startBlock });
    startIndex += dataBlocks * elements;
    startBlock += dataBlocks;
  }
  const iblockSuperBlocks = 2 * log2(superBlockMinPointers);
  const iblockDataBlocks = 2 * (superBlockMinPointers - 1);
  const iblockSuperAddrs = Math.max(0, superBlocks - iblockSuperBlocks);
  const arrayOffsetSize = Math.ceil(maxElementBits / 8);
  const pageElements = 2 ** pageBits;

  const ib = await file.cursor(indexBlock, 6 + O + indexBlockElements * entrySize + (iblockDataBlocks + iblockSuperAddrs) * O + 4);
  ib.signature('EAIB');
  file.verify(ib.bytes, `extensible array index block at ${indexBlock}`);
  ib.skip(2 + O);
  take(ib, 0, indexBlockElements);
  const dataAddrs: (number | undefined)[] = [];
  for (let i = 0; i < iblockDataBlocks; i++) dataAddrs.push(ib.address());
  const superAddrs: (number | undefined)[] = [];
  for (let i = 0; i < iblockSuperAddrs; i++) superAddrs.push(ib.address());

  const dataBlockPrefix = 4 + 1 + 1 + O + arrayOffsetSize + 4;
  // pageInit: the super block's page bitmap; bit (block * pages + page), most significant first.
  const readDataBlock = async (at: number, first: number, elements: number, pageInit: { bitmap: Uint8Array; block: number } | undefined): Promise<void> => {
    if (elements <= pageElements) {
      const c = await file.cursor(at, dataBlockPrefix + elements * entrySize, 'extensible array data block');
      c.signature('EADB');
      file.verify(c.bytes, `extensible array data block at ${at}`);
      c.position = dataBlockPrefix - 4;
      take(c, first, elements);
      return;
    }
    if (!pageInit) file.fail(`extensible array at ${address}: paged data blocks in the index block are not supported`);
    const pages = elements / pageElements;
    const pageSize = pageElements * entrySize + 4;
    for (let p = 0; p < pages; p++) {
      if (!bit(pageInit!.bitmap, pageInit!.block * pages + p)) continue;
      const c = await file.cursor(at + dataBlockPrefix + p * pageSize, pageElements * entrySize + 4);
      file.verify(c.bytes, `extensible array page at ${at + dataBlockPrefix + p * pageSize}`);
      take(c, first + p * pageElements, pageElements);
    }
  };

  for (let s = 0; s < superBlocks; s++) {
    const sb = info[s]!;
    const first = indexBlockElements + sb.startIndex;
    if (s < iblockSuperBlocks) {
      for (let d = 0; d < sb.dataBlocks; d++) {
        const at = dataAddrs[sb.startBlock + d];
        if (at !== undefined) await readDataBlock(at, first + d * sb.elements, sb.elements, undefined);
      }
      continue;
    }
    const at = superAddrs[s - iblockSuperBlocks];
    if (at === undefined) continue;
    const paged = sb.elements > pageElements;
    const initSize = paged ? Math.ceil(sb.elements / pageElements / 8) : 0;
    const c = await file.cursor(at, 6 + O + arrayOffsetSize + sb.dataBlocks * (initSize + O) + 4, 'extensible array super block');
    c.signature('EASB');
    file.verify(c.bytes, `extensible array super block at ${at}`);
    c.skip(2 + O + arrayOffsetSize);
    const bitmap = c.take(sb.dataBlocks * initSize);
    const addrs: (number | undefined)[] = [];
    for (let d = 0; d < sb.dataBlocks; d++) addrs.push(c.address());
    for (let d = 0; d < sb.dataBlocks; d++) {
      const dataBlock = addrs[d];
      if (dataBlock !== undefined) await readDataBlock(dataBlock, first + d * sb.elements, sb.elements, paged ? { bitmap, block: d } : undefined);
    }
  }
  return out;
}

// ---------------------------------------------------------------- version 2 B-tree

async function readBtree2Chunks(file: Hdf5File, address: number, g: ChunkGeometry): Promise<StoredChunk[]> {
  const tree = await readBtree2(file, address);
  if (tree.type !== 10 && tree.type !== 11) file.fail(`B-tree v2 at ${address}: type ${tree.type} is not a chunk index`);
  const read = entryReader(g, tree.type === 11);
  const rank = g.chunk.length;
  const out: StoredChunk[] = [];
  for (const record of tree.records) {
    const c = file.cursorOf(record);
    const e = read(c);
    const coords: number[] = [];
    for (let i = 0; i < rank; i++) coords.push(c.u64());
    if (e.address !== undefined) out.push({ coords, ...e, address: e.address });
  }
  return out;
}
