import { isAbsolute, resolve } from 'node:path';
import { type Catalog, loadCatalog } from '../catalog/catalog-file.js';
import { DatasetRegistry } from '../catalog/registry.js';
import { generateStaticStac, type StaticStacResult } from './generate.js';

/** Where a catalog asks for its static STAC tree: `stac: {static: {out: site/, base_url: http://host}}`. */
export interface StaticStacTarget {
  /** Absolute directory of the tree. */
  readonly out: string;
  readonly baseUrl: string;
}

export function configuredStaticStac(catalog: Catalog): StaticStacTarget | undefined {
  const stac = catalog.fields.stac;
  const settings = typeof stac === 'object' && stac !== null && !Array.isArray(stac) ? stac.static : undefined;
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return undefined;
  const { out, base_url: baseUrl } = settings;
  if (typeof out !== 'string' || typeof baseUrl !== 'string' || !/^https?:\/\/\S+$/.test(baseUrl)) {
    throw new Error(`catalog ${catalog.file}: "stac.static" needs {out: DIR, base_url: http(s) URL}`);
  }
  return { out: isAbsolute(out) ? out : resolve(catalog.dir, out), baseUrl };
}

/** Writes the static STAC tree of every dataset of a catalog file into `out`. */
export async function writeStaticStac(catalogFile: string, out: string, baseUrl: string): Promise<StaticStacResult> {
  const registry = await DatasetRegistry.open(await loadCatalog(catalogFile));
  try {
    return await generateStaticStac(registry, out, { baseUrl });
  } finally {
    await registry.close();
  }
}

/** Rewrites the static tree when the catalog configures one (after an ingest); undefined otherwise. */
export async function regenerateStaticStac(catalogFile: string): Promise<(StaticStacResult & StaticStacTarget) | undefined> {
  const target = configuredStaticStac(await loadCatalog(catalogFile));
  if (!target) return undefined;
  return { ...(await writeStaticStac(catalogFile, target.out, target.baseUrl)), ...target };
}
