import { ReferenceFormatError } from '../../reference.js';
import { formatSize, type RangeReader } from '../range-reader.js';
import { checksumOk } from './checksum.js';
import { Cursor } from './cursor.js';

export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/**
 * The longest read the HDF5 scanner makes for one structure (object header block, heap, B-tree
 * node, chunk index block, a chunk it must decode). Real ones are kilobytes to a few MiB; a
 * declared length above this is a corrupt or hostile file, refused before anything is allocated.
 */
export const MAX_HDF5_READ_BYTES = 64 * 1024 * 1024;

export interface Superblock {
  readonly version: number;
  /** Absolute file position of the superblock (0, 512, 1024, ...). */
  readonly position: number;
  /** Absolute file position that addresses are relative to. */
  readonly base: number;
  readonly offsetSize: number;
  readonly lengthSize: number;
  readonly rootAddress: number;
  /** Root group's B-tree and local heap from the root symbol table entry's scratch pad (v0/v1). */
  readonly rootScratch?: { btree: number; heap: number } | undefined;
  readonly endOfFile: number | undefined;
}

/** Byte-range access to one HDF5 file, in file addresses (relative to the base address). */
export class Hdf5File {
  constructor(
    readonly name: string,
    private readonly readRange: RangeReader,
    readonly superblock: Superblock,
    /** The file's size when known: declared lengths are checked against it. */
    readonly fileSize?: number,
  ) {}

  get offsetSize(): number {
    return this.superblock.offsetSize;
  }

  get lengthSize(): number {
    return this.superblock.lengthSize;
  }

  /** Absolute file position of an address. */
  absolute(address: number): number {
    return this.superblock.base + address;
  }

  /**
   * `length` bytes at `address`. `what` names the structure in errors: a length the file cannot
   * hold, or longer than MAX_HDF5_READ_BYTES, fails before it is read.
   */
  async read(address: number, length: number, what = 'a structure'): Promise<Uint8Array> {
    this.checkLength(address, length, what);
    return this.readRange(this.absolute(address), length);
  }

  async cursor(address: number, length: number, what?: string): Promise<Cursor> {
    return this.cursorOf(await this.read(address, length, what));
  }

  /** Fails unless `length` bytes at `address` lie inside the file and under MAX_HDF5_READ_BYTES. */
  checkLength(address: number, length: number, what: string): void {
    if (!Number.isSafeInteger(length) || length < 0) this.fail(`${what} at ${address} has an impossible length ${length}`);
    if (length > MAX_HDF5_READ_BYTES) {
      this.fail(`${what} at ${address} declares ${length} bytes, more than the ${formatSize(MAX_HDF5_READ_BYTES)} the scanner reads at once (corrupt file?)`);
    }
    const end = this.absolute(address) + length;
    if (this.fileSize !== undefined && end > this.fileSize) {
      this.fail(`truncated or corrupt file: ${what} at ${address} needs ${length} bytes, past the end of the file (${this.fileSize} bytes)`);
    }
  }

  cursorOf(bytes: Uint8Array, position = 0): Cursor {
    return new Cursor(bytes, this.offsetSize, this.lengthSize, (problem) => this.fail(problem), position);
  }

  /** Checks the lookup3 checksum that ends `bytes` (version-2 metadata structures). */
  verify(bytes: Uint8Array, what: string): void {
    if (!checksumOk(bytes)) this.fail(`${what}: checksum mismatch (corrupt file)`);
  }

  fail(problem: string): never {
    throw new ReferenceFormatError(`${this.name}: ${problem}`);
  }
}

/** Finds and parses the superblock (signature at 0, 512, 1024, 2048, ...). */
export async function openHdf5(read: RangeReader, name: string, fileSize?: number): Promise<Hdf5File> {
  const position = await findSignature(read, fileSize);
  if (position === undefined) throw new ReferenceFormatError(`${name}: not an HDF5 file (no HDF5 signature)`);
  const fail = (problem: string): never => {
    throw new ReferenceFormatError(`${name}: superblock: ${problem}`);
  };
  const head = await read(position, 9);
  const version = head[8]!;
  if (version > 3) fail(`unsupported superblock version ${version}`);
  if (version <= 1) {
    const fixed = await read(position, 24);
    const offsetSize = fixed[13]!;
    const lengthSize = fixed[14]!;
    checkSizes(offsetSize, lengthSize, fail);
    const headerLength = 24 + (version === 1 ? 4 : 0);
    const total = headerLength + 4 * offsetSize + (2 * offsetSize + 24);
    const c = new Cursor(await read(position, total), offsetSize, lengthSize, fail, headerLength);
    const base = c.address() ?? 0;
    c.address(); // free-space info (unused)
    const endOfFile = c.address();
    c.address(); // driver info block
    // root group symbol table entry
    c.address(); // link name offset
    const rootAddress = c.address();
    const cacheType = c.u32();
    c.skip(4);
    let rootScratch: Superblock['rootScratch'];
    if (cacheType === 1) {
      const btree = c.address();
      const heap = c.address();
      if (btree !== undefined && heap !== undefined) rootScratch = { btree, heap };
    }
    if (rootAddress === undefined) fail('no root group');
    return new Hdf5File(
      name,
      read,
      {
        version,
        position,
        base: effectiveBase(base, position),
        offsetSize,
        lengthSize,
        rootAddress: rootAddress!,
        rootScratch,
        endOfFile,
      },
      fileSize,
    );
  }
  const sizes = await read(position, 12);
  const offsetSize = sizes[9]!;
  const lengthSize = sizes[10]!;
  checkSizes(offsetSize, lengthSize, fail);
  const block = await read(position, 12 + 4 * offsetSize + 4);
  if (!checksumOk(block)) fail('checksum mismatch (corrupt file)');
  const c = new Cursor(block, offsetSize, lengthSize, fail, 12);
  const base = c.address() ?? 0;
  c.address(); // superblock extension
  const endOfFile = c.address();
  const rootAddress = c.address();
  if (rootAddress === undefined) fail('no root group');
  return new Hdf5File(
    name,
    read,
    {
      version,
      position,
      base: effectiveBase(base, position),
      offsetSize,
      lengthSize,
      rootAddress: rootAddress!,
      endOfFile,
    },
    fileSize,
  );
}

/**
 * The HDF5 library treats a superblock found after a user block as the base of all addresses
 * even when the stored base address is 0.
 */
function effectiveBase(stored: number, position: number): number {
  return stored === 0 && position > 0 ? position : stored;
}

function checkSizes(offsetSize: number, lengthSize: number, fail: (p: string) => never): void {
  if (![2, 4, 8].includes(offsetSize) || ![2, 4, 8].includes(lengthSize)) {
    fail(`unsupported size of offsets ${offsetSize} / lengths ${lengthSize}`);
  }
}

/** Position of the HDF5 signature: 0, 512, 1024, 2048, ... up to the file size. */
export async function findSignature(read: RangeReader, fileSize?: number): Promise<number | undefined> {
  for (let position = 0; ; position = position === 0 ? 512 : position * 2) {
    if (fileSize !== undefined && position + 8 > fileSize) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = await read(position, 8);
    } catch {
      return undefined;
    }
    if (HDF5_SIGNATURE.every((b, i) => bytes[i] === b)) return position;
    if (position > 1 << 30) return undefined;
  }
}
