/**
 * The catalog as one Zarr hierarchy: every dataset a group whose path is its id split on `.`
 * (`icon.hist.atmos` → `icon/hist/atmos`), groups in between for prefixes that are no dataset.
 * This module is the index only (which node is where, which key goes to which dataset); the
 * documents are rendered by `catalog-tree-store.ts`.
 *
 * Rules (documented in the README):
 * - A dataset that is also the prefix of another (`a` and `a.b`): group `a` holds a's own
 *   members (arrays, sub-groups of its references) and the child group `b`.
 * - A child whose name is also a member of the parent dataset (`a` has an array `b`, and there
 *   is a dataset `a.b`): the parent's member wins; the child and everything below it are left
 *   out and listed as problems (never a silent overwrite).
 * - Ids whose segments cannot be Zarr node names (empty segments of `a..b` or `a.`, names
 *   starting with `__`, reserved by Zarr v3) and datasets whose root is an array are left out
 *   and listed as problems.
 * Everything is held in Maps: no id or name ever reaches an object's prototype.
 */

/** What the index needs of a dataset: its id and the names of its top-level members. */
export interface TreeEntry {
  readonly id: string;
  /** First path segments of the dataset's metadata keys (`tas` of `tas/.zarray`). */
  readonly members: ReadonlySet<string>;
  /** The dataset's root is an array (a `.zarray` at its root): it cannot be a group. */
  readonly rootIsArray: boolean;
  /** Bytes of the dataset's metadata documents (decides whether a listing holds every array). */
  readonly metadataBytes: number;
}

export interface TreeNode {
  /** Path from the root ('' for the root, `icon/hist` below it). */
  readonly path: string;
  readonly children: ReadonlyMap<string, TreeNode>;
  /** The dataset served as this group, if any. */
  readonly dataset?: TreeEntry;
  /** Datasets in this node's subtree, itself included. */
  readonly datasetCount: number;
  /** Metadata bytes of the datasets in this subtree. */
  readonly metadataBytes: number;
}

export interface TreeProblem {
  readonly id: string;
  readonly problem: string;
}

/** The metadata documents a tree node answers itself (merged with its dataset's, if it is one). */
export const NODE_DOCUMENTS: ReadonlySet<string> = new Set(['.zgroup', '.zattrs', '.zmetadata', 'zarr.json']);

/** Where a store key of the tree leads. */
export type TreeResolution =
  /** A metadata document of a node. */
  | { readonly kind: 'document'; readonly node: TreeNode; readonly name: string }
  /** A key of one dataset's store (array metadata, chunks, documents of its own sub-groups). */
  | { readonly kind: 'dataset'; readonly id: string; readonly key: string }
  /** The path of a group itself (a directory: answered by a listing). */
  | { readonly kind: 'group'; readonly node: TreeNode };

export interface CatalogTreeOptions {
  /** A subtree with at most this many datasets is listed with every array (default 200). */
  readonly fullListingMaxDatasets?: number;
  /** … and with at most this many metadata bytes (default 4 MiB). */
  readonly fullListingMaxBytes?: number;
}

export const FULL_LISTING_MAX_DATASETS = 200;
export const FULL_LISTING_MAX_BYTES = 4 * 1024 * 1024;

/** Shared by every node without children (never written: a node gets its own map with its first child). */
const NO_CHILDREN: Map<string, MutableNode> = new Map();

interface MutableNode {
  path: string;
  children: Map<string, MutableNode>;
  dataset?: TreeEntry;
  datasetCount: number;
  metadataBytes: number;
}

/** The index of one version of the (visible) catalog. Immutable once built. */
export class CatalogTree {
  readonly root: TreeNode;
  /** Datasets left out of the tree and why, sorted by id. */
  readonly problems: readonly TreeProblem[];
  private readonly maxDatasets: number;
  private readonly maxBytes: number;

  constructor(entries: Iterable<TreeEntry>, options: CatalogTreeOptions = {}) {
    this.maxDatasets = options.fullListingMaxDatasets ?? FULL_LISTING_MAX_DATASETS;
    this.maxBytes = options.fullListingMaxBytes ?? FULL_LISTING_MAX_BYTES;
    const problems: TreeProblem[] = [];
    const root: MutableNode = { path: '', children: new Map(), datasetCount: 0, metadataBytes: 0 };
    for (const entry of entries) {
      const segments = entry.id.split('.');
      const problem = entryProblem(entry, segments);
      if (problem) {
        problems.push({ id: entry.id, problem });
        continue;
      }
      let node = root;
      for (const segment of segments) {
        let child = node.children.get(segment);
        if (!child) {
          // leaves (most nodes of a large catalog) share one empty map until they get a child
          child = { path: node.path === '' ? segment : `${node.path}/${segment}`, children: NO_CHILDREN, datasetCount: 0, metadataBytes: 0 };
          if (node.children === NO_CHILDREN) node.children = new Map();
          node.children.set(segment, child);
        }
        node = child;
      }
      if (node.dataset) {
        problems.push({ id: entry.id, problem: 'the id is listed twice' });
        continue;
      }
      node.dataset = entry;
    }
    prune(root, problems);
    count(root);
    problems.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.root = root;
    this.problems = problems;
  }

  /** The node at a group path ('' the root, `icon/hist`), or undefined. */
  node(path: string): TreeNode | undefined {
    if (path === '') return this.root;
    let node: TreeNode | undefined = this.root;
    for (const segment of path.split('/')) {
      node = node.children.get(segment);
      if (!node) return undefined;
    }
    return node;
  }

  /** Where a store key leads ('' is the root group), or undefined when nothing is there. */
  resolve(key: string): TreeResolution | undefined {
    if (key === '') return { kind: 'group', node: this.root };
    const segments = key.split('/');
    let node: TreeNode = this.root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      if (i === segments.length - 1 && NODE_DOCUMENTS.has(segment)) return { kind: 'document', node, name: segment };
      if (node.dataset?.members.has(segment)) return { kind: 'dataset', id: node.dataset.id, key: segments.slice(i).join('/') };
      const child = node.children.get(segment);
      if (!child) return undefined;
      node = child;
    }
    return { kind: 'group', node };
  }

  /** Whether a node's consolidated metadata lists every array of its subtree (else only groups). */
  listsEveryArray(node: TreeNode): boolean {
    return node.datasetCount <= this.maxDatasets && node.metadataBytes <= this.maxBytes;
  }
}

/** Why an entry cannot be placed in the tree at all, or undefined. */
function entryProblem(entry: TreeEntry, segments: readonly string[]): string | undefined {
  if (entry.rootIsArray) return 'the dataset root is an array, not a group';
  for (const segment of segments) {
    if (segment === '') return 'the id has an empty segment (a leading, trailing or doubled ".")';
    if (segment.startsWith('__')) return `the id segment "${segment}" starts with "__" (reserved for Zarr)`;
    // the catalog's id rule already keeps these out; the tree never relies on it
    if (/[/\\\0]/.test(segment)) return 'the id has a character that cannot be in a Zarr path ("/", "\\" or NUL)';
  }
  return undefined;
}

/**
 * Leaves out children that collide with a member of their parent dataset (with everything
 * below them), and intermediate groups left without any dataset.
 */
function prune(node: MutableNode, problems: TreeProblem[]): void {
  for (const [name, child] of node.children) {
    if (node.dataset?.members.has(name)) {
      for (const hidden of datasetsBelow(child)) {
        problems.push({ id: hidden.id, problem: `its group "${child.path}" is a member (array or group) of dataset "${node.dataset.id}"` });
      }
      node.children.delete(name);
      continue;
    }
    prune(child, problems);
    if (!child.dataset && child.children.size === 0) node.children.delete(name);
  }
}

function* datasetsBelow(node: MutableNode): Generator<TreeEntry> {
  if (node.dataset) yield node.dataset;
  for (const child of node.children.values()) yield* datasetsBelow(child);
}

function count(node: MutableNode): void {
  node.datasetCount = node.dataset ? 1 : 0;
  node.metadataBytes = node.dataset?.metadataBytes ?? 0;
  for (const child of node.children.values()) {
    count(child);
    node.datasetCount += child.datasetCount;
    node.metadataBytes += child.metadataBytes;
  }
}

/** The tree entry of a dataset given its metadata documents (key → JSON text). */
export function treeEntryOf(id: string, metadataText: ReadonlyMap<string, string>): TreeEntry {
  const members = new Set<string>();
  let metadataBytes = 0;
  for (const [key, text] of metadataText) {
    metadataBytes += key.length + text.length;
    const slash = key.indexOf('/');
    if (slash > 0) members.add(key.slice(0, slash));
  }
  return { id, members, rootIsArray: metadataText.has('.zarray'), metadataBytes };
}
