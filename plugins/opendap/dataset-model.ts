import type { DatasetSchema, VariableSchema } from '../../catalog/dataset-schema.js';
import type { ArrayValues, DatasetValues } from '../../kerchunk/array-values.js';
import { AttributeJsonError, type AttributeValue, parseAttributes } from './attribute-json.js';
import { type DapAttributeType, type DapNumericType, fitsType, isIntegerType, looksLikeFloat32, servedType } from './dap-types.js';

export interface DapDimension {
  readonly name: string;
  readonly size: number;
}

/** One array as DAP serves it: its type on the wire and where its values come from. */
export interface DapArray {
  readonly name: string;
  readonly type: DapNumericType;
  readonly dims: readonly DapDimension[];
  readonly values: ArrayValues;
}

export interface DapAttribute {
  readonly name: string;
  readonly type: DapAttributeType;
  /** Numbers for numeric types, strings for String. */
  readonly values: readonly (number | string)[];
}

/** A top-level DDS variable: an Array, or a Grid when every dimension has a 1-D coordinate variable. */
export interface DapVariable extends DapArray {
  /** The Grid's maps, one per dimension, in dimension order; undefined for a plain Array. */
  readonly maps: readonly DapArray[] | undefined;
  readonly attributes: readonly DapAttribute[];
}

export interface DapDataset {
  readonly name: string;
  readonly variables: readonly DapVariable[];
  readonly globalAttributes: readonly DapAttribute[];
  /** Variables DAP2 cannot carry (strings, complex, datetime), with the reason. */
  readonly leftOut: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

export interface DapDatasetSource {
  readonly name: string;
  readonly schema: DatasetSchema;
  readonly values: DatasetValues;
  /** JSON text of the metadata documents (`.zattrs`, `v/.zattrs`), for the int/float form of numbers. */
  readonly metadataText: ReadonlyMap<string, string>;
}

/** netCDF's default fill of float and double: clients treat it as missing with or without the attribute. */
const NC_FILL_FLOAT64 = 9.969209968386869e36;

/** Attributes CF requires to have the variable's own type (the packed type when packed). */
const VARIABLE_TYPED = new Set(['_FillValue', 'missing_value', 'valid_min', 'valid_max', 'valid_range', 'flag_values', 'flag_masks']);

/** Attributes that never reach the DAS: Zarr/xarray bookkeeping. */
const HIDDEN = new Set(['_ARRAY_DIMENSIONS']);

/**
 * The DAP view of a dataset's root group: each numeric variable an Array or a Grid, attributes
 * typed (numbers keep their int/float form from the JSON text; CF's variable-typed attributes get
 * the variable's type), `_FillValue` from the Zarr fill value.
 */
export function dapDataset(source: DapDatasetSource): DapDataset {
  const leftOut: Array<{ name: string; reason: string }> = [];
  const arrays = new Map<string, { schema: VariableSchema; array: DapArray; signedByte: boolean; conversion?: string }>();
  for (const schema of source.schema.variables) {
    const served = servedType(schema.dtype);
    const values = served ? source.values.array(schema.name) : undefined;
    if (!served || !values) {
      const reason = served ? `no decoded values for dtype ${schema.dtype}` : `dtype ${schema.dtype} has no DAP2 type`;
      leftOut.push({ name: schema.name, reason });
      continue;
    }
    const dims = schema.dims.map((name, i) => ({ name, size: schema.shape[i] ?? 0 }));
    arrays.set(schema.name, {
      schema,
      array: { name: schema.name, type: served.type, dims, values },
      signedByte: served.signedByte === true,
      ...(served.conversion ? { conversion: served.conversion } : {}),
    });
  }
  const isCoordinateVariable = (name: string) => {
    const entry = arrays.get(name);
    return entry !== undefined && entry.array.dims.length === 1 && entry.array.dims[0]?.name === name;
  };
  const variables: DapVariable[] = [];
  for (const { schema, array, signedByte, conversion } of arrays.values()) {
    const gridded = array.dims.length > 0 && !isCoordinateVariable(array.name) && array.dims.every((d) => isCoordinateVariable(d.name));
    const maps = gridded ? array.dims.map((d) => (arrays.get(d.name) as { array: DapArray }).array) : undefined;
    const attrs = attributesOf(source.metadataText.get(`${schema.name}/.zattrs`));
    const attributes = variableAttributes(attrs, array, signedByte);
    if (conversion) attributes.push({ name: 'strato_dap_conversion', type: 'String', values: [conversion] });
    // netCDF-C reads DAP Byte/UInt16/UInt32 as signed byte/short/int; `_Unsigned` tells netCDF4-python and xarray.
    if (/^[<>|=]?u[124]$/.test(schema.dtype) && !attributes.some((a) => a.name === '_Unsigned')) {
      attributes.push({ name: '_Unsigned', type: 'String', values: ['true'] });
    }
    variables.push({ ...array, maps, attributes });
  }
  const globalAttributes = attributesOf(source.metadataText.get('.zattrs'))
    .map(([name, value]) => typedAttribute(name, value, undefined))
    .filter((a): a is DapAttribute => a !== undefined);
  return { name: source.name, variables, globalAttributes, leftOut };
}

function attributesOf(text: string | undefined): Array<[string, AttributeValue]> {
  if (!text) return [];
  try {
    return parseAttributes(text).filter(([name]) => !HIDDEN.has(name));
  } catch (error) {
    if (error instanceof AttributeJsonError) return [];
    throw error;
  }
}

function variableAttributes(attrs: Array<[string, AttributeValue]>, array: DapArray, signedByte: boolean): DapAttribute[] {
  const attributes: DapAttribute[] = [];
  for (const [name, value] of attrs) {
    const typed = typedAttribute(name, value, array.type);
    if (typed) attributes.push(signedByte ? asByteBits(typed) : typed);
  }
  matchPackingTypes(attributes);
  if (!attrs.some(([name]) => name === '_FillValue')) {
    const fill = fillAttribute(array);
    if (fill) attributes.unshift(signedByte ? asByteBits(fill) : fill);
  }
  return attributes;
}

/**
 * CF gives scale_factor and add_offset one type. When one of them reads as float32 (1e-06 written
 * from a float32) and the other could be either (0.0), both are Float32.
 */
function matchPackingTypes(attributes: DapAttribute[]): void {
  const scale = attributes.findIndex((a) => a.name === 'scale_factor');
  const offset = attributes.findIndex((a) => a.name === 'add_offset');
  if (scale < 0 || offset < 0) return;
  const [a, b] = [attributes[scale] as DapAttribute, attributes[offset] as DapAttribute];
  const fits = (x: DapAttribute) => x.values.every((v) => typeof v === 'number' && fitsType(v, 'Float32'));
  if (a.type === 'Float32' && b.type === 'Float64' && fits(b)) attributes[offset] = { ...b, type: 'Float32' };
  if (b.type === 'Float32' && a.type === 'Float64' && fits(a)) attributes[scale] = { ...a, type: 'Float32' };
}

/** `_FillValue` from the Zarr fill value, typed as the variable; none for netCDF's float default. */
function fillAttribute(array: DapArray): DapAttribute | undefined {
  const raw = array.values.fillValue;
  if (raw === undefined) return undefined;
  const fill = typeof raw === 'bigint' ? Number(raw) : raw;
  if (!isIntegerType(array.type) && fill === NC_FILL_FLOAT64) return undefined;
  if (!fitsType(fill, array.type) && !(array.type === 'Byte' && fill >= -128 && fill < 0)) return undefined;
  return { name: '_FillValue', type: array.type, values: [fill] };
}

/** Signed-byte attribute values as the bits DAP's unsigned Byte carries (-1 → 255). */
function asByteBits(attribute: DapAttribute): DapAttribute {
  if (attribute.type !== 'Byte') return attribute;
  return { ...attribute, values: attribute.values.map((v) => (typeof v === 'number' && v < 0 ? v + 256 : v)) };
}

/** A DAS attribute from a JSON value; undefined for nulls and empty lists (netCDF has no such attribute). */
export function typedAttribute(name: string, value: AttributeValue, variableType: DapNumericType | undefined): DapAttribute | undefined {
  const items = value.kind === 'list' ? value.items : [value];
  if (items.length === 0 || items.some((item) => item.kind === 'null')) return undefined;
  if (items.every((item) => item.kind === 'string')) {
    return { name, type: 'String', values: items.map((item) => (item as { value: string }).value) };
  }
  if (items.every((item) => item.kind === 'bool')) {
    return { name, type: 'Byte', values: items.map((item) => ((item as { value: boolean }).value ? 1 : 0)) };
  }
  if (!items.every((item) => item.kind === 'number')) {
    return { name, type: 'String', values: [value.kind === 'object' ? value.text : JSON.stringify(plain(value))] };
  }
  const numbers = items as ReadonlyArray<{ value: number; float: boolean }>;
  const values = numbers.map((n) => n.value);
  const anyFloat = numbers.some((n) => n.float);
  if (variableType && VARIABLE_TYPED.has(name)) {
    const fits = (t: DapNumericType) => values.every((v) => fitsType(v, t) || (t === 'Byte' && Number.isInteger(v) && v >= -128 && v < 0));
    if (isIntegerType(variableType) ? !anyFloat && fits(variableType) : fits(variableType)) {
      return { name, type: variableType, values };
    }
  }
  if (!anyFloat && values.every((v) => fitsType(v, 'Int32'))) return { name, type: 'Int32', values };
  if (anyFloat && values.every(looksLikeFloat32)) return { name, type: 'Float32', values };
  return { name, type: 'Float64', values };
}

function plain(value: AttributeValue): unknown {
  switch (value.kind) {
    case 'list':
      return value.items.map(plain);
    case 'null':
      return null;
    case 'object':
      return JSON.parse(value.text) as unknown;
    default:
      return value.value;
  }
}
