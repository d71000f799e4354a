import type { Dataset } from '../catalog/dataset.js';
import type { DatasetRegistry } from '../catalog/registry.js';

/** What a listing of the whole catalog may show one caller. */
export interface VisibleDatasets {
  /** The catalog version: a new object whenever the registry serves a new catalog. */
  readonly version: object;
  /**
   * Which filter chose the datasets ('' = none: every dataset). Anything derived from the
   * visible set (the catalog tree) is kept per version and filter.
   */
  readonly filter: string;
  all(): readonly Dataset[];
  get(id: string): Dataset | undefined;
}

/** The datasets of a listing one caller may read, and a key naming that choice (server/access-control.ts `visible`). */
export type ChooseVisible = (datasets: readonly Dataset[]) => Promise<{ readonly items: readonly Dataset[]; readonly filter: string }>;

/**
 * The datasets a request may see in catalog-wide listings (the catalog tree): the one place
 * where the tree's datasets are filtered per caller. Protected datasets are there only for
 * callers allowed to read them (`choose`), and `filter` names the choice.
 */
export async function visibleDatasets(registry: DatasetRegistry, choose: ChooseVisible): Promise<VisibleDatasets> {
  const version = registry.current;
  const all = registry.all();
  const chosen = await choose(all);
  if (chosen.filter === '') return { version, filter: '', all: () => all, get: (id) => registry.get(id) };
  const byId = new Map(chosen.items.map((dataset) => [dataset.id, dataset]));
  return { version, filter: chosen.filter, all: () => chosen.items, get: (id) => byId.get(id) };
}
