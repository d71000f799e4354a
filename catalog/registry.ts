import { access } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { ReadBudget } from '../kerchunk/sources/read-budget.js';
import type { SourceReadObserver } from '../kerchunk/sources/source-observer.js';
import { Sources } from '../kerchunk/sources/sources.js';
import type { Catalog, CatalogProblem, DatasetEntry, SourcesSettings } from './catalog-file.js';
import { ReloadQueue } from './catalog-reload.js';
import { type Dataset, DatasetError, type OpenDatasetOptions, openDataset, tableVersion } from './dataset.js';

export interface RegistryLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
}

export interface RegistryOptions extends OpenDatasetOptions {
  readonly logger?: RegistryLogger;
  /** Settings of outbound http reads (timeouts, retries, connections). */
  readonly http?: { timeoutMs?: number; retries?: number; connections?: number };
  /** Told about every source read (metrics). */
  readonly sourceObserver?: SourceReadObserver;
  /** Bound on source bytes in flight, shared by the sources of every catalog version (default: the process-wide one). */
  readonly readBudget?: ReadBudget;
  /**
   * A check of an entry beyond the catalog file's own (e.g. its `processing` block against the
   * loaded stages): a message leaves the entry out as `entry-invalid`.
   */
  readonly checkEntry?: (entry: DatasetEntry) => string | undefined;
  /**
   * Serve datasets protected by `access:`. Only a server that checks access on every face and
   * every listing sets it; without it (the default: the static STAC tree, tools, a server not
   * yet wired) a protected dataset is left out as `entry-invalid`, never served to anyone.
   */
  readonly servesProtected?: boolean;
  /**
   * Opens the derived entries (`derive:`) once the others are open (derive/open-derived.ts);
   * without it they are left out as `entry-invalid`. Derived datasets are reopened on every apply.
   */
  readonly openDerived?: (entries: readonly DatasetEntry[], opened: ReadonlyMap<string, Dataset>, sources: Sources) => Promise<{ datasets: Dataset[]; problems: CatalogProblem[] }>;
}

/**
 * Why an entry is left out, in a word that is safe to show anyone (`/health`): no paths, no file
 * contents, no allow list. The full message goes to the log (and to `/health` with the admin token).
 * - `entry-invalid`: the catalog entry itself (bad id, no `refs`, a field of the wrong type);
 * - `references-unreadable`: the reference table cannot be read (missing, no permission);
 * - `references-invalid`: it was read but is not a usable kerchunk table (JSON, metadata, gen);
 * - `source-forbidden`: a reference points outside `sources.allow`;
 * - `open-failed`: anything else.
 */
export type ProblemReason = 'entry-invalid' | 'references-unreadable' | 'references-invalid' | 'source-forbidden' | 'open-failed';

/** A left-out entry: the id, the reason class, and the full message (log and admin only). */
export interface DatasetProblem extends CatalogProblem {
  readonly reason: ProblemReason;
}

/**
 * The datasets being served, opened from a catalog. A dataset whose references are broken or
 * point outside `sources.allow` is reported (log line, `problems`) and left out; the rest are
 * served. `apply` swaps in a new version of the catalog, reopening only what changed.
 */
export class DatasetRegistry {
  private datasets = new Map<string, Dataset>();
  private problemList: DatasetProblem[] = [];
  /** Reloads of this registry's catalog file, one at a time (`reloadCatalog`, catalog-reload.ts). */
  readonly reloads = new ReloadQueue();

  private constructor(
    private catalog: Catalog,
    private sourcesInUse: Sources,
    private readonly options: RegistryOptions,
  ) {}

  static async open(catalog: Catalog, options: RegistryOptions = {}): Promise<DatasetRegistry> {
    const registry = new DatasetRegistry(catalog, await createSources(catalog, options), options);
    const problems = catalog.problems.map(entryProblem);
    registry.datasets = await registry.collect(catalog.datasets, new Map(), problems);
    registry.problemList = problems;
    registry.report(catalog.problems);
    return registry;
  }

  get sources(): Sources {
    return this.sourcesInUse;
  }

  get current(): Catalog {
    return this.catalog;
  }

  get(id: string): Dataset | undefined {
    return this.datasets.get(id);
  }

  ids(): string[] {
    return [...this.datasets.keys()];
  }

  all(): Dataset[] {
    return [...this.datasets.values()];
  }

  problems(): readonly DatasetProblem[] {
    return this.problemList;
  }

  /** Serves a new version of the catalog; unchanged datasets keep their opened references. */
  async apply(catalog: Catalog): Promise<void> {
    const sourcesChanged = !sameSources(this.catalog.sources, catalog.sources) || this.catalog.dir !== catalog.dir;
    const previous = this.datasets;
    const previousSources = this.sourcesInUse;
    if (sourcesChanged) this.sourcesInUse = await createSources(catalog, this.options);
    const reusable = new Map<string, Dataset>();
    if (!sourcesChanged) {
      for (const entry of catalog.datasets) {
        const old = previous.get(entry.id);
        // a table rewritten in place (a watched directory, `strato ingest --replace`) is reopened
        if (old && isDeepStrictEqual(old.entry, entry) && old.tableVersion === (await tableVersion(entry.refsLocation))) reusable.set(entry.id, old);
      }
    }
    // the new datasets and their problems are swapped in together, once all are opened
    const problems = catalog.problems.map(entryProblem);
    const datasets = await this.collect(catalog.datasets, reusable, problems);
    this.catalog = catalog;
    this.datasets = datasets;
    this.problemList = problems;
    this.report(catalog.problems);
    for (const [id, dataset] of previous) {
      if (this.datasets.get(id) !== dataset) await dataset.references.close();
    }
    if (sourcesChanged) await previousSources.close();
  }

  async close(): Promise<void> {
    for (const dataset of this.datasets.values()) await dataset.references.close();
    this.datasets.clear();
    await this.sourcesInUse.close();
  }

  /** Opens the entries (reusing what it can); what cannot be opened is appended to `problems`. */
  private async collect(all: readonly DatasetEntry[], reusable: ReadonlyMap<string, Dataset>, problems: DatasetProblem[]): Promise<Map<string, Dataset>> {
    const entries = all.filter((entry) => !entry.derive);
    const opened = await Promise.all(
      entries.map(async (entry): Promise<Dataset | undefined> => {
        const reused = reusable.get(entry.id);
        if (reused) return reused;
        const invalid = entry.access && !this.options.servesProtected ? 'protected by "access", which this server does not enforce: not served' : this.options.checkEntry?.(entry);
        if (invalid !== undefined) {
          const message = `dataset "${entry.id}": ${invalid}`;
          problems.push({ id: entry.id, reason: 'entry-invalid', message });
          this.options.logger?.warn('dataset left out', { dataset: entry.id, reasonClass: 'entry-invalid', reason: message });
          return undefined;
        }
        try {
          return await openDataset(entry, this.sourcesInUse, this.options);
        } catch (error) {
          const message = error instanceof DatasetError ? error.message : `dataset "${entry.id}": ${(error as Error).message}`;
          const reason = await problemReason(error, entry);
          problems.push({ id: entry.id, reason, message });
          this.options.logger?.warn('dataset left out', { dataset: entry.id, reasonClass: reason, reason: message });
          return undefined;
        }
      }),
    );
    const datasets = new Map(opened.filter((d): d is Dataset => d !== undefined).map((d) => [d.id, d]));
    const derived: DatasetEntry[] = [];
    for (const entry of all) {
      if (!entry.derive) continue;
      const invalid = entry.access && !this.options.servesProtected ? 'protected by "access", which this server does not enforce: not served' : this.options.checkEntry?.(entry);
      if (invalid === undefined) derived.push(entry);
      else problems.push({ id: entry.id, reason: 'entry-invalid', message: `dataset "${entry.id}": ${invalid}` });
    }
    if (derived.length === 0) return datasets;
    const result = this.options.openDerived
      ? await this.options.openDerived(derived, datasets, this.sourcesInUse)
      : { datasets: [], problems: derived.map((entry) => ({ id: entry.id, message: `dataset "${entry.id}": derived datasets are not served here` })) };
    for (const dataset of result.datasets) datasets.set(dataset.id, dataset);
    for (const problem of result.problems) {
      problems.push({ ...problem, reason: 'entry-invalid' });
      this.options.logger?.warn('dataset left out', { dataset: problem.id, reasonClass: 'entry-invalid', reason: problem.message });
    }
    return datasets;
  }

  private report(problems: readonly CatalogProblem[]): void {
    if (this.catalog.authProblem !== undefined)
      this.options.logger?.warn('catalog "auth" unusable: protected datasets are not served', { reasonClass: 'entry-invalid', reason: this.catalog.authProblem });
    for (const problem of problems) this.options.logger?.warn('catalog entry left out', { dataset: problem.id, reasonClass: 'entry-invalid', reason: problem.message });
  }
}

function entryProblem(problem: CatalogProblem): DatasetProblem {
  return { id: problem.id, reason: 'entry-invalid', message: problem.message };
}

/** The reason class of a failure to open `entry` (see ProblemReason). */
export async function problemReason(error: unknown, entry: DatasetEntry): Promise<ProblemReason> {
  if (!(error instanceof DatasetError)) return 'open-failed';
  try {
    await access(entry.refsLocation);
  } catch {
    return 'references-unreadable';
  }
  // the allow list's refusals: `reference "<url>" is not allowed: <why>; allowed sources: <roots>`
  if (/^dataset "[^"]*": reference ".*" is not allowed: .*; allowed sources: /s.test(error.message)) return 'source-forbidden';
  if (/^dataset "[^"]*": cannot read reference file /.test(error.message)) return 'references-unreadable';
  return 'references-invalid';
}

async function createSources(catalog: Catalog, options: RegistryOptions): Promise<Sources> {
  return Sources.create({
    allow: catalog.sources.allow,
    baseDir: catalog.dir,
    ...(catalog.sources.s3Endpoint ? { s3Endpoint: catalog.sources.s3Endpoint } : {}),
    ...((options.http ?? catalog.sources.http) ? { http: options.http ?? catalog.sources.http } : {}),
    ...(options.sourceObserver ? { observer: options.sourceObserver } : {}),
    ...(options.readBudget ? { readBudget: options.readBudget } : {}),
  });
}

function sameSources(a: SourcesSettings, b: SourcesSettings): boolean {
  return isDeepStrictEqual(a, b);
}
