import { log2 } from './cursor.js';
import type { Hdf5File } from './file.js';

// ---------------------------------------------------------------- local heap

/** A local heap's data segment (names of old-style groups). */
export async function readLocalHeap(file: Hdf5File, address: number): Promise<Uint8Array> {
  const c = await file.cursor(address, 8 + 2 * file.lengthSize + file.offsetSize);
  c.signature('HEAP');
  c.u8();
  c.skip(3);
  const size = c.length();
  c.length(); // free list offset
  const data = c.address();
  if (data === undefined) file.fail(`local heap at ${address} has no data segment`);
  return file.read(data!, size, 'local heap data segment');
}

export function heapString(file: Hdf5File, heap: Uint8Array, offset: number): string {
  if (offset >= heap.length) file.fail(`local heap offset ${offset} out of range`);
  return file.cursorOf(heap, offset).cString();
}

// ---------------------------------------------------------------- global heap

/** Objects of global heap collections (variable-length data), cached per collection. */
export class GlobalHeap {
  private readonly collections = new Map<number, Promise<Map<number, Uint8Array>>>();

  constructor(private readonly file: Hdf5File) {}

  async object(collection: number, index: number): Promise<Uint8Array> {
    let objects = this.collections.get(collection);
    if (!objects) {
      objects = this.load(collection);
      this.collections.set(collection, objects);
    }
    const object = (await objects).get(index);
    if (object === undefined) this.file.fail(`global heap collection at ${collection} has no object ${index}`);
    return object!;
  }

  private async load(address: number): Promise<Map<number, Uint8Array>> {
    const file = this.file;
    const head = await file.cursor(address, 8 + file.lengthSize);
    head.signature('GCOL');
    head.skip(4);
    const size = head.length();
    const c = file.cursorOf(await file.read(address, size, 'global heap collection'));
    c.skip(8 + file.lengthSize);
    const objects = new Map<number, Uint8Array>();
    while (c.remaining >= 8 + file.lengthSize) {
      const index = c.u16();
      c.skip(6); // reference count, reserved
      const objectSize = c.length();
      if (index === 0) break; // free space
      objects.set(index, c.take(Math.min(objectSize, c.remaining)));
      c.align(8);
    }
    return objects;
  }
}

// ---------------------------------------------------------------- fractal heap

interface DirectBlock {
  readonly offset: number;
  readonly size: number;
  readonly address: number;
}

/** A fractal heap (dense link and attribute storage): objects by heap ID. */
export class FractalHeap {
  private blocks: DirectBlock[] | undefined;

  private constructor(
    private readonly file: Hdf5File,
    private readonly address: number,
    private readonly idLength: number,
    private readonly tableWidth: number,
    private readonly startBlockSize: number,
    private readonly maxDirectBlockSize: number,
    private readonly maxHeapBits: number,
    private readonly rootAddress: number | undefined,
    private readonly rootRows: number,
    private readonly maxManagedSize: number,
  ) {}

  static async open(file: Hdf5File, address: number): Promise<FractalHeap> {
    const O = file.offsetSize;
    const L = file.lengthSize;
    const c = await file.cursor(address, 4 + 1 + 2 + 2 + 1 + 4 + L + O + L + O + 8 * L + 2 + L + L + 2 + 2 + O + 2 + 4);
    c.signature('FRHP');
    c.u8();
    const idLength = c.u16();
    const filterLength = c.u16();
    if (filterLength > 0) file.fail(`fractal heap at ${address}: filtered heaps are not supported`);
    file.verify(c.bytes, `fractal heap header at ${address}`);
    c.u8(); // flags
    const maxManagedSize = c.u32();
    c.length(); // next huge id
    c.address(); // huge object B-tree
    c.length(); // free space
    c.address(); // free space manager
    c.length(); // managed space
    c.length(); // allocated managed space
    c.length(); // direct block allocation iterator offset
    c.length(); // managed objects
    c.length(); // huge objects size
    c.length(); // huge objects count
    c.length(); // tiny objects size
    c.length(); // tiny objects count
    const tableWidth = c.u16();
    const startBlockSize = c.length();
    const maxDirectBlockSize = c.length();
    const maxHeapBits = c.u16();
    if (maxHeapBits > 64 || tableWidth === 0 || startBlockSize === 0) file.fail(`fractal heap at ${address} has an impossible geometry`);
    c.u16(); // starting rows
    const rootAddress = c.address();
    const rootRows = c.u16();
    return new FractalHeap(file, address, idLength, tableWidth, startBlockSize, maxDirectBlockSize, maxHeapBits, rootAddress, rootRows, maxManagedSize);
  }

  private get offsetBytes(): number {
    return Math.ceil(this.maxHeapBits / 8);
  }

  private rowBlockSize(row: number): number {
    return row === 0 ? this.startBlockSize : this.startBlockSize * 2 ** (row - 1);
  }

  private get maxDirectRows(): number {
    return log2(this.maxDirectBlockSize) - log2(this.startBlockSize) + 2;
  }

  /** The bytes of the object with this heap ID. */
  async object(id: Uint8Array): Promise<Uint8Array> {
    const file = this.file;
    const type = (id[0]! >> 4) & 0x03;
    if (type === 2) {
      const length = (id[0]! & 0x0f) + 1;
      return id.subarray(1, 1 + length);
    }
    if (type !== 0) file.fail(`fractal heap at ${this.address}: huge objects are not supported`);
    const c = file.cursorOf(id, 1);
    const offset = c.uint(this.offsetBytes);
    const lengthBytes = Math.min(Math.ceil(log2(this.maxDirectBlockSize) / 8), limitEncSize(this.maxManagedSize));
    const length = c.uint(lengthBytes);
    const blocks = await this.directBlocks();
    let lo = 0;
    let hi = blocks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = blocks[mid]!;
      if (offset < b.offset) hi = mid - 1;
      else if (offset >= b.offset + b.size) lo = mid + 1;
      else {
        if (offset + length > b.offset + b.size) file.fail(`fractal heap object at ${offset} overruns its block`);
        return file.read(b.address + (offset - b.offset), length, `fractal heap object ${offset} of the heap at ${this.address}`);
      }
    }
    return file.fail(`fractal heap at ${this.address}: no block holds offset ${offset}`);
  }

  private async directBlocks(): Promise<DirectBlock[]> {
    if (this.blocks) return this.blocks;
    const blocks: DirectBlock[] = [];
    if (this.rootAddress !== undefined) {
      if (this.rootRows === 0) blocks.push({ offset: 0, size: this.startBlockSize, address: this.rootAddress });
      else await this.walkIndirect(this.rootAddress, this.rootRows, 0, blocks, 0);
    }
    blocks.sort((a, b) => a.offset - b.offset);
    this.blocks = blocks;
    return blocks;
  }

  private async walkIndirect(address: number, rows: number, heapOffset: number, out: DirectBlock[], depth: number): Promise<void> {
    const file = this.file;
    if (depth > 32 || rows > 64 || out.length > 1e6) file.fail(`fractal heap at ${this.address}: impossible indirect block structure`);
    const width = this.tableWidth;
    const directRows = Math.min(rows, this.maxDirectRows);
    const indirectRows = rows - directRows;
    const size = 4 + 1 + file.offsetSize + this.offsetBytes + (directRows + indirectRows) * width * file.offsetSize + 4;
    const c = await file.cursor(address, size, 'fractal heap indirect block');
    c.signature('FHIB');
    file.verify(c.bytes, `fractal heap indirect block at ${address}`);
    c.u8();
    c.address();
    c.uint(this.offsetBytes);
    let offset = heapOffset;
    for (let row = 0; row < directRows; row++) {
      const blockSize = this.rowBlockSize(row);
      for (let i = 0; i < width; i++) {
        const child = c.address();
        if (child !== undefined) out.push({ offset, size: blockSize, address: child });
        offset += blockSize;
      }
    }
    for (let row = directRows; row < rows; row++) {
      const blockSize = this.rowBlockSize(row);
      const childRows = log2(blockSize) - log2(this.startBlockSize * width) + 1;
      for (let i = 0; i < width; i++) {
        const child = c.address();
        if (child !== undefined) await this.walkIndirect(child, childRows, offset, out, depth + 1);
        offset += blockSize;
      }
    }
  }

  get heapIdLength(): number {
    return this.idLength;
  }
}

/** Bytes needed to encode values up to `n` (HDF5's H5VM_limit_enc_size). */
function limitEncSize(n: number): number {
  return Math.floor(log2(Math.max(n, 1)) / 8) + 1;
}
