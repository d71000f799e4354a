import type { JsonValue } from '../kerchunk/reference.js';
import { arrayMetadata, arrayPaths, getOwn, setOwn } from '../kerchunk/zarr-metadata.js';

/** One variable of a dataset as xarray sees it at the root group. */
export interface VariableSchema {
  readonly name: string;
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly chunks: readonly number[];
  /** Zarr dtype as stored ('<f4'). */
  readonly dtype: string;
  /** numpy's name of the stored dtype ('float32'). */
  readonly dtypeName: string;
  readonly fillValue: JsonValue;
  /** Attributes without `_ARRAY_DIMENSIONS`. */
  readonly attrs: Readonly<Record<string, JsonValue>>;
  /** A coordinate: named like a dimension, or listed in another variable's `coordinates`. */
  readonly isCoordinate: boolean;
}

export interface DatasetSchema {
  readonly dims: Readonly<Record<string, number>>;
  readonly variables: readonly VariableSchema[];
  readonly attrs: Readonly<Record<string, JsonValue>>;
}

/**
 * The schema of the root group of a Zarr v2 store, in the way xarray's zarr backend reads it.
 * Names from the store (`__proto__`, `constructor` are legal NetCDF names) are own keys of `dims`
 * and `attrs`, never looked up through the prototype.
 */
export function datasetSchema(metadata: ReadonlyMap<string, JsonValue>): DatasetSchema {
  const dims: Record<string, number> = {};
  const partial: Array<Omit<VariableSchema, 'isCoordinate'>> = [];
  for (const name of arrayPaths(metadata)) {
    if (name === '' || name.includes('/')) continue;
    const zarray = arrayMetadata(metadata, name);
    if (!zarray) continue;
    const attrs = objectOf(metadata.get(`${name}/.zattrs`));
    const listed = getOwn(attrs, '_ARRAY_DIMENSIONS');
    const names = Array.isArray(listed) && listed.length === zarray.shape.length ? listed.map(String) : zarray.shape.map((_, i) => `dim_${i}`);
    names.forEach((dim, i) => {
      setOwn(dims, dim, zarray.shape[i] as number);
    });
    const { _ARRAY_DIMENSIONS: _, ...rest } = attrs;
    const dtype = typeof zarray.dtype === 'string' ? zarray.dtype : JSON.stringify(zarray.dtype);
    partial.push({
      name,
      dims: names,
      shape: zarray.shape,
      chunks: zarray.chunks,
      dtype,
      dtypeName: numpyDtypeName(dtype),
      fillValue: zarray.fill_value,
      attrs: rest,
    });
  }
  const listedCoordinates = new Set<string>();
  for (const variable of partial) {
    const coordinates = getOwn(variable.attrs, 'coordinates');
    if (typeof coordinates === 'string') for (const name of coordinates.split(/\s+/)) if (name) listedCoordinates.add(name);
  }
  const variables = partial.map((variable) => ({
    ...variable,
    isCoordinate: (variable.dims.length === 1 && variable.dims[0] === variable.name) || listedCoordinates.has(variable.name),
  }));
  return { dims, variables, attrs: objectOf(metadata.get('.zattrs')) };
}

const schemas = new WeakMap<object, DatasetSchema>();

/**
 * The schema of an opened dataset, computed once per dataset object: a reload opens a new object,
 * so a stale schema is never served. Plugins share this memo instead of recomputing it.
 */
export function schemaOf(dataset: { readonly references: { readonly metadata: ReadonlyMap<string, JsonValue> } }): DatasetSchema {
  let schema = schemas.get(dataset);
  if (!schema) {
    schema = datasetSchema(dataset.references.metadata);
    schemas.set(dataset, schema);
  }
  return schema;
}

const KIND_NAMES: Record<string, string> = { f: 'float', i: 'int', u: 'uint', c: 'complex' };

/** numpy's name for a Zarr v2 dtype string: '<f4' → 'float32', '|S8' → 'bytes64', '<M8[ns]' → 'datetime64[ns]'. */
export function numpyDtypeName(dtype: string): string {
  const match = /^[<>|=]?([a-zA-Z])(\d*)(\[.*\])?$/.exec(dtype);
  if (!match) return dtype;
  const [, kind = '', size = '', unit = ''] = match;
  const bytes = Number(size);
  if (kind === 'b') return 'bool';
  if (kind in KIND_NAMES) return `${KIND_NAMES[kind]}${bytes * 8}`;
  if (kind === 'S') return `bytes${bytes * 8}`;
  if (kind === 'U') return `str${bytes * 32}`;
  if (kind === 'M') return `datetime64${unit}`;
  if (kind === 'm') return `timedelta64${unit}`;
  if (kind === 'O') return 'object';
  return dtype;
}

function objectOf(value: JsonValue | undefined): Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}
