import type { CatalogDescription, CollectionRecord } from './collections.js';
import { type JsonObject, linksToJson, MEDIA, STAC_VERSION, type StacLink } from './stac-types.js';

/**
 * A STAC Catalog document: the API's landing page and the static tree's roots are all this one
 * shape, differing only in their links (and the API's `conformsTo`).
 */
export function catalogDocument(catalog: CatalogDescription, links: readonly StacLink[], conformsTo?: readonly string[]): JsonObject {
  return {
    type: 'Catalog',
    stac_version: STAC_VERSION,
    stac_extensions: [],
    id: catalog.id,
    title: catalog.title,
    description: catalog.description,
    ...(conformsTo ? { conformsTo: [...conformsTo] } : {}),
    links: linksToJson(links),
  };
}

/** The `child` link of a catalog to one of its collections, titled like the collection. */
export function collectionChildLink(collection: CollectionRecord, href: string): StacLink {
  return { rel: 'child', href, type: MEDIA.json, title: String(collection.document.title ?? collection.id) };
}
