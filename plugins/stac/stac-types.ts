import type { JsonValue } from '../../kerchunk/reference.js';

export const STAC_VERSION = '1.0.0';
export const DATACUBE_EXTENSION = 'https://stac-extensions.github.io/datacube/v2.2.0/schema.json';
export const XARRAY_EXTENSION = 'https://stac-extensions.github.io/xarray-assets/v1.0.0/schema.json';
/** Collection of datasets whose catalog entry names none (`stac: {collection: ...}`). */
export const DEFAULT_COLLECTION = 'strato';

export type JsonObject = { [key: string]: JsonValue };

export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
  method?: string;
  body?: JsonValue;
  merge?: boolean;
}

/** A STAC document as JSON (Items, Collections, Catalogs): plain objects that serialize as they are. */
export type StacDocument = JsonObject;

export const MEDIA = {
  json: 'application/json',
  geojson: 'application/geo+json',
  zarr: 'application/vnd+zarr',
  yaml: 'application/yaml',
  html: 'text/html',
  openapi: 'application/vnd.oai.openapi+json;version=3.0',
  schema: 'application/schema+json',
} as const;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function linksToJson(links: readonly StacLink[]): JsonValue[] {
  return links.map((link) => ({ ...link }) as JsonObject);
}
