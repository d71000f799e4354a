import { bytesFor } from './cursor.js';
import type { Hdf5File } from './file.js';

// ---------------------------------------------------------------- version 1 B-trees

export interface GroupEntry {
  readonly nameOffset: number;
  readonly address: number;
}

/** All symbol table entries of an old-style group (B-tree v1 of type 0 → symbol table nodes). */
export async function readGroupBtree(file: Hdf5File, address: number): Promise<GroupEntry[]> {
  const entries: GroupEntry[] = [];
  const O = file.offsetSize;
  const L = file.lengthSize;
  const seen = new Set<number>();
  const visit = async (node: number, depth: number): Promise<void> => {
    if (depth > 64) file.fail('group B-tree nests too deep');
    if (seen.has(node)) file.fail(`group B-tree visits node ${node} twice`);
    seen.add(node);
    const head = await file.cursor(node, 8 + 2 * O);
    head.signature('TREE');
    const type = head.u8();
    if (type !== 0) file.fail(`B-tree at ${node}: expected a group node, found type ${type}`);
    const level = head.u8();
    const used = head.u16();
    const c = await file.cursor(node + 8 + 2 * O, (used + 1) * L + used * O, `group B-tree node ${node}`);
    const children: number[] = [];
    for (let i = 0; i < used; i++) {
      c.length(); // key
      const child = c.address();
      if (child !== undefined) children.push(child);
    }
    for (const child of children) {
      if (level > 0) await visit(child, depth + 1);
      else entries.push(...(await readSymbolNode(file, child)));
    }
  };
  await visit(address, 0);
  return entries;
}

async function readSymbolNode(file: Hdf5File, address: number): Promise<GroupEntry[]> {
  const O = file.offsetSize;
  const head = await file.cursor(address, 8);
  head.signature('SNOD');
  head.u8();
  head.u8();
  const count = head.u16();
  const entrySize = 2 * O + 24;
  const c = await file.cursor(address + 8, count * entrySize, 'symbol table node');
  const entries: GroupEntry[] = [];
  for (let i = 0; i < count; i++) {
    const nameOffset = c.uint(O);
    const objectAddress = c.address();
    c.skip(24);
    if (objectAddress !== undefined) entries.push({ nameOffset, address: objectAddress });
  }
  return entries;
}

export interface StoredChunk {
  /** Chunk grid coordinates (element offset / chunk shape). */
  readonly coords: number[];
  readonly address: number;
  readonly size: number;
  readonly filterMask: number;
}

/** All chunks of a B-tree v1 chunk index (layout versions 1–3, and v4 with index type B-tree v1). */
export async function readChunkBtree(file: Hdf5File, address: number, chunk: readonly number[]): Promise<StoredChunk[]> {
  const out: StoredChunk[] = [];
  const O = file.offsetSize;
  const rank = chunk.length;
  const keySize = 8 + 8 * (rank + 1);
  const seen = new Set<number>();
  const visit = async (node: number, depth: number): Promise<void> => {
    if (depth > 64) file.fail('chunk B-tree nests too deep');
    if (seen.has(node)) file.fail(`chunk B-tree visits node ${node} twice`);
    seen.add(node);
    const head = await file.cursor(node, 8 + 2 * O);
    head.signature('TREE');
    const type = head.u8();
    if (type !== 1) file.fail(`B-tree at ${node}: expected a chunk node, found type ${type}`);
    const level = head.u8();
    const used = head.u16();
    const c = await file.cursor(node + 8 + 2 * O, (used + 1) * keySize + used * O, `chunk B-tree node ${node}`);
    const children: number[] = [];
    for (let i = 0; i < used; i++) {
      const size = c.u32();
      const filterMask = c.u32();
      const coords: number[] = [];
      for (let d = 0; d < rank; d++) {
        const offset = c.u64();
        coords.push(Math.floor(offset / chunk[d]!));
      }
      c.u64(); // element-size dimension, always 0
      const child = c.address();
      if (child === undefined) continue;
      if (level > 0) children.push(child);
      else out.push({ coords, address: child, size, filterMask });
    }
    for (const child of children) await visit(child, depth + 1);
  };
  await visit(address, 0);
  return out;
}

// ---------------------------------------------------------------- version 2 B-trees

export interface Btree2 {
  readonly type: number;
  readonly recordSize: number;
  /** Every record, in key order. */
  readonly records: Uint8Array[];
}

/** Reads all records of a version 2 B-tree. */
export async function readBtree2(file: Hdf5File, address: number): Promise<Btree2> {
  const O = file.offsetSize;
  const L = file.lengthSize;
  const h = await file.cursor(address, 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + O + 2 + L + 4);
  h.signature('BTHD');
  file.verify(h.bytes, `B-tree v2 header at ${address}`);
  h.u8();
  const type = h.u8();
  const nodeSize = h.u32();
  const recordSize = h.u16();
  const depth = h.u16();
  h.u8();
  h.u8();
  const root = h.address();
  const rootRecords = h.u16();
  const records: Uint8Array[] = [];
  if (root === undefined || rootRecords === 0) return { type, recordSize, records };
  if (recordSize === 0 || depth > 32 || nodeSize < 16) file.fail(`B-tree v2 at ${address} has an impossible geometry`);

  // Node geometry as the HDF5 library computes it (prefix = signature, version, type, checksum).
  const prefix = 4 + 1 + 1 + 4;
  const leafMax = Math.floor((nodeSize - prefix) / recordSize);
  const maxNrecSize = bytesFor(leafMax);
  const cumMax: number[] = [leafMax];
  const cumMaxSize: number[] = [0];
  for (let d = 1; d <= depth; d++) {
    const pointerSize = O + maxNrecSize + (d > 1 ? cumMaxSize[d - 1]! : 0);
    const maxRecords = Math.floor((nodeSize - (prefix + pointerSize)) / (recordSize + pointerSize));
    cumMax.push((maxRecords + 1) * cumMax[d - 1]! + maxRecords);
    cumMaxSize.push(bytesFor(cumMax[d]!));
  }

  const seen = new Set<number>();
  const visit = async (node: number, count: number, level: number): Promise<void> => {
    if (seen.has(node)) file.fail(`B-tree v2 at ${address} visits node ${node} twice`);
    seen.add(node);
    if (level === 0) {
      const c = await file.cursor(node, 6 + count * recordSize + 4, `B-tree v2 leaf of ${count} records`);
      c.signature('BTLF');
      file.verify(c.bytes, `B-tree v2 leaf at ${node}`);
      c.skip(2);
      for (let i = 0; i < count; i++) records.push(c.take(recordSize));
      return;
    }
    const pointerSize = O + maxNrecSize + (level > 1 ? cumMaxSize[level - 1]! : 0);
    const c = await file.cursor(node, 6 + count * recordSize + (count + 1) * pointerSize + 4, `B-tree v2 node of ${count} records`);
    c.signature('BTIN');
    file.verify(c.bytes, `B-tree v2 node at ${node}`);
    c.skip(2);
    const own: Uint8Array[] = [];
    for (let i = 0; i < count; i++) own.push(c.take(recordSize));
    const children: { address: number | undefined; count: number }[] = [];
    for (let i = 0; i <= count; i++) {
      const child = c.address();
      const childCount = c.uint(maxNrecSize);
      if (level > 1) c.uint(cumMaxSize[level - 1]!);
      children.push({ address: child, count: childCount });
    }
    for (let i = 0; i <= count; i++) {
      const child = children[i]!;
      if (child.address !== undefined) await visit(child.address, child.count, level - 1);
      if (i < count) records.push(own[i]!);
    }
  };
  await visit(root, rootRecords, depth);
  return { type, recordSize, records };
}
