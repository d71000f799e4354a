/**
 * A tiny writer of NetCDF classic (CDF-1) files for tests: fixed-size dimensions and variables,
 * text and numeric attributes. The layout follows the NetCDF classic format specification:
 * magic, numrecs, dimension list, global attributes, variables (name, dimension ids, attributes,
 * type, vsize, begin), then each variable's data, big-endian, padded to 4 bytes.
 */
export type ClassicType = 'byte' | 'char' | 'short' | 'int' | 'float' | 'double';

export type ClassicAttribute = string | { readonly type: Exclude<ClassicType, 'char'>; readonly values: readonly number[] };

export interface ClassicVariable {
  readonly name: string;
  readonly dims: readonly string[];
  readonly type: Exclude<ClassicType, 'char'>;
  readonly values: readonly number[];
  readonly attributes?: Readonly<Record<string, ClassicAttribute>>;
}

export interface ClassicFile {
  readonly dims: Readonly<Record<string, number>>;
  readonly attributes?: Readonly<Record<string, ClassicAttribute>>;
  readonly variables: readonly ClassicVariable[];
}

const TYPE_CODES: Record<ClassicType, { code: number; size: number }> = {
  byte: { code: 1, size: 1 },
  char: { code: 2, size: 1 },
  short: { code: 3, size: 2 },
  int: { code: 4, size: 4 },
  float: { code: 5, size: 4 },
  double: { code: 6, size: 8 },
};

const NC_DIMENSION = 0x0a;
const NC_VARIABLE = 0x0b;
const NC_ATTRIBUTE = 0x0c;

/** Big-endian bytes of values of a type. */
function encode(type: Exclude<ClassicType, 'char'>, values: readonly number[]): Uint8Array {
  const { size } = TYPE_CODES[type];
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((value, i) => {
    if (type === 'byte') view.setInt8(i, value);
    else if (type === 'short') view.setInt16(i * 2, value);
    else if (type === 'int') view.setInt32(i * 4, value);
    else if (type === 'float') view.setFloat32(i * 4, value);
    else view.setFloat64(i * 8, value);
  });
  return out;
}

class Bytes {
  private readonly parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  u32(value: number): this {
    this.parts.push((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
    return this;
  }
  raw(bytes: Uint8Array): this {
    for (const byte of bytes) this.parts.push(byte);
    return this;
  }
  pad(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  name(text: string): this {
    const bytes = new TextEncoder().encode(text);
    return this.u32(bytes.length).raw(bytes).pad();
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function attributeList(out: Bytes, attributes: Readonly<Record<string, ClassicAttribute>> | undefined): void {
  const entries = Object.entries(attributes ?? {});
  if (entries.length === 0) {
    out.u32(0).u32(0);
    return;
  }
  out.u32(NC_ATTRIBUTE).u32(entries.length);
  for (const [name, value] of entries) {
    out.name(name);
    if (typeof value === 'string') {
      const bytes = new TextEncoder().encode(value);
      out.u32(TYPE_CODES.char.code).u32(bytes.length).raw(bytes).pad();
    } else {
      out.u32(TYPE_CODES[value.type].code).u32(value.values.length).raw(encode(value.type, value.values)).pad();
    }
  }
}

/** The bytes of a classic NetCDF file. */
export function classicNetcdf(file: ClassicFile): Uint8Array {
  const dimNames = Object.keys(file.dims);
  const data = file.variables.map((v) => encode(v.type, v.values));
  const header = (begins: readonly number[]): Bytes => {
    const out = new Bytes().raw(new TextEncoder().encode('CDF\u0001')).u32(0);
    if (dimNames.length === 0) out.u32(0).u32(0);
    else {
      out.u32(NC_DIMENSION).u32(dimNames.length);
      for (const name of dimNames) out.name(name).u32(file.dims[name] as number);
    }
    attributeList(out, file.attributes);
    if (file.variables.length === 0) out.u32(0).u32(0);
    else {
      out.u32(NC_VARIABLE).u32(file.variables.length);
      file.variables.forEach((v, i) => {
        out.name(v.name).u32(v.dims.length);
        for (const dim of v.dims) {
          const id = dimNames.indexOf(dim);
          if (id < 0) throw new Error(`variable ${v.name}: no dimension ${dim}`);
          out.u32(id);
        }
        attributeList(out, v.attributes);
        const bytes = data[i] as Uint8Array;
        out
          .u32(TYPE_CODES[v.type].code)
          .u32(Math.ceil(bytes.length / 4) * 4)
          .u32(begins[i] ?? 0);
      });
    }
    return out;
  };
  // The header's size does not depend on the begin offsets: lay it out once to learn them.
  let at = header([]).length;
  const begins = data.map((bytes) => {
    const begin = at;
    at += Math.ceil(bytes.length / 4) * 4;
    return begin;
  });
  const out = header(begins);
  for (const bytes of data) out.raw(bytes).pad();
  return out.done();
}
