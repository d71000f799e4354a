import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Dataset } from '../catalog/dataset.js';
import type { DatasetRegistry } from '../catalog/registry.js';
import { DecodedChunkCache, datasetValues } from '../kerchunk/array-reader.js';
import type { DatasetValues } from '../kerchunk/array-values.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { catalogDocument, collectionChildLink } from '../stac-model/catalog-document.js';
import { buildCollections, type CatalogDescription, catalogDescription } from '../stac-model/collections.js';
import { absoluteItem, buildItem, type ItemRecord } from '../stac-model/items.js';
import { type JsonObject, linksToJson, MEDIA, type StacLink } from '../stac-model/stac-types.js';

/** Datasets with their values, when there is no registry (tests, other tools). */
export interface DatasetSet {
  readonly datasets: readonly Dataset[];
  readonly values: (dataset: Dataset) => DatasetValues;
  /** The catalog file's top-level fields (`stac: {title, description, collections}`). */
  readonly fields?: Readonly<Record<string, JsonValue>>;
}

export interface StaticStacOptions {
  /** Public URL of the strato server the assets point at (no trailing slash needed). */
  readonly baseUrl: string;
}

export interface StaticStacResult {
  /** Files written, relative to the output directory. */
  readonly files: readonly string[];
  readonly collections: number;
  readonly items: number;
  /** Datasets whose coordinates could not all be read (their Items lack those extents). */
  readonly problems: ReadonlyArray<{ id: string; problems: readonly string[] }>;
}

/**
 * Writes a self-contained static STAC catalog: `catalog.json` → `<collection>/collection.json` →
 * `<collection>/<item>/<item>.json`, linked with relative hrefs and without `self` links, so the
 * tree can be copied anywhere; assets point at the strato server at `baseUrl`. Beside it,
 * `mixed.json` is a second root linking the same static collections and the server's live API
 * (`<baseUrl>/stac`).
 */
export async function generateStaticStac(source: DatasetRegistry | DatasetSet, outDir: string, options: StaticStacOptions): Promise<StaticStacResult> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const set = isRegistry(source) ? registrySet(source) : source;
  const fields = set.fields ?? {};
  const records: ItemRecord[] = [];
  for (const dataset of set.datasets) records.push(await buildItem(dataset, set.values(dataset)));
  const catalog = catalogDescription(fields);
  const collections = buildCollections(records, fields);
  const files: string[] = [];
  const write = async (path: string, document: JsonObject) => {
    await mkdir(dirname(join(outDir, path)), { recursive: true });
    await writeFile(join(outDir, path), `${JSON.stringify(document, null, 2)}\n`);
    files.push(path);
  };

  const children: StacLink[] = collections.map((c) => collectionChildLink(c, `./${c.id}/collection.json`));
  await write('catalog.json', catalogDocument(catalog, [{ rel: 'root', href: './catalog.json', type: MEDIA.json, title: catalog.title }, ...children]));
  const mixed: CatalogDescription = {
    id: `${catalog.id}-mixed`,
    title: `${catalog.title} (static collections and live API)`,
    description: `${catalog.description}\n\nThe collections below are a static snapshot; the live STAC API (with search) is at ${base}/stac.`,
  };
  await write(
    'mixed.json',
    catalogDocument(mixed, [
      { rel: 'root', href: './mixed.json', type: MEDIA.json },
      ...children,
      { rel: 'child', href: `${base}/stac`, type: MEDIA.json, title: 'Live STAC API (search, filter)' },
      { rel: 'search', href: `${base}/stac/search`, type: MEDIA.geojson, method: 'GET', title: 'Item search (live API)' },
    ]),
  );

  for (const collection of collections) {
    const itemLinks: StacLink[] = collection.members.map((m) => ({ rel: 'item', href: `./${m.id}/${m.id}.json`, type: MEDIA.geojson, title: titleOf(m) }));
    await write(`${collection.id}/collection.json`, {
      ...collection.document,
      links: linksToJson([
        { rel: 'root', href: '../catalog.json', type: MEDIA.json, title: catalog.title },
        { rel: 'parent', href: '../catalog.json', type: MEDIA.json, title: catalog.title },
        ...itemLinks,
      ]),
    });
    for (const record of collection.members) {
      await write(`${collection.id}/${record.id}/${record.id}.json`, {
        ...absoluteItem(record.item, base),
        links: linksToJson([
          { rel: 'root', href: '../../catalog.json', type: MEDIA.json, title: catalog.title },
          { rel: 'parent', href: '../collection.json', type: MEDIA.json },
          { rel: 'collection', href: '../collection.json', type: MEDIA.json },
          { rel: 'alternate', href: `${base}/datasets/${encodeURIComponent(record.id)}/stac`, type: MEDIA.geojson, title: 'Live Item' },
        ]),
      });
    }
  }
  return {
    files,
    collections: collections.length,
    items: records.length,
    problems: records.filter((r) => r.problems.length > 0).map((r) => ({ id: r.id, problems: r.problems })),
  };
}

function titleOf(record: ItemRecord): string {
  const properties = record.item.properties;
  const title = typeof properties === 'object' && properties !== null && !Array.isArray(properties) ? properties.title : undefined;
  return typeof title === 'string' ? title : record.id;
}

function isRegistry(source: DatasetRegistry | DatasetSet): source is DatasetRegistry {
  return typeof (source as DatasetRegistry).all === 'function';
}

function registrySet(registry: DatasetRegistry): DatasetSet {
  const cache = new DecodedChunkCache();
  return { datasets: registry.all(), values: (dataset) => datasetValues(dataset, registry.sources, cache), fields: registry.current.fields };
}
