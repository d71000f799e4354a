import { objectMemberTexts } from './json-spans.js';
import type { JsonValue } from './reference.js';
import type { ZarrArrayMetadata } from './zarr-metadata.js';

/**
 * The Zarr v3 face of a Zarr v2 store (same chunk bytes, v3 metadata and keys):
 * `zarr.json` documents for the root, groups and arrays, and chunk keys `v/c/0/1/2`
 * (default chunk key encoding, separator "/") mapped onto the v2 keys `v/0.1.2`.
 * The v3 keys never collide with v2 ones (`zarr.json` vs `.z*`; `c/` vs numeric suffixes).
 */

type JsonObject = { [key: string]: JsonValue };

const DATA_TYPES: Record<string, string> = {
  b1: 'bool',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  c8: 'complex64',
  c16: 'complex128',
};

const BLOSC_SHUFFLE = ['noshuffle', 'shuffle', 'bitshuffle'];

/** v3 `data_type` and byte order of a v2 dtype, or undefined when v3 has no such type (strings, structs). */
export function v3DataType(dtype: string | JsonValue[]): { dataType: string; endian: 'little' | 'big' | undefined } | undefined {
  if (typeof dtype !== 'string') return undefined;
  const match = /^([<>|=]?)([a-z]\d+)$/.exec(dtype);
  const dataType = match && DATA_TYPES[match[2] as string];
  if (!match || !dataType) return undefined;
  const single = match[2] === 'b1' || match[2] === 'i1' || match[2] === 'u1';
  return { dataType, endian: single ? undefined : match[1] === '>' ? 'big' : 'little' };
}

/** The v3 codec of a numcodecs config: v3 core names where the spec has them, `numcodecs.*` otherwise. */
export function v3Codec(config: { id: string; [option: string]: JsonValue }, itemsize: number): JsonObject {
  const { id, ...options } = config;
  switch (id) {
    case 'gzip':
      return { name: 'gzip', configuration: { level: options.level ?? 1 } };
    case 'zstd':
      return { name: 'zstd', configuration: { level: options.level ?? 0, checksum: options.checksum ?? false } };
    case 'blosc': {
      const shuffle = typeof options.shuffle === 'number' ? options.shuffle : 1;
      return {
        name: 'blosc',
        configuration: {
          cname: options.cname ?? 'lz4',
          clevel: options.clevel ?? 5,
          shuffle: BLOSC_SHUFFLE[shuffle] ?? 'shuffle',
          typesize: itemsize,
          blocksize: options.blocksize ?? 0,
        },
      };
    }
    default:
      return { name: `numcodecs.${id}`, configuration: options };
  }
}

/** The v3 `zarr.json` of an array, or undefined when its dtype or order has no v3 form here. */
export function v3ArrayDocument(meta: ZarrArrayMetadata, attributes: JsonValue, dims: JsonValue | undefined): JsonObject | undefined {
  const type = v3DataType(meta.dtype);
  if (!type || (meta.order ?? 'C') !== 'C') return undefined;
  const itemsize = Number(/\d+$/.exec(meta.dtype as string)?.[0] ?? 1);
  const codecs: JsonValue[] = [type.endian ? { name: 'bytes', configuration: { endian: type.endian } } : { name: 'bytes' }];
  for (const filter of meta.filters ?? []) codecs.push(v3Codec(filter, itemsize));
  if (meta.compressor) codecs.push(v3Codec(meta.compressor, itemsize));
  const chunkShape = meta.shape.length === 0 ? [] : [...meta.chunks];
  return {
    zarr_format: 3,
    node_type: 'array',
    shape: [...meta.shape],
    data_type: type.dataType,
    chunk_grid: { name: 'regular', configuration: { chunk_shape: chunkShape } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: v3FillValue(meta.fill_value, type.dataType),
    codecs,
    attributes,
    ...(Array.isArray(dims) && dims.length === meta.shape.length ? { dimension_names: dims } : {}),
  };
}

/** v3 requires a fill value: v2's null becomes 0 (false for bool); NaN/Infinity keep their string forms. */
function v3FillValue(fill: JsonValue, dataType: string): JsonValue {
  if (fill === null || fill === undefined) return dataType === 'bool' ? false : 0;
  return fill;
}

/** The v3 `zarr.json` of a group. */
export function v3GroupDocument(attributes: JsonValue): JsonObject {
  return { zarr_format: 3, node_type: 'group', attributes };
}

/**
 * The v2 chunk key of a v3 chunk key (`g/v/c/1/0/2` → `g/v/1.0.2`, `s/c` → `s/0`), given the
 * arrays of the store and their v2 dimension separators; undefined when the key is no v3 chunk key.
 */
export function v2ChunkKey(key: string, separators: ReadonlyMap<string, string>): string | undefined {
  for (let at = key.indexOf('/c'); at >= 0; at = key.indexOf('/c', at + 1)) {
    const array = key.slice(0, at);
    const separator = separators.get(array);
    if (separator === undefined) continue;
    const rest = key.slice(at + 2);
    if (rest === '') return `${array}/0`;
    if (!rest.startsWith('/')) continue;
    const indices = rest.slice(1).split('/');
    if (!indices.every((i) => /^\d+$/.test(i))) return undefined;
    return `${array}/${indices.join(separator)}`;
  }
  return undefined;
}

/** Stands in for the attributes while a document is serialised; replaced by their original text. */
const ATTRIBUTES_PLACEHOLDER = '\u0000attributes\u0000';

/**
 * The v3 documents (`zarr.json` texts) of a store given its v2 documents' texts. Attributes are
 * spliced from the v2 `.zattrs` text (numbers keep their form, `150.0` stays a float); the
 * root's `zarr.json` carries every node as inline consolidated metadata.
 */
export function v3MetadataTexts(v2Texts: ReadonlyMap<string, string>): Map<string, string> {
  const nodes = new Map<string, string>();
  for (const [key, text] of v2Texts) {
    const isArray = key === '.zarray' || key.endsWith('/.zarray');
    const isGroup = key === '.zgroup' || key.endsWith('/.zgroup');
    if (!isArray && !isGroup) continue;
    const path = key.slice(0, Math.max(0, key.length - '/.zarray'.length));
    const attributesText = v2Texts.get(path ? `${path}/.zattrs` : '.zattrs') ?? '{}';
    const { text: attributes, dims } = withoutArrayDimensions(attributesText);
    const document = isArray ? v3ArrayDocument(JSON.parse(text) as ZarrArrayMetadata, ATTRIBUTES_PLACEHOLDER, dims) : v3GroupDocument(ATTRIBUTES_PLACEHOLDER);
    if (!document) continue;
    nodes.set(path, JSON.stringify(document).replace(JSON.stringify(ATTRIBUTES_PLACEHOLDER), attributes));
  }
  const texts = new Map<string, string>();
  for (const [path, text] of nodes) {
    if (path === '') continue;
    texts.set(`${path}/zarr.json`, text);
  }
  const root = nodes.get('') ?? JSON.stringify(v3GroupDocument({}));
  // the root document ends with "}": the consolidated metadata goes in before it
  const consolidated = [...texts].map(([key, text]) => `${JSON.stringify(key.slice(0, -'/zarr.json'.length))}: ${text}`).join(',\n');
  texts.set('zarr.json', `${root.slice(0, -1)}, "consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": {\n${consolidated}\n}}}`);
  return texts;
}

/** A `.zattrs` text without `_ARRAY_DIMENSIONS` (as text) and the dimension names it held. */
function withoutArrayDimensions(text: string): { text: string; dims: JsonValue | undefined } {
  const members = objectMemberTexts(text);
  const dimsText = members.get('_ARRAY_DIMENSIONS');
  members.delete('_ARRAY_DIMENSIONS');
  const rest = [...members].map(([name, value]) => `${JSON.stringify(name)}: ${value}`).join(', ');
  return { text: `{${rest}}`, dims: dimsText === undefined ? undefined : (JSON.parse(dimsText) as JsonValue) };
}
