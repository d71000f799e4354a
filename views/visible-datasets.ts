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

/** The part of a request a filter may look at (hono's `c.req` is one). */
export interface RequestHeaders {
  header(name: string): string | undefined;
}

/**
 * The datasets a request may see in catalog-wide listings (the catalog tree): the one place
 * where datasets are filtered per caller. Today every served dataset is visible; protected
 * datasets will be filtered here, naming their filter in `filter`.
 */
export function visibleDatasets(registry: DatasetRegistry, _request: RequestHeaders): VisibleDatasets {
  return {
    version: registry.current,
    filter: '',
    all: () => registry.all(),
    get: (id) => registry.get(id),
  };
}
