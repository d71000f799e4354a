import { isDeepStrictEqual } from 'node:util';
import type { SourceReadObserver } from '../kerchunk/sources/source-observer.js';
import { Sources } from '../kerchunk/sources/sources.js';
import type { Catalog, CatalogProblem, DatasetEntry, SourcesSettings } from './catalog-file.js';
import { DatasetError, openDataset, type Dataset, type OpenDatasetOptions } from './dataset.js';

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
}

/**
 * The datasets being served, opened from a catalog. A dataset whose references are broken or
 * point outside `sources.allow` is reported (log line, `problems`) and left out; the rest are
 * served. `apply` swaps in a new version of the catalog, reopening only what changed.
 */
export class DatasetRegistry {
  private datasets = new Map<string, Dataset>();
  private problemList: CatalogProblem[] = [];

  private constructor(
    private catalog: Catalog,
    private sourcesInUse: Sources,
    private readonly options: RegistryOptions,
  ) {}

  static async open(catalog: Catalog, options: RegistryOptions = {}): Promise<DatasetRegistry> {
    const registry = new DatasetRegistry(catalog, await createSources(catalog, options), options);
    const problems = [...catalog.problems];
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

  problems(): readonly CatalogProblem[] {
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
        if (old && isDeepStrictEqual(old.entry, entry)) reusable.set(entry.id, old);
      }
    }
    // the new datasets and their problems are swapped in together, once all are opened
    const problems = [...catalog.problems];
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
  private async collect(entries: readonly DatasetEntry[], reusable: ReadonlyMap<string, Dataset>, problems: CatalogProblem[]): Promise<Map<string, Dataset>> {
    const opened = await Promise.all(
      entries.map(async (entry): Promise<Dataset | undefined> => {
        const reused = reusable.get(entry.id);
        if (reused) return reused;
        try {
          return await openDataset(entry, this.sourcesInUse, this.options);
        } catch (error) {
          const message = error instanceof DatasetError ? error.message : `dataset "${entry.id}": ${(error as Error).message}`;
          problems.push({ id: entry.id, message });
          this.options.logger?.warn('dataset left out', { dataset: entry.id, reason: message });
          return undefined;
        }
      }),
    );
    return new Map(opened.filter((d): d is Dataset => d !== undefined).map((d) => [d.id, d]));
  }

  private report(problems: readonly CatalogProblem[]): void {
    for (const problem of problems) this.options.logger?.warn('catalog entry left out', { dataset: problem.id, reason: problem.message });
  }
}

async function createSources(catalog: Catalog, options: RegistryOptions): Promise<Sources> {
  return Sources.create({
    allow: catalog.sources.allow,
    baseDir: catalog.dir,
    ...(catalog.sources.s3Endpoint ? { s3Endpoint: catalog.sources.s3Endpoint } : {}),
    ...(options.http ?? catalog.sources.http ? { http: options.http ?? catalog.sources.http } : {}),
    ...(options.sourceObserver ? { observer: options.sourceObserver } : {}),
  });
}

function sameSources(a: SourcesSettings, b: SourcesSettings): boolean {
  return isDeepStrictEqual(a, b);
}
