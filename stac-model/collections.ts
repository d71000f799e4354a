import type { JsonValue } from '../kerchunk/reference.js';
import type { Bbox } from './geometry.js';
import { type ItemRecord, rfc3339 } from './items.js';
import { unionOfSpans } from './longitude.js';
import { DEFAULT_COLLECTION, isObject, type JsonObject, ownValue, STAC_VERSION } from './stac-types.js';

/** One collection: its members (in id order) and its document without links. */
export interface CollectionRecord {
  readonly id: string;
  readonly members: readonly ItemRecord[];
  readonly document: JsonObject;
}

/** Title and description of the whole STAC catalog, from the catalog file's top-level `stac:` section. */
export interface CatalogDescription {
  readonly id: string;
  readonly title: string;
  readonly description: string;
}

/** The catalog file's `stac:` section: `{title, description, collections: {ID: {title, description, license, keywords, providers}}}`. */
export function catalogDescription(fields: Readonly<Record<string, JsonValue>>): CatalogDescription {
  const stac = isObject(fields.stac) ? fields.stac : {};
  const title = typeof stac.title === 'string' ? stac.title : typeof fields.title === 'string' ? fields.title : 'strato';
  const description =
    typeof stac.description === 'string'
      ? stac.description
      : typeof fields.description === 'string'
        ? fields.description
        : 'NetCDF4/HDF5 archives served as cloud-native Zarr through kerchunk references.';
  return { id: typeof stac.id === 'string' ? stac.id : 'strato', title, description };
}

function collectionSettings(fields: Readonly<Record<string, JsonValue>>, id: string): JsonObject {
  const stac = isObject(fields.stac) ? fields.stac : {};
  const collections = isObject(stac.collections) ? stac.collections : {};
  const settings = ownValue(collections, id);
  return isObject(settings) ? settings : {};
}

/** Groups Items into collections (by their `collection`), with extents as the union of the members'. */
export function buildCollections(records: readonly ItemRecord[], fields: Readonly<Record<string, JsonValue>> = {}): CollectionRecord[] {
  const groups = new Map<string, ItemRecord[]>();
  for (const record of records) {
    const group = groups.get(record.collection) ?? [];
    group.push(record);
    groups.set(record.collection, group);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, members]) => {
      const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return { id, members: sorted, document: collectionDocument(id, sorted, collectionSettings(fields, id)) };
    });
}

function collectionDocument(id: string, members: readonly ItemRecord[], settings: JsonObject): JsonObject {
  const properties = members.map((m) => (isObject(m.item.properties) ? m.item.properties : {}));
  const licenses = new Set(properties.map((p) => p.license).filter((l): l is string => typeof l === 'string'));
  const license = typeof settings.license === 'string' ? settings.license : licenses.size === 1 ? ([...licenses][0] as string) : licenses.size > 1 ? 'various' : 'proprietary';
  const keywords = new Set<string>();
  for (const p of properties) if (Array.isArray(p.keywords)) for (const k of p.keywords) if (typeof k === 'string') keywords.add(k);
  if (Array.isArray(settings.keywords)) for (const k of settings.keywords) if (typeof k === 'string') keywords.add(k);
  const providers = Array.isArray(settings.providers) ? settings.providers : uniqueProviders(properties);
  const title = typeof settings.title === 'string' ? settings.title : id === DEFAULT_COLLECTION ? 'strato datasets' : id;
  const description =
    typeof settings.description === 'string'
      ? settings.description
      : `${members.length} dataset${members.length === 1 ? '' : 's'} served as Zarr (raw and processed views) from kerchunk references.`;
  return {
    type: 'Collection',
    stac_version: STAC_VERSION,
    stac_extensions: [],
    id,
    title,
    description,
    license,
    ...(keywords.size > 0 ? { keywords: [...keywords] } : {}),
    ...(providers.length > 0 ? { providers } : {}),
    extent: {
      spatial: { bbox: [[...(unionBbox(members.flatMap((m) => (m.bbox ? [m.bbox] : []))) ?? [-180, -90, 180, 90])]] },
      temporal: { interval: [temporalUnion(members)] },
    },
    links: [],
  };
}

function uniqueProviders(properties: readonly JsonObject[]): JsonValue[] {
  const seen = new Map<string, JsonValue>();
  for (const p of properties) {
    if (!Array.isArray(p.providers)) continue;
    for (const provider of p.providers) seen.set(JSON.stringify(provider), provider);
  }
  return [...seen.values()];
}

/** The smallest bbox covering every bbox (antimeridian-aware), or undefined when there is none. */
export function unionBbox(bboxes: readonly Bbox[]): Bbox | undefined {
  const span = unionOfSpans(bboxes.map(([west, , east]) => ({ west, east })));
  if (!span) return undefined;
  const south = Math.min(...bboxes.map((b) => b[1]));
  const north = Math.max(...bboxes.map((b) => b[3]));
  return [span.west, south, span.east, north];
}

function temporalUnion(members: readonly ItemRecord[]): [string | null, string | null] {
  let start = Infinity;
  let end = -Infinity;
  for (const m of members) {
    if (m.start !== undefined && m.start < start) start = m.start;
    if (m.end !== undefined && m.end > end) end = m.end;
  }
  return [Number.isFinite(start) ? rfc3339(start) : null, Number.isFinite(end) ? rfc3339(end) : null];
}
