import { type DatasetEntry, resolveLocation } from '../../catalog/catalog-file.js';
import type { DatasetRecord } from '../../catalog/catalog-store.js';
import type { DatasetRegistry } from '../../catalog/registry.js';
import { checkRegistration, RegistrationError, type RegistrationRefusal } from '../../catalog/validate-registration.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { HttpProblem } from '../../server/http/problem.js';
import type { Logger } from '../../server/log.js';
import { type ProcessingStage, processingProblem } from '../../server/stage.js';

export interface ValidationOptions {
  /** The processed view's stages: the `processing` block is checked against them. */
  readonly stages?: readonly ProcessingStage[];
  /** Told the full reason of a refusal whose answer leaves details out. */
  readonly logger?: Pick<Logger, 'info'>;
}

/** The one answer for a reference table outside the roots, whether that path exists or not. */
export const OUTSIDE_ROOTS = `"refs" is outside the catalog's directory and the allowed sources (whether or not such a file exists)`;

/**
 * Checks a registration before anything is written, the way the registry will open it (the
 * checks are `checkRegistration`, catalog/validate-registration.ts, shared with `strato ingest`):
 * the `processing` block is one the processed view accepts, the reference table parses, its
 * metadata is sane, and every chunk reference resolves inside `sources.allow` (JSON and parquet
 * tables alike: all references are read). The table itself must be a local path inside the
 * catalog's directory or inside an allowed source root. Refusals are 422 problems naming the
 * offending field or reference; this file words them for the admin API.
 *
 * What a refusal does not tell (issue #13 F9): whether a path outside the roots exists (one answer
 * for both), where a reference or symlink resolves to outside the roots, the server's absolute
 * paths of the table, or any bytes of a file that is not a reference table. The full reason is
 * logged.
 */
export async function validateRegistration(record: DatasetRecord, registry: DatasetRegistry, options: ValidationOptions = {}): Promise<void> {
  const catalog = registry.current;
  const location = resolveLocation(record.refs, catalog.dir);
  const fields: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(record)) if (key !== 'id' && value !== undefined) fields[key] = value as JsonValue;
  const entry: DatasetEntry = { ...record, refsLocation: location, fields };
  const stages = options.stages;
  try {
    await checkRegistration(entry, {
      catalogDir: catalog.dir,
      sources: registry.sources,
      ...(stages ? { processingProblem: (processing: JsonValue | undefined) => processingProblem(stages, processing) } : {}),
    });
  } catch (error) {
    if (!(error instanceof RegistrationError)) throw error;
    throw answer(error.refusal, record, location, options.logger);
  }
}

/** A refusal as the 422 the client gets; what it leaves out goes to the log. */
function answer(refusal: RegistrationRefusal, record: DatasetRecord, location: string, logger: ValidationOptions['logger']): HttpProblem {
  const log = (detail: string) => logger?.info('registration refused', { dataset: record.id, detail });
  switch (refusal.kind) {
    case 'processing':
      return unprocessable(`"processing" cannot be used by the processed view: ${refusal.message}`);
    case 'table-url':
      return unprocessable(`"refs" must be a local path relative to the catalog's directory, not a URL (${record.refs})`);
    case 'table-outside':
      log(refusal.detail);
      return unprocessable(OUTSIDE_ROOTS);
    case 'table-unreadable':
      return unprocessable(`the reference table cannot be read (${refusal.code})`);
    case 'references': {
      const detail = publicDetail(refusal.error.message, location, record.refs);
      if (detail !== refusal.error.message) log(refusal.error.message);
      return unprocessable(detail);
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
