import { cloneJson, isObject, type JsonObject, ownValue, setOwn } from '../../stac-model/stac-types.js';
import type { FieldsSelection } from './search-request.js';

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
 *
 * Path segments are names like any other: they only ever reach own properties of the Item (a
 * variable named `__proto__` is selected by `properties.cube:variables.__proto__`), never
 * Object.prototype, and the result is a copy (nothing of the Item is shared or changed).
 */
export function selectFields(item: JsonObject, selection: FieldsSelection): JsonObject {
  const out: JsonObject = {};
  for (const path of [...DEFAULT_FIELDS, ...selection.include]) copyPath(item, out, path.split('.'));
  for (const path of selection.exclude) deletePath(out, path.split('.'));
  return out;
}

function copyPath(source: JsonObject, target: JsonObject, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const value = ownValue(source, head);
  if (value === undefined) return;
  if (rest.length === 0) {
    setOwn(target, head, cloneJson(value));
    return;
  }
  if (!isObject(value)) return;
  const existing = ownValue(target, head);
  const child: JsonObject = isObject(existing) ? existing : {};
  setOwn(target, head, child);
  copyPath(value, child, rest);
}

function deletePath(target: JsonObject, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !Object.hasOwn(target, head)) return;
  if (rest.length === 0) {
    // An own property: `delete` never reaches a prototype here.
    delete target[head];
    return;
  }
  const child = target[head];
  if (isObject(child)) deletePath(child, rest);
}
