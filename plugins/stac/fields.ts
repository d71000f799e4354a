import type { JsonValue } from '../../kerchunk/reference.js';
import type { FieldsSelection } from './search-request.js';
import { isObject, type JsonObject } from './stac-types.js';

/**
 * The fields every selection keeps unless excluded (the fields extension's default set, plus what
 * keeps the Item valid STAC: version, extensions, collection and the time range).
 */
export const DEFAULT_FIELDS: readonly string[] = [
  'type',
  'stac_version',
  'stac_extensions',
  'id',
  'collection',
  'geometry',
  'bbox',
  'links',
  'assets',
  'properties.datetime',
  'properties.start_datetime',
  'properties.end_datetime',
];

/**
 * The fields extension: the default set plus `include`, minus `exclude` (dotted paths into nested
 * objects: `properties.title`); an excluded field stays out even when it is also included.
 */
export function selectFields(item: JsonObject, selection: FieldsSelection): JsonObject {
  const out: JsonObject = {};
  for (const path of [...DEFAULT_FIELDS, ...selection.include]) copyPath(item, out, path.split('.'));
  for (const path of selection.exclude) deletePath(out, path.split('.'));
  return out;
}

function copyPath(source: JsonObject, target: JsonObject, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !(head in source)) return;
  const value = source[head] as JsonValue;
  if (rest.length === 0) {
    target[head] = structuredClone(value);
    return;
  }
  if (!isObject(value)) return;
  const existing = target[head];
  const child: JsonObject = isObject(existing) ? existing : {};
  target[head] = child;
  copyPath(value, child, rest);
}

function deletePath(target: JsonObject, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !(head in target)) return;
  if (rest.length === 0) {
    delete target[head];
    return;
  }
  const child = target[head];
  if (isObject(child)) deletePath(child, rest);
}
