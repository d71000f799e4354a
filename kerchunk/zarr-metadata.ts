import type { JsonValue } from './reference.js';

/** A Zarr v2 `.zarray` document, checked. */
export interface ZarrArrayMetadata {
  readonly zarr_format: 2;
  readonly shape: readonly number[];
  readonly chunks: readonly number[];
  readonly dtype: string | JsonValue[];
  readonly compressor: { readonly id: string; readonly [option: string]: JsonValue } | null;
  readonly filters: ReadonlyArray<{ readonly id: string; readonly [option: string]: JsonValue }> | null;
  readonly fill_value: JsonValue;
  readonly order: 'C' | 'F';
  readonly dimension_separator?: '.' | '/';
}

/** Why a `.zarray` document is unusable, or undefined when it is sane. */
export function zarrayProblem(document: JsonValue | undefined): string | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return 'is not a JSON object';
  const { shape, chunks, dtype, order, compressor, filters, dimension_separator: separator } = document;
  if (document.zarr_format !== 2) return `has zarr_format ${JSON.stringify(document.zarr_format)}, expected 2`;
  if (!Array.isArray(shape) || !shape.every(isCount)) return 'needs "shape": a list of non-negative integers';
  if (!Array.isArray(chunks) || !chunks.every((n) => isCount(n) && (n as number) > 0)) return 'needs "chunks": a list of positive integers';
  if (chunks.length !== shape.length && !(shape.length === 0 && chunks.length <= 1)) {
    return `has ${chunks.length} chunk lengths for ${shape.length} dimensions`;
  }
  if (typeof dtype !== 'string' && !Array.isArray(dtype)) return 'needs "dtype"';
  if (order !== undefined && order !== 'C' && order !== 'F') return `has order ${JSON.stringify(order)}`;
  if (compressor !== null && compressor !== undefined && !isCodec(compressor)) return 'has a compressor without "id"';
  if (filters !== null && filters !== undefined && (!Array.isArray(filters) || !filters.every(isCodec))) return 'has filters without "id"';
  if (separator !== undefined && separator !== '.' && separator !== '/') return `has dimension_separator ${JSON.stringify(separator)}`;
  return undefined;
}

/** Checks every `.zarray` of a store's metadata; the problem names the array. */
export function zarrMetadataProblem(metadata: ReadonlyMap<string, JsonValue>): string | undefined {
  for (const [key, document] of metadata) {
    if (!key.endsWith('.zarray')) continue;
    const problem = zarrayProblem(document);
    if (problem) return `"${key}" ${problem}`;
  }
  return undefined;
}

/** The checked `.zarray` of an array path, or undefined when the store has none. */
export function arrayMetadata(metadata: ReadonlyMap<string, JsonValue>, array: string): ZarrArrayMetadata | undefined {
  const document = metadata.get(`${array}/.zarray`);
  if (document === undefined || zarrayProblem(document)) return undefined;
  return document as unknown as ZarrArrayMetadata;
}

/** Array paths of a store ('tas', 'group/var'), in metadata order. */
export function arrayPaths(metadata: ReadonlyMap<string, JsonValue>): string[] {
  const paths: string[] = [];
  for (const key of metadata.keys()) {
    if (key.endsWith('/.zarray')) paths.push(key.slice(0, -'/.zarray'.length));
    else if (key === '.zarray') paths.push('');
  }
  return paths;
}

/**
 * Sets `object[key]` as an own enumerable property, also for `__proto__` (plain assignment would
 * change the object's prototype instead and the key would vanish from the JSON). Names of
 * variables, dimensions and attributes come from files, and `__proto__`, `constructor` or
 * `prototype` are legal NetCDF names.
 */
export function setOwn<T>(object: { [key: string]: T }, key: string, value: T): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `object[key]` when `key` is the object's own property: never an inherited member such as `constructor`. */
export function getOwn<T>(object: { readonly [key: string]: T }, key: string): T | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isCodec(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}
