import { open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { ChunkGrid, type DimensionSeparator } from './chunk-grid.js';
import { CodecError, decodeChunk, UnsupportedCodecError } from './codecs/index.js';
import { numericDtype, readValues } from './coordinate-chunks.js';
import type { ParquetReferenceSet } from './parquet-writer.js';
import type { ChunkReference, JsonValue } from './reference.js';
import { arrayPaths, getOwn, type ZarrArrayMetadata, zarrayProblem } from './zarr-metadata.js';

/**
 * Concatenates single-file reference sets along one dimension, as kerchunk's MultiZarrToZarr does
 * for a time series split into files:
 *
 * - Arrays with the dimension (in `_ARRAY_DIMENSIONS`) keep their chunking; their chunk keys are
 *   shifted along that axis by the running offset in chunks, and their shape grows to the total.
 *   Every file's length along the dimension must be a multiple of the array's chunk length there,
 *   except the last file's (a partial chunk can only end the array). Their `.zarray` must agree
 *   across files in everything but that length. A file's length is its coordinate's; an array
 *   shorter than that (netCDF-4 extends unlimited dimensions lazily) reads as fill values past its
 *   end, an array longer is an error.
 * - The dimension's coordinate (the 1-D array named like it) is read from every file (inline or
 *   referenced chunks; uncompressed, zlib or gzip, optionally shuffled), concatenated, checked to
 *   be strictly monotonic, and written as one new uncompressed inline chunk. Its `units` and
 *   `calendar` must agree across files (raw values under different units cannot be joined).
 * - Arrays without the dimension must be identical in every file (`.zarray`, `.zattrs`, the same
 *   chunk keys with references of the same size); the first file's references are kept.
 * - Attributes (`.zattrs` of groups, and of arrays with the dimension) that differ across files:
 *   with `attributes: 'first'` (the default, kerchunk's rule) the first file's win — `history`
 *   typically differs per file; with `attributes: 'error'` they are an error.
 *
 * Errors are CombineErrors naming the file (the input's `name`) and the difference. Chunk URLs are
 * copied as written: inputs must use URLs that mean the same from where the result is stored
 * (absolute ones, or relative ones written for that place).
 */
export type ReferenceSet = ParquetReferenceSet;

export interface CombineInput {
  /** Named in errors: the file the set was scanned from. */
  readonly name: string;
  readonly references: ReferenceSet;
  /** Directory relative chunk URLs resolve against when coordinate chunks are read (default: cwd). */
  readonly base?: string;
}

/** Reads the bytes of a (non-inline) coordinate chunk reference. */
export type ChunkReader = (reference: ChunkReference, input: CombineInput) => Promise<Uint8Array>;

export interface CombineOptions {
  /** The dimension to concatenate along ('time'). */
  readonly concatDim: string;
  /** Attributes that differ across files: the first file's win (default), or an error. */
  readonly attributes?: 'first' | 'error';
  /** How referenced coordinate chunks are read (default: local files, relative to the input's `base`). */
  readonly readChunk?: ChunkReader;
}

export interface CombinedReferences {
  readonly metadata: Map<string, JsonValue>;
  /** Documents as JSON text: the first file's text where unchanged (so `150.0` stays a float). */
  readonly metadataText: Map<string, string>;
  readonly chunks: Map<string, ChunkReference>;
  /** Length of each input along the dimension, in input order. */
  readonly lengths: readonly number[];
}

export class CombineError extends Error {
  override readonly name = 'CombineError';
}

interface ArrayInfo {
  readonly path: string;
  readonly zarray: ZarrArrayMetadata;
  readonly zattrs: Record<string, JsonValue>;
  readonly dims: readonly string[] | undefined;
  /** Axis of the concatenation dimension, -1 when the array does not have it. */
  readonly axis: number;
  readonly grid: ChunkGrid;
  /** Chunk key suffix ('0.1.2') → reference, in table order. */
  readonly chunks: Map<string, ChunkReference>;
}

interface Part {
  readonly input: CombineInput;
  readonly arrays: Map<string, ArrayInfo>;
  /** Length along the concatenation dimension. */
  readonly length: number;
}

export async function combineReferences(inputs: readonly CombineInput[], options: CombineOptions): Promise<CombinedReferences> {
  const dim = options.concatDim;
  if (inputs.length === 0) throw new CombineError('nothing to combine: no reference sets given');
  const parts = inputs.map((input) => describe(input, dim));
  const first = parts[0] as Part;
  const rule = options.attributes ?? 'first';
  checkSameArrays(parts);
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  if (total === 0) throw new CombineError(`every file has length 0 along "${dim}": nothing to concatenate`);

  const metadata = new Map<string, JsonValue>();
  const metadataText = new Map<string, string>();
  const chunks = new Map<string, ChunkReference>();
  const firstMetadata = first.input.references.metadata;
  const firstTexts = first.input.references.metadataText;
  const keep = (key: string) => {
    metadata.set(key, firstMetadata.get(key) as JsonValue);
    metadataText.set(key, firstTexts?.get(key) ?? JSON.stringify(firstMetadata.get(key)));
  };
  const replace = (key: string, document: Record<string, JsonValue>) => {
    metadata.set(key, document);
    metadataText.set(key, JSON.stringify(document));
  };

  // Documents in the first file's order; arrays are handled at their .zarray.
  for (const key of firstMetadata.keys()) {
    const name = key.slice(key.lastIndexOf('/') + 1);
    const owner = key.slice(0, Math.max(0, key.lastIndexOf('/')));
    const array = name === '.zarray' || name === '.zattrs' ? first.arrays.get(owner) : undefined;
    if (array === undefined) {
      checkGroupDocument(parts, key, rule);
      keep(key);
      continue;
    }
    if (name === '.zattrs') continue; // written with its .zarray
    const zattrsKey = `${array.path}/.zattrs`;
    if (isCoordinate(array, dim)) {
      const coordinate = await concatCoordinate(parts, array.path, dim, total, rule, options.readChunk ?? readLocalChunk);
      replace(key, coordinate.zarray);
      if (firstMetadata.has(zattrsKey)) keep(zattrsKey);
      chunks.set(`${array.path}/0`, { kind: 'inline', data: coordinate.data });
    } else if (array.axis >= 0) {
      replace(key, concatArray(parts, array.path, total, rule, chunks));
      if (firstMetadata.has(zattrsKey)) keep(zattrsKey);
    } else {
      checkIdentical(parts, array.path);
      keep(key);
      if (firstMetadata.has(zattrsKey)) keep(zattrsKey);
      for (const [suffix, reference] of array.chunks) chunks.set(`${array.path}/${suffix}`, reference);
    }
  }
  return { metadata, metadataText, chunks, lengths: parts.map((part) => part.length) };
}

/**
 * Arrays of one input, their chunks, and its length along the dimension: the coordinate's length,
 * else the longest array's along the dimension.
 */
function describe(input: CombineInput, dim: string): Part {
  const { metadata } = input.references;
  const arrays = new Map<string, ArrayInfo>();
  for (const path of arrayPaths(metadata)) {
    if (path === '') throw new CombineError(`${input.name}: a root-level array (".zarray") cannot be combined`);
    const document = metadata.get(`${path}/.zarray`);
    const problem = zarrayProblem(document);
    if (problem) throw new CombineError(`${input.name}: "${path}/.zarray" ${problem}`);
    const zarray = document as unknown as ZarrArrayMetadata;
    const attrs = metadata.get(`${path}/.zattrs`);
    const zattrs = isObject(attrs) ? attrs : {};
    const listed = getOwn(zattrs, '_ARRAY_DIMENSIONS');
    const dims = Array.isArray(listed) && listed.length === zarray.shape.length && listed.every((d) => typeof d === 'string') ? (listed as string[]) : undefined;
    const separator: DimensionSeparator = zarray.dimension_separator ?? '.';
    const grid = new ChunkGrid(zarray.shape, zarray.chunks, separator);
    arrays.set(path, { path, zarray, zattrs, dims, axis: dims ? dims.indexOf(dim) : -1, grid, chunks: new Map() });
  }
  for (const [key, reference] of input.references.chunks) {
    const owner = ownerOf(key, arrays);
    if (!owner) throw new CombineError(`${input.name}: chunk "${key}" is not a chunk of any array (unknown array or index outside its grid)`);
    owner.array.chunks.set(owner.suffix, reference);
  }
  const withDim = [...arrays.values()].filter((array) => array.axis >= 0);
  if (withDim.length === 0) throw new CombineError(`${input.name}: no array has the dimension "${dim}"`);
  const coordinate = arrays.get(dim);
  const longest = withDim.reduce((a, b) => ((b.zarray.shape[b.axis] as number) > (a.zarray.shape[a.axis] as number) ? b : a));
  const reference = coordinate && isCoordinate(coordinate, dim) ? coordinate : longest;
  const length = reference.zarray.shape[reference.axis] as number;
  // An array may be shorter than its file along the dimension: netCDF-4 extends the datasets of an
  // unlimited dimension lazily, and values past a dataset's extent read as the fill value.
  for (const array of withDim) {
    const own = array.zarray.shape[array.axis] as number;
    if (own > length) {
      throw new CombineError(`${input.name}: "${array.path}" has length ${own} along "${dim}", longer than "${reference.path}" (${length})`);
    }
  }
  return { input, arrays, length };
}

function ownerOf(key: string, arrays: ReadonlyMap<string, ArrayInfo>): { array: ArrayInfo; suffix: string } | undefined {
  for (let slash = key.lastIndexOf('/'); slash > 0; slash = key.lastIndexOf('/', slash - 1)) {
    const array = arrays.get(key.slice(0, slash));
    const suffix = key.slice(slash + 1);
    if (array && array.grid.indexOf(suffix) !== undefined) return { array, suffix };
  }
  return undefined;
}

function isCoordinate(array: ArrayInfo, dim: string): boolean {
  return array.path === dim && array.dims?.length === 1 && array.dims[0] === dim;
}

function checkSameArrays(parts: readonly Part[]): void {
  const first = parts[0] as Part;
  for (const part of parts.slice(1)) {
    for (const path of first.arrays.keys()) {
      if (!part.arrays.has(path)) throw new CombineError(`${part.input.name}: has no array "${path}" (${first.input.name} has)`);
    }
    for (const [path, array] of part.arrays) {
      const theirs = first.arrays.get(path);
      if (!theirs) throw new CombineError(`${part.input.name}: has an array "${path}" that ${first.input.name} does not have`);
      if (!isDeepStrictEqual(array.dims, theirs.dims)) {
        throw new CombineError(`${part.input.name}: "${path}" has dimensions ${JSON.stringify(array.dims ?? null)}, ${first.input.name} ${JSON.stringify(theirs.dims ?? null)}`);
      }
    }
  }
}

/** Group documents (.zgroup, .zattrs of groups): .zgroup must agree, attributes follow the rule. */
function checkGroupDocument(parts: readonly Part[], key: string, rule: 'first' | 'error'): void {
  const first = parts[0] as Part;
  const mine = first.input.references.metadata.get(key);
  const isAttributes = key === '.zattrs' || key.endsWith('/.zattrs');
  for (const part of parts.slice(1)) {
    const theirs = part.input.references.metadata.get(key);
    if (isDeepStrictEqual(mine, theirs)) continue;
    if (isAttributes && rule === 'first') continue;
    throw new CombineError(`${part.input.name}: "${key}" differs from ${first.input.name}'s${attributeDifference(mine, theirs)}`);
  }
}

/** The shifted chunks of an array with the dimension go into `out`; returns its new .zarray. */
function concatArray(parts: readonly Part[], path: string, total: number, rule: 'first' | 'error', out: Map<string, ChunkReference>): Record<string, JsonValue> {
  const first = (parts[0] as Part).arrays.get(path) as ArrayInfo;
  const axis = first.axis;
  const chunk = first.zarray.chunks[axis] as number;
  let offset = 0;
  parts.forEach((part, index) => {
    const array = part.arrays.get(path) as ArrayInfo;
    const name = part.input.name;
    if (index > 0) {
      compareZarray(first.zarray, array.zarray, (field, a, b) => field !== 'shape' || !sameExcept(a, b, axis), name, path, parts);
      compareAttributes(first.zattrs, array.zattrs, rule, name, path, parts);
    }
    if (index < parts.length - 1 && part.length % chunk !== 0) {
      throw new CombineError(
        `${name}: its length along "${first.dims?.[axis]}" (${part.length}) is not a multiple of the chunk length of "${path}" (${chunk}); ` +
          'only the last file may end in a partial chunk',
      );
    }
    const count = Math.ceil(part.length / chunk);
    for (const [suffix, reference] of array.chunks) {
      const indices = suffix.split(array.grid.separator).map(Number);
      const along = indices[axis] as number;
      if (along >= count) throw new CombineError(`${name}: chunk "${path}/${suffix}" lies beyond the file's length along the dimension`);
      indices[axis] = along + offset;
      out.set(`${path}/${indices.join(array.grid.separator)}`, reference);
    }
    offset += count;
  });
  const shape = [...first.zarray.shape];
  shape[axis] = total;
  return { ...(first.zarray as unknown as Record<string, JsonValue>), shape };
}

/** The concatenated coordinate: its new .zarray and the bytes of its single inline chunk. */
async function concatCoordinate(
  parts: readonly Part[],
  path: string,
  dim: string,
  total: number,
  rule: 'first' | 'error',
  readChunk: ChunkReader,
): Promise<{ zarray: Record<string, JsonValue>; data: Uint8Array }> {
  const first = (parts[0] as Part).arrays.get(path) as ArrayInfo;
  const dtype = numericDtype(first.zarray.dtype, `${(parts[0] as Part).input.name}: "${path}"`);
  const data = new Uint8Array(total * dtype.size);
  let previous: { value: number | bigint; part: Part } | undefined;
  let direction = 0;
  let written = 0;
  for (const [index, part] of parts.entries()) {
    const array = part.arrays.get(path) as ArrayInfo;
    const name = part.input.name;
    if (index > 0) {
      compareZarray(first.zarray, array.zarray, (field) => field === 'dtype' || field === 'order', name, path, parts);
      for (const attribute of ['units', 'calendar']) {
        const [mine, theirs] = [getOwn(first.zattrs, attribute), getOwn(array.zattrs, attribute)];
        if (!isDeepStrictEqual(mine, theirs)) {
          throw new CombineError(
            `${name}: "${path}" has ${attribute} ${JSON.stringify(theirs ?? null)}, ` +
              `${(parts[0] as Part).input.name} ${JSON.stringify(mine ?? null)}: raw values cannot be concatenated`,
          );
        }
      }
      compareAttributes(first.zattrs, array.zattrs, rule, name, path, parts);
    }
    const bytes = await coordinateBytes(part, array, readChunk);
    const values = readValues(bytes, dtype);
    for (const [i, value] of values.entries()) {
      if (previous !== undefined) {
        const step = compare(previous.value, value);
        if (direction === 0) direction = step;
        if (step === 0 || step !== direction || Number.isNaN(Number(value))) {
          const where = i === 0 ? `where ${name} begins (after ${previous.part.input.name})` : `at index ${i} of ${name}`;
          throw new CombineError(`${name}: "${dim}" is not strictly monotonic ${where}: ${String(value)} follows ${String(previous.value)}`);
        }
      } else if (Number.isNaN(Number(value))) {
        throw new CombineError(`${name}: "${dim}" has a NaN at index ${i}`);
      }
      previous = { value, part };
    }
    data.set(bytes, written);
    written += bytes.byteLength;
  }
  const zarray = { ...(first.zarray as unknown as Record<string, JsonValue>), shape: [total], chunks: [total], compressor: null, filters: null };
  return { zarray, data };
}

/** The coordinate's raw bytes in one file: its chunks decoded, joined, cut to the file's length. */
async function coordinateBytes(part: Part, array: ArrayInfo, readChunk: ChunkReader): Promise<Uint8Array> {
  const name = part.input.name;
  const dtype = numericDtype(array.zarray.dtype, `${name}: "${array.path}"`);
  const chunkLength = array.zarray.chunks[0] as number;
  const count = Math.ceil(part.length / chunkLength);
  const out = new Uint8Array(count * chunkLength * dtype.size);
  for (let k = 0; k < count; k++) {
    const reference = array.chunks.get(String(k));
    if (!reference) throw new CombineError(`${name}: coordinate "${array.path}" has no chunk ${k}: its values are unknown`);
    let encoded: Uint8Array;
    try {
      encoded = reference.kind === 'inline' ? reference.data : await readChunk(reference, part.input);
    } catch (error) {
      if (error instanceof CombineError) throw error;
      throw new CombineError(`${name}: cannot read chunk ${k} of coordinate "${array.path}": ${(error as Error).message}`);
    }
    try {
      out.set(await decodeChunk(encoded, array.zarray), k * chunkLength * dtype.size);
    } catch (error) {
      if (error instanceof CodecError || error instanceof UnsupportedCodecError) throw new CombineError(`${name}: "${array.path}/${k}": ${error.message}`);
      throw error;
    }
  }
  return out.subarray(0, part.length * dtype.size);
}

function compare(a: number | bigint, b: number | bigint): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/** Non-concatenated arrays: the same .zarray, .zattrs and chunk references (by size) everywhere. */
function checkIdentical(parts: readonly Part[], path: string): void {
  const first = (parts[0] as Part).arrays.get(path) as ArrayInfo;
  const firstName = (parts[0] as Part).input.name;
  for (const part of parts.slice(1)) {
    const array = part.arrays.get(path) as ArrayInfo;
    const name = part.input.name;
    compareZarray(first.zarray, array.zarray, () => true, name, path, parts);
    if (!isDeepStrictEqual(first.zattrs, array.zattrs)) {
      throw new CombineError(
        `${name}: "${path}/.zattrs" differs from ${firstName}'s${attributeDifference(first.zattrs, array.zattrs)}; arrays without the dimension must be identical`,
      );
    }
    const keys = new Set([...first.chunks.keys(), ...array.chunks.keys()]);
    for (const suffix of keys) {
      const mine = first.chunks.get(suffix);
      const theirs = array.chunks.get(suffix);
      if (mine === undefined || theirs === undefined) {
        throw new CombineError(
          `${name}: "${path}/${suffix}" is ${theirs ? 'present' : 'missing'} (${firstName}: ${mine ? 'present' : 'missing'}); arrays without the dimension must be identical`,
        );
      }
      const a = referenceSize(mine);
      const b = referenceSize(theirs);
      const sameInline = mine.kind !== 'inline' || theirs.kind !== 'inline' || Buffer.from(mine.data).equals(Buffer.from(theirs.data));
      if (a !== b || !sameInline) {
        throw new CombineError(
          `${name}: chunk "${path}/${suffix}" differs from ${firstName}'s (${describeSize(theirs)} vs ${describeSize(mine)}); arrays without the dimension must be identical`,
        );
      }
    }
  }
}

function referenceSize(reference: ChunkReference): number | 'whole' {
  if (reference.kind === 'inline') return reference.data.byteLength;
  if (reference.kind === 'range') return reference.length;
  return 'whole';
}

function describeSize(reference: ChunkReference): string {
  const size = referenceSize(reference);
  return size === 'whole' ? 'a whole file' : `${size} bytes${reference.kind === 'inline' ? ' inline' : ''}`;
}

/** Throws naming the first field of `.zarray` that differs and `matters`. */
function compareZarray(
  mine: ZarrArrayMetadata,
  theirs: ZarrArrayMetadata,
  matters: (field: string, a: unknown, b: unknown) => boolean,
  name: string,
  path: string,
  parts: readonly Part[],
): void {
  const a = mine as unknown as Record<string, unknown>;
  const b = theirs as unknown as Record<string, unknown>;
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const field of fields) {
    const [mineValue, theirValue] = [getOwn(a, field), getOwn(b, field)];
    if (isDeepStrictEqual(mineValue, theirValue) || !matters(field, mineValue, theirValue)) continue;
    throw new CombineError(
      `${name}: "${path}/.zarray" differs from ${(parts[0] as Part).input.name}'s in "${field}": ${JSON.stringify(theirValue ?? null)} vs ${JSON.stringify(mineValue ?? null)}`,
    );
  }
}

function compareAttributes(mine: Record<string, JsonValue>, theirs: Record<string, JsonValue>, rule: 'first' | 'error', name: string, path: string, parts: readonly Part[]): void {
  if (rule === 'first' || isDeepStrictEqual(mine, theirs)) return;
  throw new CombineError(`${name}: "${path}/.zattrs" differs from ${(parts[0] as Part).input.name}'s${attributeDifference(mine, theirs)}`);
}

/** `: attribute "history" is "b" there, "a" here`, for the first attribute that differs. */
function attributeDifference(mine: unknown, theirs: unknown): string {
  if (!isObject(mine) || !isObject(theirs)) return '';
  // Attribute names come from files: `constructor` must not find Object's.
  for (const key of new Set([...Object.keys(mine), ...Object.keys(theirs)])) {
    if (isDeepStrictEqual(getOwn(mine, key), getOwn(theirs, key))) continue;
    return ` in "${key}": ${JSON.stringify(getOwn(theirs, key) ?? null)} vs ${JSON.stringify(getOwn(mine, key) ?? null)}`;
  }
  return '';
}

function sameExcept(a: unknown, b: unknown, axis: number): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((value, i) => i === axis || value === b[i]);
}

/** Local files only: a path relative to the input's `base`, an absolute path or a file:// URL. */
async function readLocalChunk(reference: ChunkReference, input: CombineInput): Promise<Uint8Array> {
  if (reference.kind === 'inline') return reference.data;
  const { url } = reference;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.toLowerCase().startsWith('file://')) {
    throw new CombineError(`${input.name}: coordinate chunk at ${url} is not a local file; pass a readChunk that can read it`);
  }
  const path = url.toLowerCase().startsWith('file://') ? fileURLToPath(url) : resolve(input.base ?? '.', url);
  if (reference.kind === 'whole') return readFile(path);
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(reference.length);
    const { bytesRead } = await handle.read(buffer, 0, reference.length, reference.offset);
    if (bytesRead !== reference.length) throw new Error(`${path} ends before byte ${reference.offset + reference.length}`);
    return buffer;
  } finally {
    await handle.close();
  }
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
