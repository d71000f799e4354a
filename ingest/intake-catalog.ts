import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { datasetIdProblem } from '../catalog/catalog-file.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { DEFAULT_READ_LIMITS, isHttpUrl, LocationError, type ReadLimits, readLocation } from './read-location.js';

/**
 * Reads an intake v1 catalog (YAML, local or http(s)) and the catalogs it nests, and lists the
 * entries that are kerchunk-referenced Zarr: `driver: zarr` (or `intake_xarray.xzarr.ZarrSource`)
 * with `urlpath: reference://` and `storage_options: {fo: TABLE}`, flat or under `args:` as intake
 * writes it. Nested catalogs are `driver: intake.catalog.local.YAMLFileCatalog` (`yaml_file_cat`)
 * with `args: {path: …}`. Entry names joined with `.` through the nesting are the dataset ids.
 * `{{ CATALOG_DIR }}` is expanded (the directory or URL of the catalog that says it); a relative
 * path resolves against that catalog too. Any other template is not expanded: the entry is skipped.
 *
 * Bounded: nesting depth, catalogs read, entries seen, bytes and seconds per catalog read, YAML
 * aliases; include cycles are skipped. Names are read into Maps (`__proto__` is a name like any
 * other, and then not a valid dataset id). What is not registered is in `skipped`, with why.
 */
export interface IntakeDataset {
  readonly id: string;
  /** The reference table: an absolute local path or an http(s) URL. */
  readonly table: string;
  readonly title?: string;
  readonly description?: string;
  readonly metadata?: JsonValue;
}

export interface SkippedEntry {
  readonly id: string;
  readonly reason: string;
  /** `ignored`: not a reference set (another driver), nothing wrong; `failed`: meant to be one and unusable. */
  readonly kind: 'ignored' | 'failed';
}

export interface IntakeLimits {
  readonly maxDepth: number;
  readonly maxCatalogs: number;
  readonly maxEntries: number;
  readonly read: ReadLimits;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = { maxDepth: 8, maxCatalogs: 1000, maxEntries: 100_000, read: DEFAULT_READ_LIMITS };

export class IntakeCatalogError extends Error {
  override readonly name = 'IntakeCatalogError';
}

const ZARR_DRIVERS = new Set(['zarr', 'intake_xarray.xzarr.ZarrSource', 'intake_xarray.ZarrSource']);
const CATALOG_DRIVERS = new Set(['intake.catalog.local.YAMLFileCatalog', 'yaml_file_cat']);
const NOT_REFERENCES = 'a Zarr store, not a kerchunk reference set';
const CATALOG_DIR = /\{\{\s*CATALOG_DIR\s*\}\}/g;

/** Reads the catalog at `location`; a top catalog that cannot be read or parsed is an IntakeCatalogError. */
export async function readIntakeCatalog(location: string, limits: IntakeLimits = DEFAULT_INTAKE_LIMITS): Promise<{ datasets: IntakeDataset[]; skipped: SkippedEntry[] }> {
  const top = isHttpUrl(location) ? location : location.startsWith('file://') ? fileURLToPath(location) : resolve(location);
  const state: State = { datasets: [], skipped: [], ids: new Set(), catalogs: 0, entries: 0, limits };
  const sources = await readSources(top, state);
  if (typeof sources === 'string') throw new IntakeCatalogError(sources);
  await walk(top, sources, '', [top], state);
  return { datasets: state.datasets, skipped: state.skipped };
}

interface State {
  readonly datasets: IntakeDataset[];
  readonly skipped: SkippedEntry[];
  readonly ids: Set<string>;
  catalogs: number;
  entries: number;
  readonly limits: IntakeLimits;
}

type Sources = ReadonlyMap<unknown, unknown>;

async function readSources(location: string, state: State): Promise<Sources | string> {
  if (++state.catalogs > state.limits.maxCatalogs) return `${location}: more than ${state.limits.maxCatalogs} catalogs: not read`;
  let text: string;
  try {
    text = await readLocation(location, state.limits.read);
  } catch (error) {
    if (error instanceof LocationError) return `cannot read the intake catalog ${error.message}`;
    throw error;
  }
  let document: unknown;
  try {
    document = parseYaml(text, { mapAsMap: true, maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    return `${location} is not a usable YAML document: ${firstLine((error as Error).message)}`;
  }
  if (document === null || document === undefined) return new Map();
  if (!(document instanceof Map)) return `${location} is not an intake catalog (a mapping with "sources")`;
  const sources = document.get('sources');
  if (sources === undefined || sources === null) return new Map();
  if (!(sources instanceof Map)) return `${location}: "sources" must be a mapping of name → entry`;
  return sources;
}

async function walk(location: string, sources: Sources, prefix: string, chain: readonly string[], state: State): Promise<void> {
  for (const [key, entry] of sources) {
    const name = typeof key === 'string' || typeof key === 'number' ? String(key) : JSON.stringify(key);
    const id = `${prefix}${name}`;
    if (++state.entries > state.limits.maxEntries) {
      state.skipped.push({ id, reason: `more than ${state.limits.maxEntries} entries: this one and the rest are not read`, kind: 'failed' });
      return;
    }
    if (!(entry instanceof Map)) {
      state.skipped.push({ id, reason: 'not a mapping with "driver"', kind: 'failed' });
      continue;
    }
    const driver = entry.get('driver');
    const args = entry.get('args') instanceof Map ? (entry.get('args') as Map<unknown, unknown>) : undefined;
    if (typeof driver === 'string' && CATALOG_DRIVERS.has(driver)) {
      await nested(location, id, args, chain, state);
      continue;
    }
    if (typeof driver !== 'string' || !ZARR_DRIVERS.has(driver)) {
      state.skipped.push({
        id,
        reason: `driver ${JSON.stringify(typeof driver === 'string' ? driver.slice(0, 100) : (driver ?? null))} is not a kerchunk-referenced Zarr source (zarr) nor a nested catalog (yaml_file_cat)`,
        kind: 'ignored',
      });
      continue;
    }
    const dataset = zarrEntry(location, id, entry, args);
    if (typeof dataset === 'string') {
      state.skipped.push({ id, reason: dataset, kind: dataset.startsWith(NOT_REFERENCES) ? 'ignored' : 'failed' });
      continue;
    }
    if (state.ids.has(id)) {
      state.skipped.push({ id, reason: 'declared twice: the first one is registered', kind: 'failed' });
      continue;
    }
    state.ids.add(id);
    state.datasets.push(dataset);
  }
}

async function nested(location: string, id: string, args: Map<unknown, unknown> | undefined, chain: readonly string[], state: State): Promise<void> {
  const path = args?.get('path');
  if (typeof path !== 'string' || path.length === 0) {
    state.skipped.push({ id, reason: 'a nested catalog needs "args: {path: …}"', kind: 'failed' });
    return;
  }
  const target = resolveTarget(path, location);
  if (typeof target === 'string' && target.startsWith('!')) {
    state.skipped.push({ id, reason: target.slice(1), kind: 'failed' });
    return;
  }
  if (chain.length > state.limits.maxDepth) {
    state.skipped.push({ id, reason: `catalogs nested deeper than ${state.limits.maxDepth}: not read`, kind: 'failed' });
    return;
  }
  if (chain.includes(target)) {
    state.skipped.push({ id, reason: `the nested catalog ${target} includes itself (a cycle): not read again`, kind: 'failed' });
    return;
  }
  const sources = await readSources(target, state);
  if (typeof sources === 'string') {
    state.skipped.push({ id, reason: sources, kind: 'failed' });
    return;
  }
  await walk(target, sources, `${id}.`, [...chain, target], state);
}

function zarrEntry(location: string, id: string, entry: Map<unknown, unknown>, args: Map<unknown, unknown> | undefined): IntakeDataset | string {
  const idProblem = datasetIdProblem(id);
  if (idProblem) return idProblem;
  const urlpath = args?.get('urlpath') ?? entry.get('urlpath');
  const options = args?.get('storage_options') ?? entry.get('storage_options');
  if (urlpath !== 'reference://')
    return `${NOT_REFERENCES}: urlpath ${JSON.stringify(typeof urlpath === 'string' ? urlpath.slice(0, 200) : (urlpath ?? null))} is not "reference://"`;
  const fo = options instanceof Map ? options.get('fo') : undefined;
  if (typeof fo !== 'string' || fo.length === 0) return 'needs "storage_options: {fo: …}" naming its reference table';
  const table = resolveTarget(fo, location);
  if (table.startsWith('!')) return table.slice(1);
  const metadata = entry.get('metadata');
  const description = entry.get('description');
  const title = metadata instanceof Map ? metadata.get('title') : undefined;
  return {
    id,
    table,
    ...(typeof title === 'string' && title.length > 0 ? { title } : {}),
    ...(typeof description === 'string' && description.length > 0 ? { description } : {}),
    ...(metadata instanceof Map && metadata.size > 0 ? { metadata: toJson(metadata, 0) } : {}),
  };
}

/** A path or URL written in the catalog at `location`, resolved; '!' + why when it cannot be used. */
function resolveTarget(written: string, location: string): string {
  const remote = isHttpUrl(location);
  const base = remote ? location.slice(0, location.lastIndexOf('/')) : dirname(location);
  const expanded = written.replace(CATALOG_DIR, base);
  if (/\{\{|\{%/.test(expanded)) return `!${JSON.stringify(written.slice(0, 200))} uses an intake template other than {{ CATALOG_DIR }}, which strato does not expand`;
  if (isHttpUrl(expanded)) return new URL(expanded).href;
  if (expanded.startsWith('file://')) return remote ? `!a remote catalog cannot name local files (${expanded.slice(0, 200)})` : fileURLToPath(expanded);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(expanded) || /^[a-z][a-z0-9+.-]*::/i.test(expanded))
    return `!${JSON.stringify(expanded.slice(0, 200))}: only local paths and http(s) URLs are read`;
  if (remote) return isAbsolute(expanded) ? `!a remote catalog cannot name local files (${expanded.slice(0, 200)})` : new URL(expanded, location).href;
  return resolve(dirname(location), expanded);
}

/** A YAML value (Maps from `mapAsMap`) as JSON; names into null-prototype objects as own keys. */
function toJson(value: unknown, depth: number): JsonValue {
  if (depth > 32) return null;
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => toJson(item, depth + 1));
  if (value instanceof Map) {
    const object = Object.create(null) as Record<string, JsonValue>;
    for (const [key, item] of value) Object.defineProperty(object, String(key), { value: toJson(item, depth + 1), enumerable: true, writable: true, configurable: true });
    return object;
  }
  if (value instanceof Set) return [...value].map((item) => toJson(item, depth + 1));
  return String(value);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
