import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { resolveLocation, type DatasetEntry } from '../../catalog/catalog-file.js';
import type { DatasetRecord } from '../../catalog/catalog-store.js';
import { DatasetError, openDataset } from '../../catalog/dataset.js';
import type { DatasetRegistry } from '../../catalog/registry.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { SourceForbiddenError } from '../../kerchunk/sources/source-error.js';
import { HttpProblem } from '../../server/http/problem.js';

/**
 * Checks a registration before anything is written, the way the registry will open it: the
 * reference table parses, its metadata is sane, and every chunk reference resolves inside
 * `sources.allow` (JSON and parquet tables alike: all references are read). The table itself must
 * be a local path inside the catalog's directory or inside an allowed source root. Refusals are
 * 422 problems naming the offending reference.
 */
export async function validateRegistration(record: DatasetRecord, registry: DatasetRegistry): Promise<void> {
  const catalog = registry.current;
  const location = resolveLocation(record.refs, catalog.dir);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw unprocessable(`"refs" must be a local path relative to the catalog's directory, not a URL (${record.refs})`);
  }
  await checkTableLocation(record.refs, location, catalog.dir, registry);
  const fields: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(record)) if (key !== 'id' && value !== undefined) fields[key] = value as JsonValue;
  const entry: DatasetEntry = { ...record, refsLocation: location, fields };
  let dataset;
  try {
    dataset = await openDataset(entry, registry.sources, { checkAllSources: true });
  } catch (error) {
    if (error instanceof DatasetError) throw unprocessable(error.message);
    throw error;
  }
  await dataset.references.close();
}

async function checkTableLocation(refs: string, location: string, catalogDir: string, registry: DatasetRegistry): Promise<void> {
  let real: string;
  try {
    real = await realpath(location);
  } catch (error) {
    throw unprocessable(`the reference table ${JSON.stringify(refs)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const root = await realpath(catalogDir);
  if (real === root || real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`)) return;
  try {
    await registry.sources.check(real, catalogDir);
  } catch (error) {
    if (!(error instanceof SourceForbiddenError)) throw error;
    throw unprocessable(`the reference table ${JSON.stringify(refs)} resolves to ${real}, outside the catalog's directory and the allowed sources`);
  }
}

function unprocessable(detail: string): HttpProblem {
  return new HttpProblem(422, 'Unprocessable Content', detail);
}
