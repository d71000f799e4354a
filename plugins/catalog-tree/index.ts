import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { requestSignal } from '../../kerchunk/request-budget.js';
import { keyProblem } from '../../kerchunk/zarr-keys.js';
import { headersOf, makePrivate } from '../../server/access-control.js';
import { notFound } from '../../server/http/problem.js';
import { respond } from '../../server/http/served-body.js';
import { storeKey } from '../../server/http/store-key.js';
import { storeListing } from '../../server/http/store-listing.js';
import { respondStoreBody } from '../../server/http/store-routes.js';
import type { PluginContext, StratoPlugin } from '../../server/plugin.js';
import type { TreeNode } from '../../views/catalog-tree.js';
import type { CatalogTreeStore, TreeFace } from '../../views/catalog-tree-store.js';
import { CatalogTrees, type CatalogTreesOptions } from '../../views/catalog-trees.js';
import { visibleDatasets } from '../../views/visible-datasets.js';

/**
 * `/catalog/kerchunk/{key}` and `/catalog/zarr/{key}`: the whole catalog as one Zarr hierarchy,
 * each dataset a group at its id split on `.`, answered by its raw or processed view
 * (views/catalog-tree*.ts). Groups answer as static directories (`…/icon` → `…/icon/`, an index).
 */
export function createCatalogTreePlugin(options: CatalogTreesOptions = {}): StratoPlugin {
  const makeTrees = () => new CatalogTrees(options);
  return {
    name: 'catalog-tree',
    version: '1.0.0',
    appRoutes: (context) => treeRoutes(context, context.shared(makeTrees)),
  };
}

/** The catalog tree with the default listing thresholds. */
export const catalogTreePlugin: StratoPlugin = createCatalogTreePlugin();

function treeRoutes(context: PluginContext, trees: CatalogTrees): Hono {
  const app = new Hono();
  const faces: ReadonlyArray<readonly [string, TreeFace]> = [
    ['kerchunk', { name: 'raw view', view: (dataset) => context.views.raw(dataset) }],
    ['zarr', { name: 'processed view', view: (dataset) => context.views.processed(dataset) }],
  ];
  const privateAnswers = new WeakSet<Context>();
  const privately: MiddlewareHandler = async (c, next) => {
    await next();
    if (privateAnswers.has(c)) makePrivate(c.res.headers);
  };
  app.use('/catalog/*', privately);
  for (const [prefix, face] of faces) {
    // the tree of the datasets this caller may read (kept per visibility), private when that hid or showed a protected one
    const storeOf = async (c: Context): Promise<CatalogTreeStore> => {
      const visible = await visibleDatasets(context.registry, (datasets) => context.access.visible(headersOf(c), datasets));
      if (visible.filter !== '') privateAnswers.add(c);
      return trees.store(visible, face);
    };
    app.get(`/catalog/${prefix}`, async (c) => {
      const store = await storeOf(c);
      return group(c, store, store.tree.root);
    });
    app.get(`/catalog/${prefix}/*`, async (c) => {
      const store = await storeOf(c);
      const path = new URL(c.req.url).pathname;
      if (path.endsWith('/')) {
        const at = groupPath(path);
        const node = at === undefined ? undefined : store.tree.node(at);
        if (!node) throw notFound('no such group in the catalog tree');
        return group(c, store, node);
      }
      const key = storeKey(c, 2);
      const answer = await store.answer(key, requestSignal() ?? c.req.raw.signal);
      if (!answer) throw notFound(`no key "${key}" in the catalog tree (${face.name})`);
      return answer.kind === 'group' ? group(c, store, answer.node) : respondStoreBody(c, answer.body);
    });
  }
  return app;
}

/** A group as a directory: without its slash a redirect to it, with it an index (store-listing.ts). */
async function group(c: Context, store: CatalogTreeStore, node: TreeNode): Promise<Response> {
  const path = new URL(c.req.url).pathname;
  if (!path.endsWith('/')) return c.body(null, 301, { location: `${path.slice(path.lastIndexOf('/') + 1)}/`, 'cache-control': 'public, max-age=60' });
  const listing = await storeListing(await store.listable(node), path);
  if (!listing) throw notFound(`group "${node.path}" has no consolidated metadata to list`);
  return respond(c, listing);
}

/** The group path of `/catalog/<face>/a/b/` (`a/b`), or undefined when it cannot name a group. */
function groupPath(pathname: string): string | undefined {
  const segments = pathname.split('/').slice(3, -1);
  if (segments.length === 0) return '';
  let decoded: string[];
  try {
    decoded = segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
  if (decoded.some((segment) => segment.includes('/'))) return undefined;
  const path = decoded.join('/');
  return keyProblem(path) === undefined ? path : undefined;
}
