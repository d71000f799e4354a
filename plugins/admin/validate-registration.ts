import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { type DatasetEntry, resolveLocation } from '../../catalog/catalog-file.js';
import type { DatasetRecord } from '../../catalog/catalog-store.js';
import { DatasetError, openDataset } from '../../catalog/dataset.js';
import type { DatasetRegistry } from '../../catalog/registry.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { SourceForbiddenError } from '../../kerchunk/sources/source-error.js';
import { HttpProblem } from '../../server/http/problem.js';
import type { Logger } from '../../server/log.js';
import { configureStages, ProcessingConfigError, type ProcessingStage } from '../../server/stage.js';

export interface ValidationOptions {
  /** The processed view's stages: the `processing` block is checked against them. */
  readonly stages?: readonly ProcessingStage[];
  /** Told the full reason of a refusal whose answer leaves details out. */
  readonly logger?: Pick<Logger, 'info'>;
}

/** The one answer for a reference table outside the roots, whether that path exists or not. */
export const OUTSIDE_ROOTS = `"refs" is outside the catalog's directory and the allowed sources (whether or not such a file exists)`;

/**
 * Checks a registration before anything is written, the way the registry will open it: the
 * `processing` block is one the processed view accepts, the reference table parses, its metadata
 * is sane, and every chunk reference resolves inside `sources.allow` (JSON and parquet tables
 * alike: all references are read). The table itself must be a local path inside the catalog's
 * directory or inside an allowed source root. Refusals are 422 problems naming the offending
 * field or reference.
 *
 * What a refusal does not tell (issue #13 F9): whether a path outside the roots exists (one answer
 * for both), where a reference or symlink resolves to outside the roots, the server's absolute
 * paths of the table, or any bytes of a file that is not a reference table. The full reason is
 * logged.
 */
export async function validateRegistration(record: DatasetRecord, registry: DatasetRegistry, options: ValidationOptions = {}): Promise<void> {
  if (options.stages) checkProcessing(record.processing, options.stages);
  const catalog = registry.current;
  const location = resolveLocation(record.refs, catalog.dir);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw unprocessable(`"refs" must be a local path relative to the catalog's directory, not a URL (${record.refs})`);
  }
  await checkTableLocation(location, catalog.dir, registry, (detail) => options.logger?.info('registration refused', { dataset: record.id, detail }));
  const fields: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(record)) if (key !== 'id' && value !== undefined) fields[key] = value as JsonValue;
  const entry: DatasetEntry = { ...record, refsLocation: location, fields };
  let dataset;
  try {
    dataset = await openDataset(entry, registry.sources, { checkAllSources: true });
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    const detail = publicDetail(error.message, location, record.refs);
    if (detail !== error.message) options.logger?.info('registration refused', { dataset: record.id, detail: error.message });
    throw unprocessable(detail);
  }
  await dataset.references.close();
}

/** The `processing` block as the processed view reads it (unknown keys, each stage's setting): 422 naming the field. */
export function checkProcessing(processing: JsonValue | undefined, stages: readonly ProcessingStage[]): void {
  if (processing === undefined) return;
  try {
    configureStages(stages, processing);
  } catch (error) {
    if (error instanceof ProcessingConfigError) throw unprocessable(`"processing" cannot be used by the processed view: ${error.message}`);
    throw error;
  }
}

async function checkTableLocation(location: string, catalogDir: string, registry: DatasetRegistry, log: (detail: string) => void): Promise<void> {
  let real: string | undefined;
  let readProblem: string | undefined;
  try {
    real = await realpath(location);
  } catch (error) {
    readProblem = (error as NodeJS.ErrnoException).code ?? 'error';
  }
  // A missing table is judged by where it would be: outside the roots, the same answer as for one
  // that exists there (so the answers do not tell which paths exist); inside, "cannot be read".
  const candidate = real ?? (await realOfMissing(resolve(location)));
  const roots = [resolve(catalogDir), await realpath(catalogDir)];
  let inside = roots.some((root) => candidate === root || candidate.startsWith(root.endsWith(sep) ? root : `${root}${sep}`));
  if (!inside) {
    try {
      await registry.sources.check(candidate, catalogDir);
      inside = true;
    } catch (error) {
      if (!(error instanceof SourceForbiddenError)) throw error;
      log(`the reference table ${location} ${real === undefined ? `cannot be read (${readProblem})` : `resolves to ${real}`}: ${error.message}`);
    }
  }
  if (!inside) throw unprocessable(OUTSIDE_ROOTS);
  if (real === undefined) throw unprocessable(`the reference table cannot be read (${readProblem})`);
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

/**
 * A registry message as the admin answer gives it: the table's absolute path shown as the `refs`
 * that was sent, no bytes V8 quotes from JSON it cannot parse (parquet tables' `.zmetadata`), and where a refused local reference resolves to (symlinks followed outside the
 * roots, which tells what exists there) left out.
 */
function publicDetail(message: string, location: string, refs: string): string {
  return (
    message
      .split(location)
      .join(refs)
      // V8 quotes the first bytes of what it could not parse: `Unexpected token 'x', "<bytes>"... is not valid JSON`
      .replace(/Unexpected token [\s\S]* is not valid JSON/, 'a syntax error')
      .replace(
        /( is not allowed: )(?:resolves to .*?|.* cannot be resolved \([^)]*\)|.* is a dangling symlink)(; allowed sources: )/s,
        '$1it resolves outside the allowed sources$2',
      )
  );
}

function unprocessable(detail: string): HttpProblem {
  return new HttpProblem(422, 'Unprocessable Content', detail);
}
