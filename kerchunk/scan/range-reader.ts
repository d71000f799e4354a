import { open } from 'node:fs/promises';
import { ReferenceFormatError } from '../reference.js';
import type { HttpSource } from '../sources/http-source.js';

/** Reads `length` bytes at `offset` of one file; throws when the file is shorter. */
export type RangeReader = (offset: number, length: number) => Promise<Uint8Array>;

/** A file read by byte ranges through a small cache of aligned blocks. */
export interface FileRangeReader {
  readonly read: RangeReader;
  /** File size in bytes, as of opening. */
  readonly size: number;
  readonly path: string;
  close(): Promise<void>;
}

/**
 * The longest single read a scan asks for (bytes). Scanners read metadata (headers, heaps, B-tree
 * nodes) and small chunks to inline; a longer read means a corrupt or hostile declared length,
 * and Node cannot read more than 2 GiB at once anyway (it aborts the process).
 */
export const MAX_RANGE_READ_BYTES = 256 * 1024 * 1024;

export interface FileRangeReaderOptions {
  /** Cache block size in bytes (default 8 KiB). */
  readonly blockSize?: number;
  /** Cached blocks kept (default 512, i.e. 4 MiB with 8 KiB blocks). */
  readonly maxBlocks?: number;
  /** Reads longer than this throw ReferenceFormatError (default MAX_RANGE_READ_BYTES). */
  readonly maxReadBytes?: number;
}

/**
 * Opens `path` for range reads. Reads up to 4 blocks long go through an LRU cache of aligned
 * blocks (HDF5 metadata is many small reads close to each other); longer reads go to the file.
 * A read past the end of the file throws ReferenceFormatError (truncated file), and so does a
 * read longer than `maxReadBytes`, before anything is allocated.
 */
export async function fileRangeReader(path: string, options: FileRangeReaderOptions = {}): Promise<FileRangeReader> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  const readExact = async (offset: number, length: number): Promise<Uint8Array> => {
    const buffer = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done < length) throw truncated(path, offset, length, size);
    return buffer;
  };
  const cached = blockCachedReader(path, size, readExact, options);
  return {
    read: cached.read,
    size,
    path,
    close: async () => {
      cached.clear();
      await handle.close();
    },
  };
}

/** An http(s) object read by byte ranges through the same block cache (its size from a HEAD request). */
export async function httpRangeReader(url: string, http: HttpSource, options: FileRangeReaderOptions = {}): Promise<FileRangeReader> {
  const size = await http.size(url);
  if (size === undefined) throw new ReferenceFormatError(`${url}: the server does not report the size (Content-Length) of the file`);
  const cached = blockCachedReader(url, size, (offset, length) => http.read(url, offset, length), options);
  return { read: cached.read, size, path: url, close: async () => cached.clear() };
}

/** Range reads of an object of known size: short reads through an LRU of aligned blocks. */
function blockCachedReader(
  name: string,
  size: number,
  readExact: (offset: number, length: number) => Promise<Uint8Array>,
  options: FileRangeReaderOptions,
): { read: RangeReader; clear(): void } {
  const blockSize = options.blockSize ?? 8192;
  const maxBlocks = options.maxBlocks ?? 512;
  const maxReadBytes = options.maxReadBytes ?? MAX_RANGE_READ_BYTES;
  const blocks = new Map<number, Promise<Uint8Array>>();

  function block(index: number): Promise<Uint8Array> {
    let cached = blocks.get(index);
    if (cached) {
      blocks.delete(index); // LRU: re-insert as newest
      blocks.set(index, cached);
      return cached;
    }
    const start = index * blockSize;
    cached = readExact(start, Math.min(blockSize, size - start));
    cached.catch(() => blocks.delete(index));
    blocks.set(index, cached);
    if (blocks.size > maxBlocks) {
      const oldest = blocks.keys().next().value as number;
      blocks.delete(oldest);
    }
    return cached;
  }

  const read: RangeReader = async (offset, length) => {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new ReferenceFormatError(`${name}: invalid byte range ${offset}+${length}`);
    }
    if (offset + length > size) throw truncated(name, offset, length, size);
    if (length > maxReadBytes) {
      throw new ReferenceFormatError(
        `${name}: refusing to read ${length} bytes at offset ${offset}: more than the ${formatSize(maxReadBytes)} a scan reads at once (corrupt length field?)`,
      );
    }
    if (length === 0) return new Uint8Array(0);
    const first = Math.floor(offset / blockSize);
    const last = Math.floor((offset + length - 1) / blockSize);
    if (last - first >= 4) return readExact(offset, length);
    if (first === last) {
      const data = await block(first);
      const at = offset - first * blockSize;
      return data.subarray(at, at + length);
    }
    const out = new Uint8Array(length);
    for (let index = first; index <= last; index++) {
      const data = await block(index);
      const blockStart = index * blockSize;
      const from = Math.max(offset, blockStart);
      const to = Math.min(offset + length, blockStart + data.length);
      out.set(data.subarray(from - blockStart, to - blockStart), from - offset);
    }
    return out;
  };
  return { read, clear: () => blocks.clear() };
}

function truncated(path: string, offset: number, length: number, size: number): ReferenceFormatError {
  return new ReferenceFormatError(`${path}: truncated or corrupt file: needs bytes ${offset}..${offset + length} but the file has ${size} bytes`);
}

/** 268435456 → "256 MiB". */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}
