import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { type Catalog, type DatasetEntry, loadCatalog } from '../catalog/catalog-file.js';
import { applyDatasets, type DatasetRecord } from '../catalog/catalog-store.js';
import { checkRegistration, RegistrationError } from '../catalog/validate-registration.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { SourceForbiddenError } from '../kerchunk/sources/source-error.js';
import { Sources } from '../kerchunk/sources/sources.js';
import { stratoVersion } from '../server/version.js';
import { regenerateStaticStac } from '../static-stac/regenerate.js';
import type { SkippedEntry } from './intake-catalog.js';
import { isHttpUrl, LocationError, readLocation } from './read-location.js';

/**
 * Registers many reference sets in one write of the catalog: the single point of ingest behind
 * `strato ingest --from-intake` / `--from-dir` and the watched directory of `strato serve`.
 *
 * Every candidate is validated first, as the admin API validates a registration
 * (catalog/validate-registration.ts: the table inside the catalog's directory or an allowed root,
 * its metadata sane, every reference inside `sources.allow`); only then is the catalog written,
 * once, atomically, under its lock (catalog-store.ts `applyDatasets`). An entry whose fields are
 * already what the candidate says is unchanged, so a re-run writes nothing. With `removeWithin`,
 * entries whose table lies in that directory and no longer exists are removed (sets taken away).
 *
 * A JSON table at an http(s) URL (inside `sources.allow`) is fetched (bounded: REMOTE_TABLE_LIMITS)
 * and kept beside the catalog as `refs/remote/<id>.json`, the copy strato serves; a re-run
 * replaces it only when its bytes changed. Remote parquet directories are not fetched.
 */
export interface Candidate {
  readonly id: string;
  /** The reference table: an absolute local path (an http(s) URL is refused: tables are read locally). */
  readonly table: string;
  readonly title?: string;
  readonly description?: string;
  readonly metadata?: JsonValue;
}

export interface RegisterOptions {
  readonly catalog: string;
  readonly candidates: readonly Candidate[];
  /** Remove entries whose table lies inside this directory and is gone. */
  readonly removeWithin?: string;
  /** Validate and report; write nothing. */
  readonly dryRun?: boolean;
  /** Candidates known good (validated before, unchanged since): not validated again. */
  readonly trusted?: (candidate: Candidate) => boolean;
  /**
   * How these sets are registered (tool, where from), written as each entry's `ingest` record with
   * strato's version: the ingest activity of the dataset's provenance. No time in it, so a re-run
   * that finds nothing new leaves the catalog as it is.
   */
  readonly ingest?: Readonly<Record<string, string>>;
}

export interface RegisterReport {
  readonly added: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
  readonly removed: readonly string[];
  readonly skipped: readonly SkippedEntry[];
  /** Whether the catalog file was rewritten. */
  readonly written: boolean;
}

export async function registerSets(options: RegisterOptions): Promise<RegisterReport> {
  const catalog = await loadCatalog(options.catalog);
  const sources = await Sources.create({
    allow: catalog.sources.allow,
    baseDir: catalog.dir,
    ...(catalog.sources.s3Endpoint ? { s3Endpoint: catalog.sources.s3Endpoint } : {}),
  });
  const skipped: SkippedEntry[] = [];
  const put: DatasetRecord[] = [];
  /** Fetched remote tables: staged copy → its place, moved in before the catalog is written. */
  const fetched: Array<{ staging: string; target: string }> = [];
  try {
    for (const candidate of options.candidates) {
      if (isHttpUrl(candidate.table)) {
        const copy = await fetchRemote(candidate, catalog, sources);
        if (typeof copy === 'string') {
          skipped.push({ id: candidate.id, reason: copy, kind: 'failed' });
          continue;
        }
        if (copy.staging !== undefined) fetched.push({ staging: copy.staging, target: copy.target });
        put.push(recordOf({ ...candidate, table: copy.target }, catalog, options.ingest));
        continue;
      }
      const refused = options.trusted?.(candidate) ? undefined : await refusal(candidate, catalog, sources);
      if (refused !== undefined) skipped.push({ id: candidate.id, reason: refused, kind: 'failed' });
      else put.push(recordOf(candidate, catalog, options.ingest));
    }
  } catch (error) {
    await Promise.all(fetched.map(({ staging }) => rm(staging, { force: true })));
    throw error;
  } finally {
    await sources.close();
  }
  const remove = options.removeWithin === undefined ? [] : await gone(catalog, resolve(options.removeWithin), new Set(options.candidates.map((c) => c.id)));
  if (options.dryRun) {
    await Promise.all(fetched.map(({ staging }) => rm(staging, { force: true })));
    return dryRun(catalog, put, remove, skipped);
  }
  for (const { staging, target } of fetched) await rename(staging, target);
  const result = await applyDatasets(catalog.file, put, remove);
  for (const { id, reason } of result.refused) skipped.push({ id, reason, kind: 'failed' });
  if (result.changed) await regenerateStaticStac(catalog.file);
  return { added: result.added, updated: result.updated, unchanged: result.unchanged, removed: result.removed, skipped, written: result.changed };
}

/** Bounds of a fetched remote reference table. */
export const REMOTE_TABLE_LIMITS = { maxBytes: 256 * 1024 * 1024, timeoutMs: 60_000 };

/**
 * A remote JSON table fetched and validated as `refs/remote/<id>.json` beside the catalog:
 * `staging` is set when the copy there must be replaced (absent or different bytes); or why not.
 */
async function fetchRemote(candidate: Candidate, catalog: Catalog, sources: Sources): Promise<{ target: string; staging?: string } | string> {
  if (/\.parq(uet)?\/?$/i.test(new URL(candidate.table).pathname))
    return `the reference table ${candidate.table} is a remote parquet directory: copy it beside the catalog (only remote JSON tables are fetched)`;
  try {
    await sources.check(candidate.table, catalog.dir);
  } catch (error) {
    if (error instanceof SourceForbiddenError) return `the reference table ${candidate.table} is outside sources.allow: ${error.message}`;
    throw error;
  }
  let text: string;
  try {
    text = await readLocation(candidate.table, REMOTE_TABLE_LIMITS);
  } catch (error) {
    if (error instanceof LocationError) return `cannot fetch the reference table ${error.message}`;
    throw error;
  }
  const dir = join(catalog.dir, 'refs', 'remote');
  const target = join(dir, `${candidate.id}.json`);
  await mkdir(dir, { recursive: true });
  const staging = join(dir, `.${candidate.id}.json.${process.pid}.${randomBytes(4).toString('hex')}.staging`);
  await writeFile(staging, text);
  const entry: DatasetEntry = { id: candidate.id, refs: target, refsLocation: target, fields: {} };
  try {
    await checkRegistration(entry, { catalogDir: catalog.dir, sources, stagedAt: staging });
  } catch (error) {
    await rm(staging, { force: true });
    if (error instanceof RegistrationError) return `${candidate.table}: ${error.message.replaceAll(staging, candidate.table)}`;
    throw error;
  }
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current === text) {
    await rm(staging, { force: true });
    return { target };
  }
  return { target, staging };
}

/** Why `candidate` cannot be registered, or undefined. */
async function refusal(candidate: Candidate, catalog: Catalog, sources: Sources): Promise<string | undefined> {
  const entry: DatasetEntry = { id: candidate.id, refs: candidate.table, refsLocation: candidate.table, fields: {} };
  try {
    await checkRegistration(entry, { catalogDir: catalog.dir, sources });
    return undefined;
  } catch (error) {
    if (error instanceof RegistrationError) {
      if (error.refusal.kind === 'table-unreadable') return `the reference table ${candidate.table} cannot be read (${error.refusal.code})`;
      return error.message;
    }
    throw error;
  }
}

function recordOf(candidate: Candidate, catalog: Catalog, ingest: RegisterOptions['ingest']): DatasetRecord {
  return {
    id: candidate.id,
    refs: refsFor(candidate.table, catalog.dir),
    ...(candidate.title !== undefined ? { title: candidate.title } : {}),
    ...(candidate.description !== undefined ? { description: candidate.description } : {}),
    ...(candidate.metadata !== undefined ? { metadata: candidate.metadata } : {}),
    ...(ingest ? { ingest: { ...ingest, strato: stratoVersion() } } : {}),
  };
}

/** The table as written in the catalog: relative to the catalog's directory when inside it. */
function refsFor(table: string, dir: string): string {
  const rel = relative(dir, table);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return table;
  return rel.split(sep).join('/');
}

/** Entries whose table lies inside `dir`, that are not candidates, and whose table no longer exists. */
async function gone(catalog: Catalog, dir: string, candidates: ReadonlySet<string>): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of catalog.datasets) {
    if (candidates.has(entry.id) || isHttpUrl(entry.refsLocation) || entry.refsLocation === '') continue;
    const location = resolve(entry.refsLocation);
    if (!location.startsWith(`${dir}${sep}`)) continue;
    const present = await stat(location).catch(() => undefined);
    if (!present) ids.push(entry.id);
  }
  return ids;
}

function dryRun(catalog: Catalog, put: readonly DatasetRecord[], remove: readonly string[], skipped: SkippedEntry[]): RegisterReport {
  const existing = new Map(catalog.datasets.map((entry) => [entry.id, entry]));
  const added: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  for (const record of put) {
    const entry = existing.get(record.id);
    if (!entry) added.push(record.id);
    else if (
      entry.refs === record.refs &&
      entry.title === record.title &&
      entry.description === record.description &&
      JSON.stringify(entry.fields.metadata) === JSON.stringify(record.metadata) &&
      JSON.stringify(entry.fields.ingest) === JSON.stringify(record.ingest)
    )
      unchanged.push(record.id);
    else updated.push(record.id);
  }
  return { added, updated, unchanged, removed: [...remove], skipped, written: false };
}
