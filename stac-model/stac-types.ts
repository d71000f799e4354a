import type { JsonValue } from '../kerchunk/reference.js';

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

/**
 * Names that come from requests (fields, sortby, CQL2) or from files (variables, dimensions,
 * attributes) are plain keys: `__proto__`, `constructor` and `prototype` work like any other name.
 * Reading goes through `ownValue` (never a property inherited from Object.prototype), writing
 * through `setOwn` (an own data property, even for `__proto__`, where `object[name] = value` would
 * replace the object's prototype instead).
 */
export function ownValue(object: JsonObject, name: string): JsonValue | undefined {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

/** Sets an own, enumerable data property (what JSON.parse makes), for any name. */
export function setOwn(object: JsonObject, name: string, value: JsonValue): void {
  Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
}

/** An object of the given entries, each an own data property (`Object.fromEntries` semantics, typed). */
export function objectOf(entries: Iterable<readonly [string, JsonValue]>): JsonObject {
  const out: JsonObject = {};
  for (const [name, value] of entries) setOwn(out, name, value);
  return out;
}

/** A deep copy of a JSON value; object keys (also `__proto__`) stay own data properties. */
export function cloneJson(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(cloneJson);
  if (isObject(value)) return objectOf(Object.entries(value).map(([name, child]) => [name, cloneJson(child)] as const));
  return value;
}

export function linksToJson(links: readonly StacLink[]): JsonValue[] {
  return links.map((link) => ({ ...link }) as JsonObject);
}
