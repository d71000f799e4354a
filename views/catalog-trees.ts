import type { Dataset } from '../catalog/dataset.js';
import { CatalogTree, type CatalogTreeOptions, type TreeEntry, treeEntryOf } from './catalog-tree.js';
import { CatalogTreeStore, type CatalogTreeStoreOptions, type GroupFragment, type TreeFace } from './catalog-tree-store.js';
import type { VisibleDatasets } from './visible-datasets.js';

export interface CatalogTreesOptions extends CatalogTreeOptions, CatalogTreeStoreOptions {}

/**
 * The catalog trees of an app: one index per catalog version and visibility filter (built on
 * the first request that needs it, from per-dataset summaries kept per opened dataset, so a new
 * version costs one pass over the ids), and one store per tree and face. Old versions go with
 * their catalog object (WeakMaps).
 */
export class CatalogTrees {
  private readonly trees = new WeakMap<object, Map<string, CatalogTree>>();
  private readonly stores = new WeakMap<CatalogTree, Map<string, CatalogTreeStore>>();
  private readonly entries = new WeakMap<Dataset, TreeEntry>();
  /** The newest tree of each filter and the datasets it was made of. */
  private readonly latest = new Map<string, { readonly datasets: readonly Dataset[]; readonly tree: CatalogTree }>();
  /** Per face: datasets' group fragments in large listings, kept across versions (a new version re-makes only new datasets'). */
  private readonly fragments = new Map<string, WeakMap<Dataset, GroupFragment>>();

  constructor(private readonly options: CatalogTreesOptions = {}) {}

  /** The tree of the datasets visible now. */
  tree(visible: VisibleDatasets): CatalogTree {
    let byFilter = this.trees.get(visible.version);
    if (!byFilter) {
      byFilter = new Map();
      this.trees.set(visible.version, byFilter);
    }
    let tree = byFilter.get(visible.filter);
    if (!tree) {
      const datasets = visible.all();
      // a reload that changed nothing visible (the watcher's, after every write) keeps the tree and its documents
      const last = this.latest.get(visible.filter);
      tree =
        last && sameDatasets(last.datasets, datasets)
          ? last.tree
          : new CatalogTree(
              datasets.map((dataset) => this.entryOf(dataset)),
              this.options,
            );
      this.latest.set(visible.filter, { datasets, tree });
      byFilter.set(visible.filter, tree);
    }
    return tree;
  }

  /** The store of the visible tree for one face. */
  store(visible: VisibleDatasets, face: TreeFace): CatalogTreeStore {
    const tree = this.tree(visible);
    let byFace = this.stores.get(tree);
    if (!byFace) {
      byFace = new Map();
      this.stores.set(tree, byFace);
    }
    let store = byFace.get(face.name);
    if (!store) {
      let fragments = this.fragments.get(face.name);
      if (!fragments) {
        fragments = new WeakMap();
        this.fragments.set(face.name, fragments);
      }
      store = new CatalogTreeStore(tree, (id) => visible.get(id), face, referenceAttributes, this.options, fragments);
      byFace.set(face.name, store);
    }
    return store;
  }

  private entryOf(dataset: Dataset): TreeEntry {
    let entry = this.entries.get(dataset);
    if (!entry) {
      entry = treeEntryOf(dataset.id, dataset.references.metadataText);
      this.entries.set(dataset, entry);
    }
    return entry;
  }
}

/** The same opened datasets in the same order. */
function sameDatasets(a: readonly Dataset[], b: readonly Dataset[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A dataset group's attributes in listings of large subtrees: the root `.zattrs` of its
 * references, read without making the views of thousands of datasets. The raw view serves
 * exactly these; the processed view's own `.zattrs` adds its processing note to `history`
 * (making 10,000 processed views for one listing took 3.2 s of a cold root).
 */
function referenceAttributes(dataset: Dataset): string {
  return dataset.references.metadataText.get('.zattrs') ?? '{}';
}
