import type { Dataset } from '../catalog/dataset.js';
import { asciiJson } from '../kerchunk/ascii-json.js';
import { objectMemberTexts } from '../kerchunk/json-spans.js';
import { v3MetadataTexts } from '../kerchunk/zarr-v3.js';
import { etagOf } from '../server/http/etag.js';
import { bytesBody, type ServedBody } from '../server/http/served-body.js';
import type { ListableStore } from '../server/http/store-listing.js';
import type { StoreView } from '../server/http/store-routes.js';
import { type CatalogTree, NODE_DOCUMENTS, type TreeNode } from './catalog-tree.js';
import { METADATA_CACHE_CONTROL } from './metadata-documents.js';

/** One face of the tree: the view every dataset's group is answered by (raw or processed). */
export interface TreeFace {
  /** `raw view`, `processed view`: names the face in messages and caches. */
  readonly name: string;
  view(dataset: Dataset): StoreView;
}

/** What a key of the tree is: a body to send, a group (a directory), or nothing. */
export type TreeAnswer = { readonly kind: 'body'; readonly body: ServedBody } | { readonly kind: 'group'; readonly node: TreeNode } | undefined;

export interface CatalogTreeStoreOptions {
  /** Bytes of rendered group documents kept (default 32 MiB). */
  readonly cacheBytes?: number;
}

const GROUP_TEXT = '{"zarr_format": 2}';
const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
const MAX_LISTABLES = 1024;

/**
 * The Zarr store of one version of the catalog tree, for one face. Keys inside a dataset's
 * group are answered by exactly that dataset's view (same bodies, ETags, caches and budgets as
 * `/datasets/{id}/<view>/…`); the documents of groups are rendered here on first use and kept
 * (byte-bounded):
 * - `.zgroup`, `.zattrs`: the dataset's own, `{}` for groups in between; the root's attributes
 *   list the datasets left out of the tree (`catalog_tree_problems`).
 * - `.zmetadata` and `zarr.json`: a dataset group without child groups answers its view's own;
 *   any other group consolidates its subtree: every array when the subtree is small
 *   (`CatalogTree.listsEveryArray`), else every group with its attributes plus its own arrays,
 *   so a client walks down to a dataset and reads that group's consolidated metadata.
 * A dataset whose view cannot be made (a misconfigured `processing` block) is listed as a group
 * with its references' attributes and no arrays until the catalog changes; its own keys answer
 * the view's error.
 */
export class CatalogTreeStore {
  private readonly rendered = new Map<string, Promise<ServedBody>>();
  private readonly sizes = new Map<string, number>();
  private renderedBytes = 0;
  private readonly listables = new Map<string, Promise<ListableStore>>();
  private readonly cacheBytes: number;

  constructor(
    readonly tree: CatalogTree,
    private readonly datasets: (id: string) => Dataset | undefined,
    private readonly face: TreeFace,
    /** The attributes text of a dataset's group in listings that do not hold every array. */
    private readonly groupAttributes: (dataset: Dataset) => string,
    options: CatalogTreeStoreOptions = {},
    /** Group fragments of datasets, shared by the stores of one face across catalog versions. */
    private readonly fragments: WeakMap<Dataset, GroupFragment> = new WeakMap(),
  ) {
    this.cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  }

  /** The answer for a store key ('' is the root group). */
  async answer(key: string, signal?: AbortSignal): Promise<TreeAnswer> {
    const resolved = this.tree.resolve(key);
    if (!resolved) return undefined;
    if (resolved.kind === 'group') return resolved;
    if (resolved.kind === 'dataset') {
      const dataset = this.datasets(resolved.id);
      if (!dataset) return undefined;
      const view = this.face.view(dataset);
      const body = view.metadata(resolved.key) ?? (await view.chunk(resolved.key, signal));
      return body ? { kind: 'body', body } : undefined;
    }
    const body = await this.document(resolved.node, resolved.name);
    return body ? { kind: 'body', body } : undefined;
  }

  /** A metadata document of a group (`.zgroup`, `.zattrs`, `.zmetadata`, `zarr.json`). */
  async document(node: TreeNode, name: string): Promise<ServedBody | undefined> {
    const dataset = node.dataset && this.datasets(node.dataset.id);
    if (node.dataset && !dataset) return undefined;
    if (dataset && (name === '.zgroup' || name === '.zattrs' || node.children.size === 0)) return this.face.view(dataset).metadata(name);
    if (name === '.zgroup') return jsonBody(GROUP_TEXT);
    if (name === '.zattrs') return jsonBody(node.path === '' ? this.rootAttributes() : '{}');
    const cacheKey = `${node.path}\0${name}`;
    let body = this.rendered.get(cacheKey);
    if (!body) {
      body = this.render(node, name);
      this.remember(cacheKey, body);
    }
    return body;
  }

  /**
   * A group's documents as a store a directory listing reads (`storeListing`): kept per group
   * (at most `MAX_LISTABLES`), so the listing itself is cached with it.
   */
  listable(node: TreeNode): Promise<ListableStore> {
    let listable = this.listables.get(node.path);
    if (!listable) {
      if (this.listables.size >= MAX_LISTABLES) this.listables.clear();
      listable = (async () => {
        const documents = new Map<string, ServedBody>();
        for (const name of NODE_DOCUMENTS) {
          const body = await this.document(node, name);
          if (body) documents.set(name, body);
        }
        return { metadata: (key: string) => documents.get(key) };
      })();
      listable.catch(() => this.listables.delete(node.path));
      this.listables.set(node.path, listable);
    }
    return listable;
  }

  private async render(node: TreeNode, name: string): Promise<ServedBody> {
    const { full, groups } = await this.listing(node);
    // every piece is ASCII already (asciiJson here, fragments when made): the whole is not scanned again
    const members: string[] = [];
    if (name === '.zmetadata') {
      for (const [key, text] of full) members.push(asciiJson(`${JSON.stringify(key)}: ${text}`));
      for (const group of groups) members.push(group.v2);
      return asciiBody(`{"metadata": {\n${members.join(',\n')}\n}, "zarr_consolidated_format": 1}`);
    }
    // the v3 documents of what is listed in full; groups listed by their attributes are v3 groups as they are
    for (const [key, text] of v3MetadataTexts(full)) {
      if (key !== 'zarr.json') members.push(asciiJson(`${JSON.stringify(key.slice(0, -'/zarr.json'.length))}: ${text}`));
    }
    for (const group of groups) members.push(group.v3);
    const attributes = asciiJson(full.get('.zattrs') ?? '{}');
    return asciiBody(
      `{"zarr_format": 3, "node_type": "group", "attributes": ${attributes}, "consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": {\n${members.join(',\n')}\n}}}`,
    );
  }

  /**
   * What the consolidated metadata of `node` holds: `full`, the v2 documents (key relative to
   * `node` → JSON text) of the node itself and of every dataset listed with its arrays; `groups`,
   * the groups listed by their attributes only (path relative to `node` → attributes text).
   */
  private async listing(node: TreeNode): Promise<{ full: Map<string, string>; groups: GroupFragment[] }> {
    const every = this.tree.listsEveryArray(node);
    // the datasets listed with every array: the whole subtree when it is small, else the node's own
    const fullPaths = every ? datasetPaths(node) : node.dataset ? [node.path] : [];
    const documents = new Map<string, Map<string, string> | undefined>();
    await Promise.all(
      fullPaths.map(async (path) => {
        const id = this.tree.node(path)?.dataset?.id;
        const dataset = id === undefined ? undefined : this.datasets(id);
        documents.set(path, dataset && (await this.datasetTexts(dataset)));
      }),
    );
    const full = new Map<string, string>();
    const groups: GroupFragment[] = [];
    const relative = (at: TreeNode) => (node.path === '' ? at.path : at.path.slice(node.path.length + 1));
    const stack: TreeNode[] = [node];
    for (let at = stack.pop(); at; at = stack.pop()) {
      const own = documents.get(at.path);
      const path = relative(at);
      const prefix = path === '' ? '' : `${path}/`;
      if (own) {
        for (const [key, text] of own) full.set(prefix + key, text);
      } else {
        const dataset = at.dataset && this.datasets(at.dataset.id);
        if (at !== node && !every) {
          // the root's listing (paths from the root) is the one kept across versions
          groups.push(dataset && path === at.path ? this.datasetFragment(dataset, path) : groupFragment(path, dataset ? this.safeAttributes(dataset) : '{}'));
          for (const child of at.children.values()) stack.push(child);
          continue;
        }
        full.set(`${prefix}.zgroup`, GROUP_TEXT);
        full.set(`${prefix}.zattrs`, dataset ? this.safeAttributes(dataset) : at.path === '' ? this.rootAttributes() : '{}');
      }
      for (const child of at.children.values()) stack.push(child);
    }
    return { full, groups };
  }

  /** The dataset's v2 documents exactly as its view serves them (from its `.zmetadata`), or undefined when the view fails. */
  private async datasetTexts(dataset: Dataset): Promise<Map<string, string> | undefined> {
    try {
      const consolidated = this.face.view(dataset).metadata('.zmetadata');
      if (!consolidated) return undefined;
      const text = new TextDecoder().decode(await consolidated.read(0, consolidated.size));
      const metadata = objectMemberTexts(text).get('metadata');
      return metadata === undefined ? undefined : objectMemberTexts(metadata);
    } catch {
      return undefined;
    }
  }

  /** A dataset group listed by its attributes in the root's listing, made once per opened dataset (kept across catalog versions). */
  private datasetFragment(dataset: Dataset, path: string): GroupFragment {
    const kept = this.fragments.get(dataset);
    if (kept?.path === path) return kept;
    const fragment = groupFragment(path, this.safeAttributes(dataset));
    this.fragments.set(dataset, fragment);
    return fragment;
  }

  private safeAttributes(dataset: Dataset): string {
    try {
      return this.groupAttributes(dataset);
    } catch {
      return '{}';
    }
  }

  private rootAttributes(): string {
    const { problems } = this.tree;
    if (problems.length === 0) return '{}';
    return JSON.stringify({ catalog_tree_problems: problems.map(({ id, problem }) => ({ id, problem })) });
  }

  /** Keeps a rendered document while the kept ones fit in `cacheBytes` (oldest dropped first); a failed render is forgotten. */
  private remember(key: string, body: Promise<ServedBody>): void {
    this.rendered.set(key, body);
    body.then(
      (done) => {
        if (this.rendered.get(key) !== body) return;
        this.sizes.set(key, done.size);
        this.renderedBytes += done.size;
        for (const [oldKey, size] of this.sizes) {
          if (this.renderedBytes <= this.cacheBytes || oldKey === key) break;
          this.sizes.delete(oldKey);
          this.rendered.delete(oldKey);
          this.renderedBytes -= size;
        }
      },
      () => {
        if (this.rendered.get(key) === body) this.rendered.delete(key);
      },
    );
  }
}

/** The paths of the dataset groups of a subtree. */
function datasetPaths(node: TreeNode): string[] {
  const paths: string[] = [];
  const stack: TreeNode[] = [node];
  for (let at = stack.pop(); at; at = stack.pop()) {
    if (at.dataset) paths.push(at.path);
    for (const child of at.children.values()) stack.push(child);
  }
  return paths;
}

/** A group in a consolidated listing by its attributes alone: its v2 members and its v3 member, ASCII. */
export interface GroupFragment {
  readonly path: string;
  readonly v2: string;
  readonly v3: string;
}

function groupFragment(path: string, attributes: string): GroupFragment {
  const ascii = attributes === '{}' ? attributes : asciiJson(attributes);
  const quoted = asciiJson(JSON.stringify(path)); // `"a/b"`: member names are made by inserting before the closing quote
  const member = (name: string) => `${quoted.slice(0, -1)}/${name}"`;
  return {
    path,
    v2: `${member('.zgroup')}: ${GROUP_TEXT},\n${member('.zattrs')}: ${ascii}`,
    v3: `${quoted}: {"zarr_format": 3, "node_type": "group", "attributes": ${ascii}}`,
  };
}

function asciiBody(text: string): ServedBody {
  const bytes = new TextEncoder().encode(text);
  return bytesBody(bytes, etagOf(bytes), 'application/json', METADATA_CACHE_CONTROL);
}

function jsonBody(text: string): ServedBody {
  const bytes = new TextEncoder().encode(asciiJson(text));
  return bytesBody(bytes, etagOf(bytes), 'application/json', METADATA_CACHE_CONTROL);
}
