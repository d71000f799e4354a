import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type Document, isMap, isScalar, parseDocument, YAMLMap } from 'yaml';
import type { JsonValue } from '../kerchunk/reference.js';
import { removeLeftoverTemporaries, writeFileAtomic } from './atomic-write.js';
import { type Catalog, CatalogError, DATASET_KEYS, datasetIdProblem, parseCatalog } from './catalog-file.js';
import { FileLockError, type FileLockOptions, withFileLock } from './file-lock.js';

/**
 * Edits of the catalog file that never lose another writer's datasets and never leave a torn file.
 *
 * `updateCatalog` takes the catalog's lock (`<catalog>.lock`, see file-lock.ts), re-reads the
 * file inside it, lets `mutate` edit the YAML document (yaml's Document API: comments, key order
 * and flow/block styles are kept; folded text is re-folded at the width of the file's longest
 * line), checks that the result is still a usable catalog, and replaces the file atomically
 * (temp file + fsync + rename + fsync of the directory; see atomic-write.ts). When the text does
 * not change, nothing is written. Any error (lock timeout, unparsable catalog, a throwing
 * `mutate`) leaves the file byte for byte as it was.
 */
export { FileLockError } from './file-lock.js';

export interface CatalogStoreOptions extends FileLockOptions {
  /** Start from an empty catalog when the file does not exist (default: CatalogError). */
  readonly createIfMissing?: boolean;
}

export interface CatalogUpdate {
  /** Whether the file was rewritten. */
  readonly changed: boolean;
  /** The catalog as it is on disk now. */
  readonly catalog: Catalog;
}

/** Mutates the document in place (returning nothing) or returns a replacement document. */
export type CatalogMutation = (document: Document) => Document | void | Promise<Document | void>;

export async function updateCatalog(file: string, mutate: CatalogMutation, options: CatalogStoreOptions = {}): Promise<CatalogUpdate> {
  const path = resolve(file);
  return withFileLock(
    `${path}.lock`,
    async (lock) => {
      await removeLeftoverTemporaries(path); // of writers killed mid-write; we hold the lock
      const { text, mode } = await readCurrent(path, options.createIfMissing ?? false);
      const document = parseDocument(text);
      if (document.errors.length > 0) {
        throw new CatalogError(`catalog ${path} is not valid YAML, refusing to rewrite it: ${document.errors[0]?.message ?? ''}`);
      }
      parseCatalog(text, path); // the catalog as it is must be usable before we touch it
      const edited = (await mutate(document)) ?? document;
      const next = serialise(edited, text);
      const catalog = parseCatalog(next, path); // and so must the result
      if (next === text) return { changed: false, catalog };
      await writeFileAtomic(path, next, {
        ...(mode !== undefined ? { mode } : {}),
        beforeRename: async () => {
          if (!(await lock.stillHeld())) throw new FileLockError(`lost the lock ${lock.path} while writing (taken over as stale); nothing written`);
        },
      });
      return { changed: true, catalog };
    },
    options,
  );
}

/** A dataset as the admin API and `strato ingest` register it (refs relative to the catalog's directory). */
export interface DatasetRecord {
  readonly id: string;
  readonly refs: string;
  readonly title?: string;
  readonly description?: string;
  readonly license?: string;
  readonly processing?: JsonValue;
  readonly stac?: JsonValue;
  /** Metadata carried over from where the dataset was found (an intake entry's `metadata`). */
  readonly metadata?: JsonValue;
  /** How the reference table came to be (tool, strato version, parameters): the ingest activity of the dataset's provenance. */
  readonly ingest?: JsonValue;
}

/** Field order of entries written into the catalog. */
const ENTRY_FIELDS = ['refs', 'title', 'description', 'license', 'processing', 'stac', 'metadata', 'ingest'] as const;

/** `addDataset` without `replace` found the id already registered. */
export class DatasetExistsError extends Error {
  override readonly name = 'DatasetExistsError';
  constructor(readonly id: string) {
    super(`dataset "${id}" is already in the catalog`);
  }
}

export interface AddDatasetOptions extends CatalogStoreOptions {
  /** Replace an existing entry of the same id (default: DatasetExistsError). */
  readonly replace?: boolean;
}

export interface AddDatasetResult extends CatalogUpdate {
  /** False when an existing entry was replaced. */
  readonly created: boolean;
}

/**
 * Adds (or with `replace`, replaces) a dataset entry. A replaced entry is edited in place: fields
 * that keep their value keep their comments; fields the record does not have are removed, except
 * `access`, which records cannot set: re-registering a protected dataset never publishes it (fail
 * closed; access is changed by editing the catalog). An entry with keys strato does not know (a
 * misspelt `acess:`) is not replaced at all (CatalogError).
 */
export async function addDataset(file: string, record: DatasetRecord, options: AddDatasetOptions = {}): Promise<AddDatasetResult> {
  const idProblem = datasetIdProblem(record.id);
  if (idProblem) throw new CatalogError(idProblem);
  if (typeof record.refs !== 'string' || record.refs.length === 0) throw new CatalogError(`dataset "${record.id}" needs "refs"`);
  let created = true;
  const update = await updateCatalog(
    file,
    (document) => {
      const datasets = datasetsMap(document);
      const existing: unknown = datasets.get(record.id, true);
      if (existing !== undefined) {
        if (!options.replace) throw new DatasetExistsError(record.id);
        created = false;
      }
      putEntry(document, datasets, record, existing);
    },
    options,
  );
  return { ...update, created };
}

/**
 * Writes `record` into `datasets` (an existing entry is edited in place: fields that keep their
 * value keep their comments; fields the record does not have are removed, except `access`). An
 * existing entry with keys strato does not know is refused (CatalogError).
 */
function putEntry(document: Document, datasets: YAMLMap, record: DatasetRecord, existing: unknown, managed?: ReadonlySet<string>): void {
  const fields = entryFields(record);
  if (isMap(existing)) {
    const unknown = existing.items.map((item) => (isScalar(item.key) ? item.key.value : item.key)).filter((key) => typeof key !== 'string' || !DATASET_KEYS.has(key));
    if (unknown.length > 0) {
      // a misspelt `acess:` is someone's intent to protect the dataset: never drop it silently
      throw new CatalogError(
        `dataset "${record.id}" has keys strato does not know in the catalog (${unknown.map((key) => JSON.stringify(String(key).slice(0, 64))).join(', ')}): fix the entry by hand before replacing it`,
      );
    }
    for (const item of [...existing.items]) {
      const key = isScalar(item.key) ? item.key.value : item.key;
      if (key === 'access' || (managed && typeof key === 'string' && !managed.has(key))) continue;
      if (typeof key !== 'string' || !(key in fields)) existing.delete(item.key);
    }
    for (const [key, value] of Object.entries(fields)) {
      const current: unknown = existing.get(key, true);
      const same = current !== undefined && isDeepStrictEqual(toJson(current), value);
      if (!same) existing.set(key, document.createNode(value));
    }
  } else {
    datasets.set(record.id, document.createNode(fields));
  }
}

/** The fields `applyDatasets` owns in an entry: what a reference set or an intake entry says. */
const INGESTED_FIELDS: ReadonlySet<string> = new Set(['refs', 'title', 'description', 'metadata', 'ingest']);

/** What `applyDatasets` does with each id. */
export interface DatasetChanges {
  readonly added: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
  readonly removed: readonly string[];
  /** Entries that could not be written (an existing entry with keys strato does not know), and why. */
  readonly refused: ReadonlyArray<{ readonly id: string; readonly reason: string }>;
}

/**
 * Puts several datasets and removes others in one write of the catalog (one lock, one atomic
 * rename; nothing written when nothing changes). A put whose entry already holds exactly the
 * record's fields is `unchanged`; only `refs`, `title`, `description` and `metadata` of an existing
 * entry are written (its `processing`, `stac`, `access`, ... are the operator's and kept); an
 * existing entry with unknown keys is left as it is and reported in `refused`.
 */
export async function applyDatasets(
  file: string,
  put: readonly DatasetRecord[],
  remove: readonly string[],
  options: CatalogStoreOptions = {},
): Promise<DatasetChanges & CatalogUpdate> {
  for (const record of put) {
    const idProblem = datasetIdProblem(record.id);
    if (idProblem) throw new CatalogError(idProblem);
    if (typeof record.refs !== 'string' || record.refs.length === 0) throw new CatalogError(`dataset "${record.id}" needs "refs"`);
  }
  let changes: DatasetChanges = { added: [], updated: [], unchanged: [], removed: [], refused: [] };
  const update = await updateCatalog(
    file,
    (document) => {
      // re-run from scratch if the lock had to be retried: the lists describe the last mutation
      const added: string[] = [];
      const updated: string[] = [];
      const unchanged: string[] = [];
      const removed: string[] = [];
      const refused: Array<{ id: string; reason: string }> = [];
      const datasets = datasetsMap(document);
      for (const record of put) {
        const existing: unknown = datasets.get(record.id, true);
        const before = existing === undefined ? undefined : JSON.stringify(toJson(existing));
        try {
          putEntry(document, datasets, record, existing, INGESTED_FIELDS);
        } catch (error) {
          if (!(error instanceof CatalogError)) throw error;
          refused.push({ id: record.id, reason: error.message });
          continue;
        }
        if (before === undefined) added.push(record.id);
        else if (before === JSON.stringify(toJson(datasets.get(record.id, true)))) unchanged.push(record.id);
        else updated.push(record.id);
      }
      for (const id of remove) if (datasets.delete(id)) removed.push(id);
      changes = { added, updated, unchanged, removed, refused };
    },
    options,
  );
  return { ...update, ...changes };
}

/** Removes a dataset entry; false (and nothing written) when there is none. */
export async function removeDataset(file: string, id: string, options: CatalogStoreOptions = {}): Promise<boolean> {
  let found = false;
  await updateCatalog(
    file,
    (document) => {
      const datasets = document.get('datasets', true);
      if (!isMap(datasets)) return;
      found = datasets.delete(id);
    },
    options,
  );
  return found;
}

/** The catalog's `datasets` mapping, created when missing or empty. */
function datasetsMap(document: Document): YAMLMap {
  if (document.contents === null || (isScalar(document.contents) && document.contents.value === null)) {
    document.contents = new YAMLMap();
  }
  const current: unknown = document.get('datasets', true);
  if (isMap(current)) return current;
  if (current === undefined || (isScalar(current) && current.value === null)) {
    const created = new YAMLMap();
    document.set('datasets', created);
    return created;
  }
  throw new CatalogError('the catalog\'s "datasets" is not a mapping');
}

function entryFields(record: DatasetRecord): Record<string, JsonValue> {
  const fields: Record<string, JsonValue> = {};
  for (const field of ENTRY_FIELDS) {
    const value = record[field];
    if (value !== undefined) fields[field] = value;
  }
  return fields;
}

function toJson(node: unknown): unknown {
  return typeof (node as { toJSON?: unknown }).toJSON === 'function' ? (node as { toJSON(): unknown }).toJSON() : node;
}

/** The document as text, styled like the file it came from. */
function serialise(document: Document, original: string): string {
  const longest = original.split('\n').reduce((max, line) => Math.max(max, line.length), 0);
  return document.toString({ flowCollectionPadding: false, lineWidth: Math.max(80, longest) });
}

async function readCurrent(path: string, createIfMissing: boolean): Promise<{ text: string; mode: number | undefined }> {
  try {
    const [text, stats] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, mode: stats.mode & 0o777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && createIfMissing) return { text: '', mode: undefined };
    throw new CatalogError(`cannot read catalog ${path}: ${(error as Error).message}`);
  }
}
