import { describe, expect, it } from 'vitest';
import type { Dataset } from '../catalog/dataset.js';
import { CatalogTrees } from './catalog-trees.js';
import type { VisibleDatasets } from './visible-datasets.js';

/** A dataset as far as the tree index reads it: its id and its metadata documents. */
const dataset = (id: string): Dataset => ({ id, references: { metadataText: new Map([['tas/.zarray', '{}']]) } }) as unknown as Dataset;

const visible = (datasets: readonly Dataset[], version: object = {}): VisibleDatasets => ({
  version,
  filter: '',
  all: () => datasets,
  get: (id) => datasets.find((d) => d.id === id),
});

describe('CatalogTrees', () => {
  it('builds one tree per catalog version', () => {
    const trees = new CatalogTrees();
    const version = {};
    const datasets = [dataset('a.b'), dataset('a.c')];
    const tree = trees.tree(visible(datasets, version));
    expect(trees.tree(visible(datasets, version))).toBe(tree);
    expect(tree.node('a')?.datasetCount).toBe(2);
  });

  it('a new version with the same datasets keeps the tree (and so its documents); a changed one gets a new tree', () => {
    const trees = new CatalogTrees();
    const datasets = [dataset('a.b'), dataset('a.c')];
    const first = trees.tree(visible(datasets));
    expect(trees.tree(visible([...datasets]))).toBe(first);
    const added = trees.tree(visible([...datasets, dataset('a.d')]));
    expect(added).not.toBe(first);
    expect(added.node('a/d')?.dataset?.id).toBe('a.d');
    const replaced = trees.tree(visible([datasets[0] as Dataset, dataset('a.c')]));
    expect(replaced).not.toBe(added);
    expect(replaced.node('a/d')).toBeUndefined();
  });

  it('one store per tree and face', () => {
    const trees = new CatalogTrees();
    const datasets = [dataset('x')];
    const face = { name: 'raw view', view: () => ({ metadata: () => undefined, chunk: async () => undefined }) };
    const v = visible(datasets);
    expect(trees.store(v, face)).toBe(trees.store(v, face));
    expect(trees.store(v, { ...face, name: 'processed view' })).not.toBe(trees.store(v, face));
  });
});
