import { catalogDocument, collectionChildLink } from '../../stac-model/catalog-document.js';
import type { CatalogDescription, CollectionRecord } from '../../stac-model/collections.js';
import { absoluteItem, type ItemRecord } from '../../stac-model/items.js';
import { type JsonObject, linksToJson, MEDIA, type StacLink } from '../../stac-model/stac-types.js';
import { CONFORMANCE } from './conformance.js';
import { selectFields } from './fields.js';
import type { SearchPage } from './search.js';
import type { FieldsSelection } from './search-request.js';

const QUERYABLES_REL = 'http://www.opengis.net/def/rel/ogc/1.0/queryables';

/** URLs of the dynamic API for one public base URL. */
export class ApiUrls {
  constructor(readonly base: string) {}
  get root(): string {
    return `${this.base}/stac`;
  }
  collection(id: string): string {
    return `${this.root}/collections/${encodeURIComponent(id)}`;
  }
  items(collection: string): string {
    return `${this.collection(collection)}/items`;
  }
  item(collection: string, id: string): string {
    return `${this.items(collection)}/${encodeURIComponent(id)}`;
  }
}

export function landingPage(urls: ApiUrls, catalog: CatalogDescription, collections: readonly CollectionRecord[]): JsonObject {
  const links: StacLink[] = [
    { rel: 'self', href: urls.root, type: MEDIA.json, title: catalog.title },
    { rel: 'root', href: urls.root, type: MEDIA.json, title: catalog.title },
    { rel: 'service-desc', href: `${urls.root}/api`, type: MEDIA.openapi, title: 'OpenAPI description' },
    { rel: 'conformance', href: `${urls.root}/conformance`, type: MEDIA.json, title: 'Conformance classes' },
    { rel: 'data', href: `${urls.root}/collections`, type: MEDIA.json, title: 'Collections' },
    { rel: 'search', href: `${urls.root}/search`, type: MEDIA.geojson, method: 'GET', title: 'Item search' },
    { rel: 'search', href: `${urls.root}/search`, type: MEDIA.geojson, method: 'POST', title: 'Item search' },
    { rel: QUERYABLES_REL, href: `${urls.root}/queryables`, type: MEDIA.schema, title: 'Queryables' },
    ...collections.map((c) => collectionChildLink(c, urls.collection(c.id))),
  ];
  return catalogDocument(catalog, links, CONFORMANCE);
}

export function collectionDocument(urls: ApiUrls, catalog: CatalogDescription, collection: CollectionRecord): JsonObject {
  const links: StacLink[] = [
    { rel: 'self', href: urls.collection(collection.id), type: MEDIA.json },
    { rel: 'root', href: urls.root, type: MEDIA.json, title: catalog.title },
    { rel: 'parent', href: urls.root, type: MEDIA.json, title: catalog.title },
    { rel: 'items', href: urls.items(collection.id), type: MEDIA.geojson, title: 'Items' },
    { rel: QUERYABLES_REL, href: `${urls.collection(collection.id)}/queryables`, type: MEDIA.schema, title: 'Queryables' },
  ];
  return { ...collection.document, links: linksToJson(links) };
}

export function collectionsDocument(urls: ApiUrls, catalog: CatalogDescription, collections: readonly CollectionRecord[]): JsonObject {
  return {
    collections: collections.map((c) => collectionDocument(urls, catalog, c)),
    links: linksToJson([
      { rel: 'self', href: `${urls.root}/collections`, type: MEDIA.json },
      { rel: 'root', href: urls.root, type: MEDIA.json, title: catalog.title },
      { rel: 'parent', href: urls.root, type: MEDIA.json, title: catalog.title },
    ]),
  };
}

/** An Item with absolute hrefs and its API links; `self` defaults to its place in the API. */
export function itemDocument(urls: ApiUrls, catalog: CatalogDescription, record: ItemRecord, self?: string): JsonObject {
  const canonical = urls.item(record.collection, record.id);
  const links: StacLink[] = [
    { rel: 'self', href: self ?? canonical, type: MEDIA.geojson },
    ...(self && self !== canonical ? [{ rel: 'canonical', href: canonical, type: MEDIA.geojson }] : []),
    { rel: 'root', href: urls.root, type: MEDIA.json, title: catalog.title },
    { rel: 'parent', href: urls.collection(record.collection), type: MEDIA.json },
    { rel: 'collection', href: urls.collection(record.collection), type: MEDIA.json },
    { rel: 'alternate', href: `${urls.base}/datasets/${encodeURIComponent(record.id)}/`, type: MEDIA.html, title: 'Dataset page' },
    { rel: 'provenance', href: `${urls.base}/datasets/${encodeURIComponent(record.id)}/provenance`, type: MEDIA.json, title: 'Provenance (W3C PROV-JSON)' },
    ...(record.derivedFrom ? [{ rel: 'derived_from', href: urls.item(record.derivedFrom.collection, record.derivedFrom.id), type: MEDIA.geojson }] : []),
  ];
  return { ...absoluteItem(record.item, urls.base), links: linksToJson(links) };
}

export interface PageLinks {
  readonly self: string;
  /** The `next` link of a page that has a token. */
  next(token: string): StacLink;
  /** Links of the collection the page lists the items of (the items endpoint). */
  readonly collection?: string;
}

export function itemCollection(urls: ApiUrls, catalog: CatalogDescription, page: SearchPage, links: PageLinks, fields?: FieldsSelection): JsonObject {
  const features = page.items.map((record) => {
    const item = itemDocument(urls, catalog, record);
    return fields ? selectFields(item, fields) : item;
  });
  const pageLinks: StacLink[] = [
    { rel: 'self', href: links.self, type: MEDIA.geojson },
    { rel: 'root', href: urls.root, type: MEDIA.json, title: catalog.title },
    ...(links.collection
      ? [
          { rel: 'parent', href: urls.collection(links.collection), type: MEDIA.json },
          { rel: 'collection', href: urls.collection(links.collection), type: MEDIA.json },
        ]
      : []),
    ...(page.next ? [links.next(page.next)] : []),
  ];
  return {
    type: 'FeatureCollection',
    features,
    links: linksToJson(pageLinks),
    numberMatched: page.numberMatched,
    numberReturned: features.length,
  };
}

/** A GET `next` link: the request URL with `token` set (and a legacy `next` parameter dropped). */
export function getNextLink(requestUrl: string): (token: string) => StacLink {
  return (token) => {
    const url = new URL(requestUrl);
    url.searchParams.delete('next');
    url.searchParams.set('token', token);
    return { rel: 'next', href: url.toString(), type: MEDIA.geojson, method: 'GET' };
  };
}

/** A POST `next` link: the same body with `token` set. */
export function postNextLink(href: string, body: Record<string, unknown>): (token: string) => StacLink {
  return (token) => {
    const { next: _legacy, ...rest } = body;
    return { rel: 'next', href, type: MEDIA.geojson, method: 'POST', body: { ...rest, token } as JsonObject, merge: false };
  };
}
