import type { Dataset } from '../catalog/dataset.js';
import { type DatasetSchema, schemaOf } from '../catalog/dataset-schema.js';
import { text } from '../cf/attributes.js';
import type { DatasetValues } from '../kerchunk/array-values.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { describeDatacube } from './datacube.js';
import { type Bbox, bboxGeometry } from './geometry.js';
import { describeKeepbits } from './lossy.js';
import { DATACUBE_EXTENSION, DEFAULT_COLLECTION, isObject, type JsonObject, MEDIA, objectOf, STAC_VERSION, XARRAY_EXTENSION } from './stac-types.js';

/**
 * One dataset's STAC Item without links, its hrefs server-relative ("/datasets/ID/kerchunk"),
 * plus what search needs of it. `absoluteItem` turns the hrefs into absolute URLs.
 */
export interface ItemRecord {
  readonly id: string;
  readonly collection: string;
  readonly item: JsonObject;
  readonly bbox?: Bbox;
  /** Temporal extent in milliseconds since 1970 (both set, or neither). */
  readonly start?: number;
  readonly end?: number;
  /** Coordinates that could not be read: the Item lacks their extents. */
  readonly problems: readonly string[];
  /** The Item a derived dataset (`derive:`) is computed from: its `derived_from` link. */
  readonly derivedFrom?: { readonly id: string; readonly collection: string };
}

/** The views an Item links to as assets. */
export type AssetView = 'kerchunk' | 'zarr' | 'intake';
export const ALL_VIEWS: ReadonlySet<AssetView> = new Set(['kerchunk', 'zarr', 'intake']);

export interface ItemOptions {
  readonly views?: ReadonlySet<AssetView>;
  readonly signal?: AbortSignal;
  /** The time used as `datetime` of a dataset without any time information (default: now). */
  readonly now?: () => Date;
  /**
   * The mantissa bits each bit-rounded array keeps in the processed view (read from that view's
   * metadata): labels the `zarr` asset as lossy (`description`, `strato:keepbits`).
   */
  readonly keepbits?: (dataset: Dataset) => Promise<ReadonlyMap<string, number> | undefined>;
}

/** The STAC collection a catalog entry belongs to (`stac: {collection: ID}`), default `strato`. */
export function collectionOf(dataset: Dataset): string {
  const stac = dataset.entry.stac;
  const named = isObject(stac) ? stac.collection : undefined;
  return typeof named === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(named) ? named : DEFAULT_COLLECTION;
}

/**
 * The Item of one dataset: datacube extension (dimensions with extents read from the coordinate
 * values, variables), xarray-assets (`xarray:open_kwargs`), geometry and bbox from lat/lon,
 * `start_datetime`/`end_datetime` from time, title/description/license/providers/keywords from
 * the catalog entry.
 */
export async function buildItem(dataset: Dataset, reader: DatasetValues, options: ItemOptions = {}): Promise<ItemRecord> {
  const schema = schemaOf(dataset);
  const cube = await describeDatacube(schema, reader, options.signal);
  const collection = collectionOf(dataset);
  const properties: JsonObject = {
    ...describeEntry(dataset, schema),
    ...temporalProperties(cube.start, cube.end, schema, options.now),
    'cube:dimensions': cube.dimensions,
    'cube:variables': cube.variables,
  };
  const item: JsonObject = {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: [DATACUBE_EXTENSION, XARRAY_EXTENSION],
    id: dataset.id,
    collection,
    geometry: cube.bbox ? (bboxGeometry(cube.bbox) as unknown as JsonValue) : null,
    ...(cube.bbox ? { bbox: [...cube.bbox] } : {}),
    properties,
    links: [],
    assets: assets(dataset, options.views ?? ALL_VIEWS, options.keepbits ? await options.keepbits(dataset) : undefined),
  };
  const start = Date.parse(String(properties.start_datetime ?? properties.datetime));
  const end = Date.parse(String(properties.end_datetime ?? properties.datetime));
  const derivedFrom = derivedFromOf(dataset);
  return {
    id: dataset.id,
    collection,
    item,
    ...(cube.bbox ? { bbox: cube.bbox } : {}),
    ...(Number.isFinite(start) && Number.isFinite(end) ? { start, end } : {}),
    problems: cube.problems,
    ...(derivedFrom ? { derivedFrom } : {}),
  };
}

/** The source of a derived dataset (derive/derived-dataset.ts sets `derivedFrom`). */
function derivedFromOf(dataset: Dataset): { id: string; collection: string } | undefined {
  const source = (dataset as { readonly derivedFrom?: Dataset }).derivedFrom;
  return dataset.entry.derive && source ? { id: source.id, collection: collectionOf(source) } : undefined;
}

function describeEntry(dataset: Dataset, schema: DatasetSchema): JsonObject {
  const { entry } = dataset;
  const stac = isObject(entry.stac) ? entry.stac : {};
  const title = entry.title ?? text(schema.attrs, 'title');
  const description = entry.description ?? text(schema.attrs, 'summary') ?? text(schema.attrs, 'description');
  const keywords = stringList(stac.keywords);
  const providers = providerList(stac.providers ?? entry.fields.providers);
  return {
    ...(title ? { title } : {}),
    ...(description ? { description } : {}),
    ...(entry.license ? { license: entry.license } : {}),
    ...(keywords.length > 0 ? { keywords } : {}),
    ...(providers.length > 0 ? { providers } : {}),
  };
}

function temporalProperties(start: string | undefined, end: string | undefined, schema: DatasetSchema, now: () => Date = () => new Date()): JsonObject {
  if (start && end) return { datetime: null, start_datetime: start, end_datetime: end };
  // STAC needs a time: a dataset without any says when it was made, or failing that, when it was described.
  for (const name of ['date_created', 'creation_date', 'date_modified']) {
    const value = text(schema.attrs, name);
    const ms = value ? Date.parse(value) : NaN;
    if (Number.isFinite(ms)) return { datetime: rfc3339(ms) };
  }
  return { datetime: rfc3339(now().getTime()) };
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function stringList(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : [];
}

const PROVIDER_ROLES = new Set(['licensor', 'producer', 'processor', 'host']);

/** STAC providers from the catalog entry: `{name, description?, roles?, url?}` each. */
function providerList(value: JsonValue | undefined): JsonObject[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((provider): JsonObject[] => {
    if (!isObject(provider) || typeof provider.name !== 'string') return [];
    const roles = stringList(provider.roles).filter((role) => PROVIDER_ROLES.has(role));
    return [
      {
        name: provider.name,
        ...(typeof provider.description === 'string' ? { description: provider.description } : {}),
        ...(roles.length > 0 ? { roles } : {}),
        ...(typeof provider.url === 'string' ? { url: provider.url } : {}),
      },
    ];
  });
}

const ZARR_OPEN_KWARGS: JsonObject = { engine: 'zarr', consolidated: true };

function assets(dataset: Dataset, views: ReadonlySet<AssetView>, keepbits: ReadonlyMap<string, number> | undefined): JsonObject {
  const base = `/datasets/${dataset.id}`;
  const out: JsonObject = {};
  if (views.has('kerchunk')) {
    out.kerchunk = {
      href: `${base}/kerchunk`,
      type: MEDIA.zarr,
      title: 'Zarr v2 store, raw view (chunks as the source files store them)',
      roles: ['data'],
      'xarray:open_kwargs': { ...ZARR_OPEN_KWARGS },
    };
  }
  if (views.has('zarr')) {
    out.zarr = {
      href: `${base}/zarr`,
      type: MEDIA.zarr,
      title: "Zarr v2 store, processed view (the catalog entry's processing applied)",
      ...(keepbits ? { description: describeKeepbits(keepbits), 'strato:keepbits': objectOf(keepbits) } : {}),
      roles: ['data'],
      'xarray:open_kwargs': { ...ZARR_OPEN_KWARGS },
    };
  }
  const location = dataset.entry.refsLocation;
  if (/^(https?|s3):\/\//i.test(location)) {
    // Reference tables on the local disk of the server are not published (their paths mean nothing elsewhere).
    out.references = {
      href: location,
      type: /\.json$/i.test(location) ? MEDIA.json : 'application/vnd.apache.parquet',
      title: 'kerchunk reference table',
      roles: ['references', 'metadata'],
    };
  }
  if (views.has('intake')) {
    out.intake = {
      href: `${base}/catalog.yaml`,
      type: MEDIA.yaml,
      title: 'intake catalog (sources with driver zarr need intake-xarray; the *_arrays sources open with intake alone)',
      roles: ['metadata'],
    };
  }
  return out;
}

/** A copy of an Item with server-relative hrefs ("/datasets/...") made absolute against `base` (no trailing slash). */
export function absoluteItem(item: JsonObject, base: string): JsonObject {
  const assetsIn = isObject(item.assets) ? item.assets : {};
  const assetsOut = objectOf(
    Object.entries(assetsIn).map(([key, asset]) => [
      key,
      isObject(asset) && typeof asset.href === 'string' && asset.href.startsWith('/') ? { ...asset, href: `${base}${asset.href}` } : asset,
    ]),
  );
  return { ...item, assets: assetsOut };
}
