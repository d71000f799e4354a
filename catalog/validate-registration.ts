import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { JsonValue } from '../kerchunk/reference.js';
import { SourceForbiddenError } from '../kerchunk/sources/source-error.js';
import type { Sources } from '../kerchunk/sources/sources.js';
import type { DatasetEntry } from './catalog-file.js';
import { DatasetError, openDataset } from './dataset.js';

/**
 * Why a registration is refused. Each caller words it for its own users: the admin API as a 422
 * problem that never tells what exists outside the roots, `strato ingest` as one CLI line.
 *
 * - `processing`: the `processing` block cannot be used (`message` from the stages);
 * - `table-url`: `refs` is a URL, not a local path;
 * - `table-outside`: the table is outside the catalog's directory and every allowed root
 *   (`detail` says where it resolves to: for the log, not for clients);
 * - `table-unreadable`: inside the roots, but it cannot be read (`code`: ENOENT, EACCES, ...);
 * - `references`: the table does not open as the registry would open it (`error`: bad JSON or
 *   parquet, bad metadata, a reference outside `sources.allow`; its message names the path the
 *   table was read from).
 */
export type RegistrationRefusal =
  | { readonly kind: 'processing'; readonly message: string }
  | { readonly kind: 'table-url' }
  | { readonly kind: 'table-outside'; readonly detail: string }
  | { readonly kind: 'table-unreadable'; readonly code: string }
  | { readonly kind: 'references'; readonly error: DatasetError };

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  constructor(readonly refusal: RegistrationRefusal) {
    super(refusalMessage(refusal));
  }
}

export interface RegistrationCheck {
  /** The catalog file's directory: `refs` resolves against it, and a table inside it is fine. */
  readonly catalogDir: string;
  /** The sources of the catalog (its `sources.allow`), as the registry will read the dataset. */
  readonly sources: Sources;
  /** Why a `processing` block cannot be used by the loaded stages, or undefined; without it the block is not checked. */
  readonly processingProblem?: (processing: JsonValue | undefined) => string | undefined;
  /**
   * Where the table is now, when that is not yet its place in the catalog (`strato ingest` writes
   * a staging copy beside it): the table is opened from here, and its place `entry.refsLocation`
   * is judged as the path that will be renamed into (its last component not followed) rather
   * than read.
   */
  readonly stagedAt?: string;
}

/**
 * Checks a registration before anything is written, the way the registry will open it, in this
 * order: the `processing` block is one the processed view accepts; `refs` is a local path; the
 * table lies inside the catalog's directory or an allowed source root (symlinks followed; a
 * missing table judged by where it would be, so the answer does not depend on what exists
 * outside the roots); it can be read; it parses, its metadata is sane, and every chunk reference
 * resolves inside `sources.allow` (JSON and parquet tables alike: all references are read).
 * Throws RegistrationError.
 */
export async function checkRegistration(entry: DatasetEntry, check: RegistrationCheck): Promise<void> {
  const problem = check.processingProblem?.(entry.processing);
  if (problem !== undefined) throw new RegistrationError({ kind: 'processing', message: problem });
  const location = check.stagedAt === undefined ? entry.refsLocation : resolve(entry.refsLocation);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new RegistrationError({ kind: 'table-url' });
  await checkTableLocation(location, check);
  const readFrom = check.stagedAt ?? location;
  let dataset;
  try {
    dataset = await openDataset({ ...entry, refsLocation: readFrom }, check.sources, { checkAllSources: true });
  } catch (error) {
    if (error instanceof DatasetError) throw new RegistrationError({ kind: 'references', error });
    throw error;
  }
  await dataset.references.close();
}

async function checkTableLocation(location: string, check: RegistrationCheck): Promise<void> {
  let real: string | undefined;
  let readProblem: string | undefined;
  if (check.stagedAt !== undefined) {
    // the place a staged table is renamed into: its directory's real path, the name itself
    real = join(await realpath(dirname(location)), basename(location));
  } else {
    try {
      real = await realpath(location);
    } catch (error) {
      readProblem = (error as NodeJS.ErrnoException).code ?? 'error';
    }
  }
  // A missing table is judged by where it would be: outside the roots, the same answer as for one
  // that exists there (so the answers do not tell which paths exist); inside, "cannot be read".
  const candidate = real ?? (await realOfMissing(resolve(location)));
  const roots = [resolve(check.catalogDir), await realpath(check.catalogDir)];
  let inside = roots.some((root) => candidate === root || candidate.startsWith(root.endsWith(sep) ? root : `${root}${sep}`));
  if (!inside) {
    try {
      await check.sources.check(candidate, check.catalogDir);
      inside = true;
    } catch (error) {
      if (!(error instanceof SourceForbiddenError)) throw error;
      const where = real === undefined ? `cannot be read (${readProblem})` : `resolves to ${real}`;
      throw new RegistrationError({ kind: 'table-outside', detail: `the reference table ${location} ${where}: ${error.message}` });
    }
  }
  if (real === undefined) throw new RegistrationError({ kind: 'table-unreadable', code: readProblem ?? 'error' });
}

/** The real path of the deepest existing ancestor of a missing path, joined with the rest (symlinks followed as a later creation would). */
async function realOfMissing(path: string): Promise<string> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    const parent = dirname(current);
    if (parent === current) return path;
    rest.unshift(basename(current));
    current = parent;
    try {
      return join(await realpath(current), ...rest);
    } catch {
      // not there either: one level up
    }
  }
}

function refusalMessage(refusal: RegistrationRefusal): string {
  switch (refusal.kind) {
    case 'processing':
      return `"processing" cannot be used by the processed view: ${refusal.message}`;
    case 'table-url':
      return '"refs" must be a local path, not a URL';
    case 'table-outside':
      return refusal.detail;
    case 'table-unreadable':
      return `the reference table cannot be read (${refusal.code})`;
    case 'references':
      return refusal.error.message;
  }
}
