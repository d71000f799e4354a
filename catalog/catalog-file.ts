import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { JsonValue } from '../kerchunk/reference.js';
import { type AccessRule, type AuthSettings, parseAccess, parseAuth } from './auth-settings.js';
import { type DeriveSpec, parseDeriveSpec } from './derive-entry.js';

/**
 * The catalog file (YAML, intake-like): the single source of truth for what is served.
 *
 * ```yaml
 * datasets:
 *   tas-daily:
 *     refs: refs/tas-daily.json      # kerchunk JSON v0/v1, or a parquet reference directory
 *     title: ...
 *     processing: {...}              # the processed view (/zarr) only
 *     access: {roles: [members]}     # a protected dataset (auth-settings.ts); none = public
 * sources:
 *   allow: [data/]                   # nothing outside these roots is ever read
 * auth: {issuers: [...]}             # OpenID Connect issuers whose tokens are accepted
 * ```
 *
 * Fail closed: a key of a dataset entry that is not in DATASET_KEYS, or a known key of the wrong
 * shape, leaves that dataset out as a problem entry (a misspelt `acess:` must not publish an
 * embargoed run); a protected dataset is left out too when the `auth` section is missing or
 * unusable.
 */
export interface DatasetEntry {
  readonly id: string;
  /** The reference table as written in the catalog. */
  readonly refs: string;
  /** The reference table resolved against the catalog's directory (a local path or URL). */
  readonly refsLocation: string;
  readonly title?: string;
  readonly description?: string;
  readonly license?: string;
  readonly processing?: JsonValue;
  readonly stac?: JsonValue;
  /** Who may read it (`access:`); undefined = public. */
  readonly access?: AccessRule;
  /** A dataset computed from another (`derive:`, derive-entry.ts); `refs` is then ''. */
  readonly derive?: DeriveSpec;
  /** Every field of the entry as written, for plugins that read their own settings. */
  readonly fields: Readonly<Record<string, JsonValue>>;
}

export interface SourcesSettings {
  /** Allowed roots as written (relative ones resolve against the catalog's directory). */
  readonly allow: readonly string[];
  /** Endpoint that `s3://bucket/key` references are read from (path-style, unsigned). */
  readonly s3Endpoint?: string;
  /** Outbound http(s) reads: `sources.http: {timeout_ms, retries}` (defaults: 10 000 ms, 2). */
  readonly http?: { readonly timeoutMs?: number; readonly retries?: number };
}

export interface CatalogProblem {
  readonly id: string;
  readonly message: string;
}

export interface Catalog {
  /** Absolute path of the catalog file. */
  readonly file: string;
  /** Directory relative paths in the catalog resolve against. */
  readonly dir: string;
  readonly datasets: readonly DatasetEntry[];
  readonly sources: SourcesSettings;
  /** Entries left out because they are malformed (the rest of the catalog is served). */
  readonly problems: readonly CatalogProblem[];
  /** The `auth` section, when present and usable. */
  readonly auth?: AuthSettings;
  /** Why the `auth` section cannot be used (its protected datasets are then problem entries). */
  readonly authProblem?: string;
  /** Top-level fields as written (title, description, plugins, ...). */
  readonly fields: Readonly<Record<string, JsonValue>>;
  /** The SHA-256 of the file's text as `loadCatalog` read it (none for a catalog parsed from text). */
  readonly textHash?: string;
}

/** The catalog file itself is unusable (missing, not YAML, wrong shape). */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

/**
 * Every key a dataset entry may have: the ones strato documents (README, DESIGN, catalog docs)
 * and reads (`providers`: STAC providers; `derive`: derived datasets; `metadata`: carried over by
 * `strato ingest --from-intake`). Anything else is refused.
 */
export const DATASET_KEYS: ReadonlySet<string> = new Set(['refs', 'title', 'description', 'license', 'processing', 'stac', 'providers', 'access', 'derive', 'metadata', 'ingest']);

export const DATASET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const MAX_DATASET_ID_LENGTH = 128;

export function datasetIdProblem(id: string): string | undefined {
  if (id.length > MAX_DATASET_ID_LENGTH) return `dataset id longer than ${MAX_DATASET_ID_LENGTH} characters`;
  if (!DATASET_ID.test(id)) return `dataset id "${id}" must match ${DATASET_ID.source}`;
  return undefined;
}

export async function loadCatalog(file: string): Promise<Catalog> {
  const absolute = resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new CatalogError(`cannot read catalog ${absolute}: ${(error as Error).message}`);
  }
  return { ...parseCatalog(text, absolute), textHash: catalogTextHash(text) };
}

/** The SHA-256 (hex) of a catalog's text, as `Catalog.textHash` holds it. */
export function catalogTextHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The `textHash` the catalog file would be loaded with now (no parse), or undefined when it cannot be read. */
export async function catalogFileHash(file: string): Promise<string | undefined> {
  try {
    return catalogTextHash(await readFile(resolve(file), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Parses catalog text; `file` is the catalog's absolute path (relative paths resolve against its directory). */
export function parseCatalog(text: string, file: string): Catalog {
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new CatalogError(`catalog ${file} is not valid YAML: ${(error as Error).message}`);
  }
  document ??= {};
  if (!isRecord(document)) throw new CatalogError(`catalog ${file} must be a mapping with "datasets" and "sources"`);
  const dir = dirname(file);
  const datasets: DatasetEntry[] = [];
  const problems: CatalogProblem[] = [];
  const entries = document.datasets ?? {};
  if (!isRecord(entries)) throw new CatalogError(`catalog ${file}: "datasets" must be a mapping of id → entry`);
  const auth = document.auth === undefined || document.auth === null ? undefined : parseAuth(document.auth);
  const authProblem = typeof auth === 'string' ? auth : undefined;
  for (const [id, entry] of Object.entries(entries)) {
    const result = readEntry(id, entry, dir);
    if (typeof result === 'string') problems.push({ id, message: result });
    else if (result.access && auth === undefined)
      problems.push({ id, message: `dataset "${id}" is protected by "access" but the catalog has no "auth" section: it is not served` });
    else if (result.access && authProblem !== undefined)
      problems.push({ id, message: `dataset "${id}" is protected by "access" but the catalog's "auth" cannot be used (${authProblem}): it is not served` });
    else datasets.push(result);
  }
  const fields = { ...document } as Record<string, JsonValue>;
  delete fields.datasets;
  return {
    file,
    dir,
    datasets,
    sources: readSources(document.sources, file),
    problems,
    ...(auth !== undefined && typeof auth !== 'string' ? { auth } : {}),
    ...(authProblem !== undefined ? { authProblem } : {}),
    fields,
  };
}

function readEntry(id: string, entry: unknown, dir: string): DatasetEntry | string {
  const idProblem = datasetIdProblem(id);
  if (idProblem) return idProblem;
  if (!isRecord(entry)) return `dataset "${id}" must be a mapping with at least "refs"`;
  const unknown = Object.keys(entry).filter((key) => !DATASET_KEYS.has(key));
  if (unknown.length > 0) return `dataset "${id}": unknown key(s) ${unknown.map((key) => JSON.stringify(key.slice(0, 64))).join(', ')}; known: ${[...DATASET_KEYS].join(', ')}`;
  let access: AccessRule | undefined;
  if (Object.hasOwn(entry, 'access')) {
    const parsed = parseAccess(entry.access);
    if (typeof parsed === 'string') return `dataset "${id}": ${parsed}`;
    access = parsed;
  }
  const derive = entry.derive === undefined ? undefined : Object.hasOwn(entry, 'refs') ? '"derive" and "refs" exclude each other' : parseDeriveSpec(entry.derive);
  if (typeof derive === 'string') return `dataset "${id}": ${derive}`;
  if (!derive && (typeof entry.refs !== 'string' || entry.refs.length === 0)) return `dataset "${id}" needs "refs": the path of its reference table`;
  for (const field of ['title', 'description', 'license'] as const) {
    if (entry[field] !== undefined && typeof entry[field] !== 'string') return `dataset "${id}": "${field}" must be text`;
  }
  for (const field of ['processing', 'stac', 'ingest'] as const) {
    if (entry[field] !== undefined && entry[field] !== null && !isRecord(entry[field])) return `dataset "${id}": "${field}" must be a mapping`;
  }
  return {
    id,
    refs: derive ? '' : (entry.refs as string),
    refsLocation: derive ? '' : resolveLocation(entry.refs as string, dir),
    ...(derive ? { derive } : {}),
    ...(typeof entry.title === 'string' ? { title: entry.title } : {}),
    ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
    ...(typeof entry.license === 'string' ? { license: entry.license } : {}),
    ...(entry.processing !== undefined ? { processing: entry.processing as JsonValue } : {}),
    ...(entry.stac !== undefined ? { stac: entry.stac as JsonValue } : {}),
    ...(access ? { access } : {}),
    fields: entry as Record<string, JsonValue>,
  };
}

function readSources(value: unknown, file: string): SourcesSettings {
  if (value === undefined || value === null) return { allow: [] };
  if (!isRecord(value)) throw new CatalogError(`catalog ${file}: "sources" must be a mapping with "allow"`);
  const allow = value.allow ?? [];
  if (!Array.isArray(allow) || !allow.every((root) => typeof root === 'string' && root.length > 0)) {
    throw new CatalogError(`catalog ${file}: "sources.allow" must be a list of paths or URLs`);
  }
  const s3 = value.s3;
  let s3Endpoint: string | undefined;
  if (s3 !== undefined) {
    if (!isRecord(s3) || typeof s3.endpoint !== 'string') throw new CatalogError(`catalog ${file}: "sources.s3" must be {endpoint: URL}`);
    s3Endpoint = s3.endpoint;
  }
  const http = readHttpSettings(value.http, file);
  return { allow: allow as string[], ...(s3Endpoint ? { s3Endpoint } : {}), ...(http ? { http } : {}) };
}

function readHttpSettings(value: unknown, file: string): SourcesSettings['http'] {
  if (value === undefined || value === null) return undefined;
  const problem = `catalog ${file}: "sources.http" must be {timeout_ms: positive integer, retries: integer >= 0}`;
  if (!isRecord(value)) throw new CatalogError(problem);
  const { timeout_ms: timeoutMs, retries } = value;
  if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && (timeoutMs as number) > 0)) throw new CatalogError(problem);
  if (retries !== undefined && !(Number.isSafeInteger(retries) && (retries as number) >= 0)) throw new CatalogError(problem);
  return { ...(timeoutMs !== undefined ? { timeoutMs: timeoutMs as number } : {}), ...(retries !== undefined ? { retries: retries as number } : {}) };
}

/** A path relative to the catalog's directory, or a URL left as it is. */
export function resolveLocation(location: string, dir: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file://')) return location;
  const path = location.startsWith('file://') ? new URL(location).pathname : location;
  return isAbsolute(path) ? path : resolve(dir, path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
