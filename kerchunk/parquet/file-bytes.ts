import type { FileHandle } from 'node:fs/promises';
import { ReferenceFormatError } from '../reference.js';

/** Fills `target` with the bytes at `position`; a file that ends first is a ReferenceFormatError naming `file`. */
export async function readInto(handle: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) {
      throw new ReferenceFormatError(
        `${file} is not a readable parquet file (truncated or not parquet?): it ends at ${position + done} bytes, before ${position + target.byteLength}`,
      );
    }
    done += bytesRead;
  }
}

/** `length` bytes at `position` (see readInto). */
export async function readExactly(handle: FileHandle, position: number, length: number, file: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  await readInto(handle, bytes, position, file);
  return bytes;
}
