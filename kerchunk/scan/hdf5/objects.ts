import { readBtree2, readGroupBtree } from './btree.js';
import type { Hdf5File } from './file.js';
import { FractalHeap, heapString, readLocalHeap } from './heaps.js';
import {
  type Datatype,
  type Link,
  parseAttribute,
  parseAttributeInfo,
  parseDatatype,
  parseLink,
  parseLinkInfo,
  parseSharedMessage,
  parseSymbolTable,
  type RawAttribute,
} from './messages.js';
import { type HeaderMessage, MSG, MSG_FLAG_SHARED, type ObjectHeader, readObjectHeader } from './object-header.js';

export function findMessage(header: ObjectHeader, type: number): HeaderMessage | undefined {
  return header.messages.find((m) => m.type === type);
}

export function isGroup(header: ObjectHeader): boolean {
  return header.messages.some((m) => m.type === MSG.SYMBOL_TABLE || m.type === MSG.LINK_INFO || m.type === MSG.LINK || m.type === MSG.GROUP_INFO);
}

export function isDataset(header: ObjectHeader): boolean {
  return header.messages.some((m) => m.type === MSG.LAYOUT);
}

/** The links of a group, sorted by name (the order h5py visits them in). */
export async function readLinks(file: Hdf5File, header: ObjectHeader, scratch?: { btree: number; heap: number }): Promise<Link[]> {
  const links: Link[] = [];
  const symbolTable = findMessage(header, MSG.SYMBOL_TABLE);
  const table = symbolTable ? parseSymbolTable(file.cursorOf(symbolTable.data)) : scratch;
  if (table) {
    const heap = await readLocalHeap(file, table.heap);
    for (const entry of await readGroupBtree(file, table.btree)) {
      links.push({ name: heapString(file, heap, entry.nameOffset), kind: 'hard', address: entry.address });
    }
  }
  for (const m of header.messages) if (m.type === MSG.LINK) links.push(parseLink(file.cursorOf(m.data)));
  const info = findMessage(header, MSG.LINK_INFO);
  if (info) {
    const dense = parseLinkInfo(file.cursorOf(info.data));
    if (dense.heapAddress !== undefined && dense.nameIndexAddress !== undefined) {
      const heap = await FractalHeap.open(file, dense.heapAddress);
      const tree = await readBtree2(file, dense.nameIndexAddress);
      if (tree.type !== 5) file.fail(`link name index at ${dense.nameIndexAddress} has B-tree type ${tree.type}`);
      for (const record of tree.records) {
        const id = record.subarray(4, 4 + heap.heapIdLength);
        links.push(parseLink(file.cursorOf(await heap.object(id))));
      }
    }
  }
  return links.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** All attributes of an object: compact (in the header) and dense (fractal heap). */
export async function readAttributes(file: Hdf5File, header: ObjectHeader): Promise<RawAttribute[]> {
  const raw: RawAttribute[] = [];
  for (const m of header.messages) {
    if (m.type === MSG.ATTRIBUTE) raw.push(parseAttribute(file, m.data));
  }
  const info = findMessage(header, MSG.ATTRIBUTE_INFO);
  if (info) {
    const dense = parseAttributeInfo(file.cursorOf(info.data));
    if (dense.heapAddress !== undefined && dense.nameIndexAddress !== undefined) {
      const heap = await FractalHeap.open(file, dense.heapAddress);
      const tree = await readBtree2(file, dense.nameIndexAddress);
      if (tree.type !== 8) file.fail(`attribute name index at ${dense.nameIndexAddress} has B-tree type ${tree.type}`);
      for (const record of tree.records) raw.push(parseAttribute(file, await heap.object(record.subarray(0, 8))));
    }
  }
  const out: RawAttribute[] = [];
  for (const a of raw) {
    if (!a.sharedDatatype) {
      out.push(a);
      continue;
    }
    out.push({ ...a, datatype: await committedDatatype(file, parseSharedMessage(file, a.sharedDatatype)), sharedDatatype: undefined });
  }
  return out;
}

/** The datatype of a header: its own datatype message, or the committed datatype it points to. */
export async function headerDatatype(file: Hdf5File, header: ObjectHeader): Promise<Datatype | undefined> {
  const m = findMessage(header, MSG.DATATYPE);
  if (!m) return undefined;
  if (m.flags & MSG_FLAG_SHARED) return committedDatatype(file, parseSharedMessage(file, m.data));
  return parseDatatype(file.cursorOf(m.data));
}

async function committedDatatype(file: Hdf5File, address: number): Promise<Datatype> {
  const header = await readObjectHeader(file, address);
  const m = findMessage(header, MSG.DATATYPE);
  if (!m) file.fail(`committed datatype at ${address} has no datatype message`);
  return parseDatatype(file.cursorOf(m!.data));
}
