import { describe, expect, it } from 'vitest';
import { CatalogTree, type TreeEntry, treeEntryOf } from './catalog-tree.js';

const entry = (id: string, members: string[] = ['tas'], metadataBytes = 100): TreeEntry => ({ id, members: new Set(members), rootIsArray: false, metadataBytes });

describe('CatalogTree', () => {
  it('places each dataset at its id split on "." with groups in between', () => {
    const tree = new CatalogTree([entry('icon.hist.atmos'), entry('icon.ssp585.atmos'), entry('era5')]);
    expect([...tree.root.children.keys()].sort()).toEqual(['era5', 'icon']);
    expect(tree.node('icon')?.dataset).toBeUndefined();
    expect(tree.node('icon/hist/atmos')?.dataset?.id).toBe('icon.hist.atmos');
    expect(tree.node('icon')?.datasetCount).toBe(2);
    expect(tree.root.datasetCount).toBe(3);
    expect(tree.root.metadataBytes).toBe(300);
    expect(tree.problems).toEqual([]);
  });

  it('resolves documents of groups, keys of datasets and group paths', () => {
    const tree = new CatalogTree([entry('icon.hist.atmos', ['tas', 'time']), entry('icon.hist')]);
    expect(tree.resolve('')).toMatchObject({ kind: 'group', node: { path: '' } });
    expect(tree.resolve('.zmetadata')).toMatchObject({ kind: 'document', name: '.zmetadata', node: { path: '' } });
    expect(tree.resolve('icon/zarr.json')).toMatchObject({ kind: 'document', name: 'zarr.json', node: { path: 'icon' } });
    expect(tree.resolve('icon/hist/atmos/.zattrs')).toMatchObject({ kind: 'document', node: { path: 'icon/hist/atmos' } });
    expect(tree.resolve('icon/hist/atmos/tas/.zarray')).toEqual({ kind: 'dataset', id: 'icon.hist.atmos', key: 'tas/.zarray' });
    expect(tree.resolve('icon/hist/atmos/tas/c/0/1/2')).toEqual({ kind: 'dataset', id: 'icon.hist.atmos', key: 'tas/c/0/1/2' });
    expect(tree.resolve('icon/hist/tas/0.0')).toEqual({ kind: 'dataset', id: 'icon.hist', key: 'tas/0.0' });
    expect(tree.resolve('icon/hist/atmos')).toMatchObject({ kind: 'group', node: { path: 'icon/hist/atmos' } });
    expect(tree.resolve('icon/nothing/.zgroup')).toBeUndefined();
    expect(tree.resolve('icon/.zarray')).toBeUndefined();
    expect(tree.resolve('icon/tas/0')).toBeUndefined();
  });

  it('a dataset that is the prefix of another holds its own members and the child group', () => {
    const tree = new CatalogTree([entry('a', ['x']), entry('a.b', ['y'])]);
    expect(tree.resolve('a/x/0')).toEqual({ kind: 'dataset', id: 'a', key: 'x/0' });
    expect(tree.resolve('a/b/y/0')).toEqual({ kind: 'dataset', id: 'a.b', key: 'y/0' });
    expect(tree.node('a')?.children.has('b')).toBe(true);
  });

  it('a child colliding with a member of its parent dataset is left out with its subtree, in any order', () => {
    for (const order of [
      ['a', 'a.tas', 'a.tas.deep'],
      ['a.tas.deep', 'a.tas', 'a'],
    ]) {
      const tree = new CatalogTree(order.map((id) => entry(id, ['tas'])));
      expect(tree.node('a')?.children.size).toBe(0);
      expect(tree.resolve('a/tas/.zarray')).toEqual({ kind: 'dataset', id: 'a', key: 'tas/.zarray' });
      expect(tree.problems.map((p) => p.id)).toEqual(['a.tas', 'a.tas.deep']);
      expect(tree.problems[0]?.problem).toContain('member');
      expect(tree.root.datasetCount).toBe(1);
    }
  });

  it('leaves out ids that cannot be Zarr paths, and never touches prototypes', () => {
    const ids = ['a..b', 'a.', '.a', 'x.__proto__', '__proto__', 'constructor', 'x.constructor.prototype', 'toString.valueOf', 'hasOwnProperty'];
    const tree = new CatalogTree(ids.map((id) => entry(id)));
    expect(tree.problems.map((p) => p.id).sort()).toEqual(['.a', '__proto__', 'a.', 'a..b', 'x.__proto__'].sort());
    expect(tree.node('constructor')?.dataset?.id).toBe('constructor');
    expect(tree.node('x/constructor/prototype')?.dataset?.id).toBe('x.constructor.prototype');
    expect(tree.resolve('toString/valueOf/tas/0')).toEqual({ kind: 'dataset', id: 'toString.valueOf', key: 'tas/0' });
    expect(tree.resolve('__proto__/.zgroup')).toBeUndefined();
    expect(tree.resolve('x/__proto__')).toBeUndefined();
    expect(tree.node('x/__proto__')).toBeUndefined();
    expect(tree.resolve('hasOwnProperty/tas/0')).toEqual({ kind: 'dataset', id: 'hasOwnProperty', key: 'tas/0' });
    expect(({} as Record<string, unknown>).tas).toBeUndefined();
  });

  it('leaves out ids with characters no Zarr path may hold (the catalog refuses them anyway)', () => {
    const tree = new CatalogTree(['a/b', 'a\\b', 'a\0b', 'a.b'].map((id) => entry(id)));
    expect(tree.problems.map((p) => p.id)).toEqual(['a\0b', 'a/b', 'a\\b']); // sorted by id
    expect(tree.node('a/b')?.dataset?.id).toBe('a.b');
  });

  it('leaves out a dataset whose root is an array', () => {
    const tree = new CatalogTree([treeEntryOf('flat', new Map([['.zarray', '{}']]))]);
    expect(tree.problems).toEqual([{ id: 'flat', problem: 'the dataset root is an array, not a group' }]);
    expect(tree.root.children.size).toBe(0);
  });

  it('lists every array of small subtrees only', () => {
    const entries = Array.from({ length: 30 }, (_, i) => entry(`m${i % 3}.run${i}`, ['v'], 1000));
    const tree = new CatalogTree(entries, { fullListingMaxDatasets: 10, fullListingMaxBytes: 1_000_000 });
    expect(tree.listsEveryArray(tree.root)).toBe(false);
    expect(tree.listsEveryArray(tree.node('m0') as never)).toBe(true);
    const byBytes = new CatalogTree(entries, { fullListingMaxDatasets: 100, fullListingMaxBytes: 5000 });
    expect(byBytes.listsEveryArray(byBytes.root)).toBe(false);
    expect(byBytes.listsEveryArray(byBytes.node('m0/run0') as never)).toBe(true);
  });

  it('builds 10,000 datasets deep and wide', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `model${i % 7}.exp${i % 13}.r${i}.atmos`);
    const tree = new CatalogTree(ids.map((id) => entry(id)));
    expect(tree.root.datasetCount).toBe(10_000);
    expect(tree.resolve('model3/exp5/r1000/atmos/tas/0.0')).toBeUndefined();
    expect(tree.resolve(`model${9999 % 7}/exp${9999 % 13}/r9999/atmos/tas/0.0`)).toEqual({ kind: 'dataset', id: ids[9999], key: 'tas/0.0' });
  });
});

describe('treeEntryOf', () => {
  it('names the top-level members and counts metadata bytes', () => {
    const texts = new Map([
      ['.zgroup', '{}'],
      ['tas/.zarray', '{"a":1}'],
      ['g/sub/.zarray', '{}'],
    ]);
    const made = treeEntryOf('x', texts);
    expect([...made.members].sort()).toEqual(['g', 'tas']);
    expect(made.rootIsArray).toBe(false);
    expect(made.metadataBytes).toBe('.zgroup'.length + 2 + 'tas/.zarray'.length + 7 + 'g/sub/.zarray'.length + 2);
  });
});
