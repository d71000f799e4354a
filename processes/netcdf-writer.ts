import h5wasm from 'h5wasm/node';
import type { NumericArray } from '../kerchunk/array-values.js';
import type { JsonValue } from '../kerchunk/reference.js';

/** One variable of a NetCDF file to write: values in C order as stored (packed values stay packed). */
export interface NcVariable {
  readonly name: string;
  readonly dims: readonly string[];
  /** Zarr dtype ('<f4', '<i2', '|u1'). */
  readonly dtype: string;
  readonly data: NumericArray;
  /** CF attributes as in the source (`_FillValue` is written with the variable's type). */
  readonly attrs: Readonly<Record<string, JsonValue>>;
  /** Chunk shape for the gzip filter (clipped to the shape). */
  readonly chunks?: readonly number[];
}

export interface NcFile {
  readonly dims: ReadonlyArray<{ readonly name: string; readonly size: number }>;
  readonly variables: readonly NcVariable[];
  readonly attrs: Readonly<Record<string, JsonValue>>;
}

/** netCDF-C's name of a dimension scale that is no variable. */
const PHONY = 'This is a netCDF dimension but not a netCDF variable.';

/** The h5wasm dtype of a Zarr dtype (little-endian, as h5wasm writes typed arrays). */
function h5Dtype(zarrDtype: string): string {
  const kind = zarrDtype.slice(1, 2);
  const size = zarrDtype.slice(2);
  if (kind === 'f') return size === '4' ? '<f' : '<d';
  const letter = { '1': 'b', '2': 'h', '4': 'i', '8': 'q' }[size];
  if (!letter) throw new Error(`cannot write dtype ${zarrDtype}`);
  return kind === 'u' ? `<${letter.toUpperCase()}` : `<${letter}`;
}

function typedOf(dtype: string, values: readonly (number | bigint)[]): NumericArray {
  const kind = dtype.slice(1, 2);
  const size = dtype.slice(2);
  if (kind === 'f') return size === '4' ? Float32Array.from(values, Number) : Float64Array.from(values, Number);
  if (size === '8') return kind === 'u' ? BigUint64Array.from(values, (v) => BigInt(v)) : BigInt64Array.from(values, (v) => BigInt(v));
  const Ctor = { i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array, i4: Int32Array, u4: Uint32Array }[`${kind}${size}`];
  if (!Ctor) throw new Error(`cannot write dtype ${dtype}`);
  return new Ctor(values.map(Number));
}

/** Attributes CF types like their variable. */
const SAME_TYPE: ReadonlySet<string> = new Set(['_FillValue', 'missing_value', 'valid_min', 'valid_max', 'valid_range']);
const NON_FINITE: ReadonlyMap<string, number> = new Map([
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
]);

type Attrs = { create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void };

function writeAttribute(target: Attrs, name: string, value: JsonValue, variableDtype: string | undefined): void {
  if (value === null) return;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return;
  const sameType = variableDtype !== undefined && SAME_TYPE.has(name);
  if (sameType && variableDtype.slice(1, 2) === 'f' && list.every((v) => typeof v === 'number' || (typeof v === 'string' && NON_FINITE.has(v)))) {
    // Zarr writes non-finite fill values as strings ("NaN"); CF wants them in the variable's type
    const numbers = list.map((v) => (typeof v === 'string' ? (NON_FINITE.get(v) as number) : (v as number)));
    target.create_attribute(name, typedOf(variableDtype, numbers), [numbers.length], h5Dtype(variableDtype));
    return;
  }
  if (list.every((v) => typeof v === 'string')) {
    target.create_attribute(name, list.join(' '));
    return;
  }
  if (!list.every((v) => typeof v === 'number' || v === 'NaN')) {
    target.create_attribute(name, JSON.stringify(value));
    return;
  }
  const numbers = list.map((v) => (v === 'NaN' ? Number.NaN : (v as number)));
  // _FillValue, valid_* and missing_value share the variable's type (CF); scale_factor/add_offset keep theirs.
  const dtype = sameType ? variableDtype : numbers.every(Number.isInteger) && !['scale_factor', 'add_offset'].includes(name) ? '<i4' : '<f8';
  target.create_attribute(name, typedOf(dtype, numbers), [numbers.length], h5Dtype(dtype));
}

/** Writes a NetCDF-4 (HDF5) file: dimension scales, variables (gzip-chunked), CF attributes. */
export async function writeNetcdf4(path: string, file: NcFile): Promise<void> {
  await h5wasm.ready;
  const out = new h5wasm.File(path, 'w');
  try {
    for (const [name, value] of Object.entries(file.attrs)) writeAttribute(out, name, value, undefined);
    const names = new Set(file.variables.map((v) => v.name));
    for (const dim of file.dims) {
      if (names.has(dim.name)) continue;
      const scale = out.create_dataset({ name: dim.name, data: new Float32Array(dim.size), shape: [dim.size], dtype: '<f' });
      scale.make_scale(`${PHONY}${String(dim.size).padStart(10)}`);
    }
    const ordered = [...file.variables].sort((a, b) => Number(isScale(b)) - Number(isScale(a)));
    for (const variable of ordered) {
      const shape = variable.dims.map((d) => file.dims.find((x) => x.name === d)?.size ?? 0);
      const chunks = variable.chunks && shape.length > 0 && shape.every((s) => s > 0) ? variable.chunks.map((c, i) => Math.max(1, Math.min(c, shape[i] as number))) : undefined;
      const dataset = out.create_dataset({
        name: variable.name,
        data: variable.data,
        shape,
        dtype: h5Dtype(variable.dtype),
        ...(chunks ? { chunks, compression: 'gzip' as const, compression_opts: 4 } : {}),
      });
      for (const [name, value] of Object.entries(variable.attrs)) writeAttribute(dataset, name, value, variable.dtype);
      if (isScale(variable)) dataset.make_scale(variable.name);
    }
    for (const variable of file.variables) {
      if (isScale(variable)) continue;
      const dataset = out.get(variable.name) as InstanceType<typeof h5wasm.Dataset>;
      variable.dims.forEach((dim, index) => dataset.attach_scale(index, `/${dim}`));
    }
  } finally {
    out.close();
  }
}

const isScale = (variable: NcVariable): boolean => variable.dims.length === 1 && variable.dims[0] === variable.name;
