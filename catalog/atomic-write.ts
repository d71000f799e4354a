import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces a file so that readers (and a machine that loses power) see either the old or the new
 * content, never a mix or an empty file: the bytes go to a temporary file in the same directory
 * (`.<name>.<pid>.<random>.tmp`), which is fsynced, renamed over the target, and the directory
 * fsynced so the rename itself is durable.
 */
export interface AtomicWriteOptions {
  /** Permission bits of the new file (default 0o644; pass the old file's to keep them). */
  readonly mode?: number;
  /** Runs after the temporary file is durable and before the rename; throwing aborts the write. */
  readonly beforeRename?: () => Promise<void>;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', options.mode ?? 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
      if (options.mode !== undefined) await handle.chmod(options.mode); // open's mode is filtered by the umask
    } finally {
      await handle.close();
    }
    await options.beforeRename?.();
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw namingFile(error, file);
  }
  await syncDirectory(dirname(file));
}

/**
 * Removes temporary files of earlier writes of `file` that never reached their rename (a writer
 * killed mid-way). Only safe while no other writer of `file` runs, i.e. under the file's lock.
 */
export async function removeLeftoverTemporaries(file: string): Promise<string[]> {
  const prefix = `.${basename(file)}.`;
  const dir = dirname(file);
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    if (!/^\d+\.[0-9a-f]+\.tmp$/.test(name.slice(prefix.length))) continue;
    await unlink(join(dir, name)).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}

/** fsync of a directory: makes renames and new entries in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on directories; there is nothing more to do there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF') throw error;
  } finally {
    await handle.close();
  }
}

/** A write error (ENOSPC, EFBIG, EIO: errors of a descriptor, which name no path) with the file named, its code kept. */
function namingFile(error: unknown, file: string): unknown {
  const failed = error as NodeJS.ErrnoException;
  if (typeof failed?.code === 'string' && failed.path === undefined && !failed.message.includes(file)) failed.message = `cannot write ${file}: ${failed.message}`;
  return error;
}
