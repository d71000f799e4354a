import { asciiJson } from '../ascii-json.js';
import type { ChunkReference, JsonValue } from '../reference.js';
import { ReferenceFormatError } from '../reference.js';
import { setOwn } from '../zarr-metadata.js';
import { attributesText } from './attributes-text.js';
import { readChunkIndex, type StoredChunk } from './hdf5/chunk-index.js';
import { decodeUtf8 } from './hdf5/cursor.js';
import { decodeChunk } from './hdf5/decode.js';
import { type Hdf5File, MAX_HDF5_READ_BYTES, openHdf5 } from './hdf5/file.js';
import { GlobalHeap } from './hdf5/heaps.js';
import {
  type Dataspace,
  type Datatype,
  elementCount,
  type Filter,
  type Layout,
  parseDataspace,
  parseFillValue,
  parseFilterPipeline,
  parseLayout,
  parseOldFillValue,
  type RawAttribute,
} from './hdf5/messages.js';
import { MSG, MSG_FLAG_SHARED, type ObjectHeader, readObjectHeader } from './hdf5/object-header.js';
import { findMessage, headerDatatype, isDataset, isGroup, readAttributes, readLinks } from './hdf5/objects.js';
import { attributeValue, jsonNumber, readNumber, vlenElement, zarrDtype } from './hdf5/values.js';
import type { RangeReader } from './range-reader.js';

export interface ScanOptions {
  /** The URL the chunk references will name. */
  readonly url: string;
  /** How errors name the file (default: `url`; `strato ingest` passes the path it was given). */
  readonly name?: string;
  /** Chunks stored in fewer bytes than this are inlined (default 500, kerchunk's default). 0 disables. */
  readonly inlineThreshold?: number;
  /** File size when known: bounds the search for the HDF5 signature. */
  readonly fileSize?: number;
}

export interface ScanResult {
  /** Zarr v2 metadata documents ('.zgroup', '.zattrs', 'v/.zarray', 'v/.zattrs', 'g/.zgroup', ...). */
  readonly metadata: Map<string, JsonValue>;
  /** Chunk references by Zarr key ('v/0.1.2'). */
  readonly chunks: Map<string, ChunkReference>;
  /** JSON text of the attribute documents, float attributes written as floats (`150.0`). */
  readonly metadataText?: Map<string, string>;
}

/** Attributes kerchunk (after h5netcdf) leaves out: the netCDF-4 / HDF5 dimension-scale machinery. */
const HIDDEN_ATTRIBUTES = new Set(['REFERENCE_LIST', 'CLASS', 'DIMENSION_LIST', 'NAME', '_Netcdf4Dimid', '_Netcdf4Coordinates', '_nc3_strict', '_NCProperties']);

const FILTER_NAMES: Record<number, string> = {
  1: 'deflate',
  2: 'shuffle',
  3: 'fletcher32',
  4: 'szip',
  5: 'nbit',
  6: 'scaleoffset',
  32000: 'lzf',
  32001: 'blosc',
  32004: 'lz4',
  32008: 'bitshuffle',
  32013: 'zfp',
  32015: 'zstd',
  32017: 'sz',
  32026: 'blosc2',
};

/** numcodecs JSON codec configuration, as zarr writes it for kerchunk's embedded string arrays. */
const JSON_CODEC: JsonValue = {
  allow_nan: true,
  check_circular: true,
  encoding: 'utf-8',
  ensure_ascii: true,
  id: 'json2',
  indent: null,
  separators: [',', ':'],
  skipkeys: false,
  sort_keys: true,
  strict: true,
};

interface Entry {
  readonly path: string;
  readonly address: number;
  readonly header: ObjectHeader;
}

/**
 * Translates an HDF5 / NetCDF-4 file into Zarr v2 metadata and chunk references, as kerchunk's
 * SingleHdf5ToZarr does, reading only the file's metadata by byte ranges.
 */
export async function scanHdf5(read: RangeReader, options: ScanOptions): Promise<ScanResult> {
  const file = await openHdf5(read, options.name ?? options.url, options.fileSize);
  const scanner = new Scanner(file, options);
  return scanner.run();
}

class Scanner {
  private readonly metadata = new Map<string, JsonValue>();
  private readonly chunks = new Map<string, ChunkReference>();
  private readonly heap: GlobalHeap;
  private readonly pathOf = new Map<number, string>();
  private readonly threshold: number;
  /** Names of the float-typed attributes of each attributes document. */
  private readonly floatAttributes = new WeakMap<object, Set<string>>();

  constructor(
    private readonly file: Hdf5File,
    private readonly options: ScanOptions,
  ) {
    this.heap = new GlobalHeap(file);
    this.threshold = options.inlineThreshold ?? 500;
  }

  async run(): Promise<ScanResult> {
    const file = this.file;
    const rootAddress = file.superblock.rootAddress;
    const root = await readObjectHeader(file, rootAddress);
    const entries: Entry[] = [{ path: '', address: rootAddress, header: root }];
    this.pathOf.set(rootAddress, '');
    await this.walk('', root, entries, 0, file.superblock.rootScratch);

    for (const entry of entries) {
      if (isDataset(entry.header)) await this.dataset(entry);
      else if (entry.path === '' || isGroup(entry.header)) await this.group(entry);
    }
    const metadataText = new Map<string, string>();
    for (const [key, document] of this.metadata) {
      const floats = this.floatAttributes.get(document as object);
      metadataText.set(key, floats ? attributesText(document as Record<string, JsonValue>, floats) : JSON.stringify(document));
    }
    return { metadata: this.metadata, chunks: this.chunks, metadataText };
  }

  /** Depth-first, name-ordered walk over hard links, each object once (like H5Ovisit). */
  private async walk(path: string, header: ObjectHeader, out: Entry[], depth: number, scratch?: { btree: number; heap: number }): Promise<void> {
    if (depth > 100) this.file.fail(`groups nest too deep at "${path}"`);
    for (const link of await readLinks(this.file, header, scratch)) {
      if (link.kind !== 'hard') continue;
      if (this.pathOf.has(link.address)) continue;
      const childPath = path ? `${path}/${link.name}` : link.name;
      this.pathOf.set(link.address, childPath);
      const child = await readObjectHeader(this.file, link.address);
      out.push({ path: childPath, address: link.address, header: child });
      if (isGroup(child) && !isDataset(child)) await this.walk(childPath, child, out, depth + 1);
    }
  }

  private key(path: string, name: string): string {
    return path ? `${path}/${name}` : name;
  }

  /** An object's attributes; problems are reported with the object's path. */
  private async attributesOf(path: string, header: ObjectHeader): Promise<RawAttribute[]> {
    try {
      return await readAttributes(this.file, header);
    } catch (error) {
      if (error instanceof ReferenceFormatError) this.fail(path || '/', `attributes: ${error.message}`);
      throw error;
    }
  }

  private async group(entry: Entry): Promise<void> {
    const attributes = await this.attributesOf(entry.path, entry.header);
    this.metadata.set(this.key(entry.path, '.zgroup'), { zarr_format: 2 });
    this.metadata.set(this.key(entry.path, '.zattrs'), await this.convertAttributes(attributes));
  }

  private fail(path: string, problem: string): never {
    const name = this.options.name ?? this.options.url;
    throw new ReferenceFormatError(`${name}: variable "${path}": ${problem.replace(`${name}: `, '')}`);
  }

  private async dataset(entry: Entry): Promise<void> {
    const { path, header } = entry;
    const file = this.file;
    for (const m of header.messages) {
      if (m.flags & MSG_FLAG_SHARED && m.type !== MSG.DATATYPE) this.fail(path, `shared header message of type ${m.type} is not supported`);
    }
    const datatype = await headerDatatype(file, header);
    if (!datatype) this.fail(path, 'no datatype message');
    const spaceMsg = findMessage(header, MSG.DATASPACE);
    if (!spaceMsg) this.fail(path, 'no dataspace message');
    const space = parseDataspace(file.cursorOf(spaceMsg.data));
    if (space.kind === 'null') return; // no shape: kerchunk writes nothing usable either
    const layout = parseLayout(file.cursorOf(findMessage(header, MSG.LAYOUT)!.data), (p) => this.fail(path, p));
    const pipelineMsg = findMessage(header, MSG.FILTER_PIPELINE);
    const filters = pipelineMsg ? parseFilterPipeline(file.cursorOf(pipelineMsg.data)) : [];
    const attributes = await this.attributesOf(path, header);
    const byName = new Map(attributes.map((a) => [a.name, a]));
    const isScale = await this.isDimensionScale(byName);

    if (layout.class === 'virtual') this.fail(path, 'virtual datasets are not supported');
    if (findMessage(header, MSG.EXTERNAL_FILES)) this.fail(path, 'data in external files is not supported');
    const shape = space.kind === 'scalar' ? [] : [...space.dims];
    const stored = await this.storedChunks(path, layout, space, datatype);
    if (isScale && stored.length === 0 && layout.class !== 'compact') return; // netCDF dimension without data

    const chunkShape = layout.class === 'chunked' ? [...layout.chunk] : shape.map((n) => Math.max(n, 1));
    const dims = await this.arrayDimensions(path, space, byName, isScale);
    const zattrs = await this.convertAttributes(attributes);
    zattrs._ARRAY_DIMENSIONS = dims;

    if (datatype.class === 'vlen-string') {
      await this.embedStrings(path, layout, space, datatype, filters, stored, zattrs);
      return;
    }
    const dtype = zarrDtype(datatype);
    if (dtype === undefined) this.fail(path, `datatype ${describe(datatype)} cannot be represented in Zarr v2`);

    let compressor: JsonValue = null;
    let zfilters: JsonValue[] = [];
    let fill: JsonValue;
    if (layout.class === 'compact') {
      fill = null;
    } else {
      ({ compressor, filters: zfilters } = this.codecs(path, filters, datatype));
      if (layout.class === 'chunked' && layout.unfilteredEdges && filters.length > 0) {
        this.fail(path, 'partial edge chunks are stored unfiltered, which Zarr cannot express');
      }
      fill = await this.fillValue(header, datatype, byName);
    }
    this.metadata.set(this.key(path, '.zarray'), {
      chunks: chunkShape,
      compressor,
      dtype,
      fill_value: fill,
      filters: zfilters.length > 0 ? zfilters : null,
      order: 'C',
      shape,
      zarr_format: 2,
    });
    this.metadata.set(this.key(path, '.zattrs'), zattrs);

    if (layout.class === 'compact') {
      this.chunks.set(
        this.chunkKey(
          path,
          shape.map(() => 0),
        ),
        { kind: 'inline', data: layout.data.slice() },
      );
      return;
    }
    const fileSize = this.options.fileSize;
    const small: { key: string; address: number; size: number }[] = [];
    for (const chunk of stored) {
      if (fileSize !== undefined && file.absolute(chunk.address) + chunk.size > fileSize) {
        this.fail(path, `chunk ${chunk.coords.join('.') || '0'} lies beyond the end of the file (truncated file?)`);
      }
      if (chunk.filterMask !== 0) {
        this.fail(path, `chunk ${chunk.coords.join('.')} skipped filters (mask ${chunk.filterMask}), which Zarr cannot express`);
      }
      const key = this.chunkKey(path, chunk.coords);
      if (chunk.size < this.threshold) {
        small.push({ key, address: chunk.address, size: chunk.size });
        this.chunks.set(key, { kind: 'inline', data: new Uint8Array(0) }); // keeps the key order; filled below
      } else {
        this.chunks.set(key, { kind: 'range', url: this.options.url, offset: file.absolute(chunk.address), length: chunk.size });
      }
    }
    await this.inline(small);
  }

  /** Reads small chunks for inlining, neighbours together (one read per run of nearby chunks). */
  private async inline(small: { key: string; address: number; size: number }[]): Promise<void> {
    small.sort((a, b) => a.address - b.address);
    const maxGap = 4096;
    const maxRun = 1 << 20;
    for (let i = 0; i < small.length; ) {
      const start = small[i]!.address;
      let end = start + small[i]!.size;
      let j = i + 1;
      while (j < small.length && small[j]!.address <= end + maxGap && small[j]!.address + small[j]!.size - start <= maxRun) {
        end = Math.max(end, small[j]!.address + small[j]!.size);
        j++;
      }
      const bytes = await this.file.read(start, end - start);
      // one compact buffer per run: no buffer per chunk, no gap bytes kept alive
      let total = 0;
      for (let k = i; k < j; k++) total += small[k]!.size;
      const packed = new Uint8Array(total);
      let at = 0;
      for (let k = i; k < j; k++) {
        const c = small[k]!;
        packed.set(bytes.subarray(c.address - start, c.address - start + c.size), at);
        this.chunks.set(c.key, { kind: 'inline', data: packed.subarray(at, at + c.size) });
        at += c.size;
      }
      i = j;
    }
  }

  private chunkKey(path: string, coords: readonly number[]): string {
    return this.key(path, coords.length === 0 ? '0' : coords.join('.'));
  }

  private async storedChunks(path: string, layout: Layout, space: Dataspace, datatype: Datatype): Promise<StoredChunk[]> {
    const rank = space.kind === 'scalar' ? 0 : space.dims.length;
    switch (layout.class) {
      case 'compact':
        return [];
      case 'contiguous': {
        if (layout.address === undefined) return [];
        const size = layout.size ?? elementCount(space) * datatype.size;
        return [{ coords: new Array<number>(Math.max(rank, 1)).fill(0), address: layout.address, size, filterMask: 0 }];
      }
      case 'chunked': {
        if (layout.chunk.length !== rank) this.fail(path, `chunk rank ${layout.chunk.length} differs from dataset rank ${rank}`);
        try {
          return await readChunkIndex(this.file, layout.index, {
            dims: space.dims,
            maxDims: space.maxDims,
            chunk: layout.chunk,
            elementSize: layout.elementSize,
          });
        } catch (error) {
          if (error instanceof ReferenceFormatError) this.fail(path, `chunk index (${layout.index.type}): ${error.message}`);
          throw error;
        }
      }
      default:
        return [];
    }
  }

  /** HDF5 filter pipeline → Zarr filters and compressor (Zarr applies filters, then the compressor). */
  private codecs(path: string, filters: readonly Filter[], datatype: Datatype): { compressor: JsonValue; filters: JsonValue[] } {
    const codecs: JsonValue[] = filters.map((f): JsonValue => {
      switch (f.id) {
        case 1:
          return { id: 'zlib', level: f.values[0] ?? 6 };
        case 2:
          return { id: 'shuffle', elementsize: f.values[0] ?? datatype.size };
        case 3:
          return { id: 'fletcher32' };
        default:
          return this.fail(path, `uses HDF5 filter ${f.id} (${FILTER_NAMES[f.id] ?? (f.name || 'unknown')}), which strato cannot map to a Zarr codec`);
      }
    });
    const last = filters[filters.length - 1];
    if (last?.id === 1) return { compressor: codecs.pop()!, filters: codecs };
    return { compressor: null, filters: codecs };
  }

  /** kerchunk's fill value: `_FillValue` when present, none for netCDF variables, else HDF5's. */
  private async fillValue(header: ObjectHeader, datatype: Datatype, byName: Map<string, RawAttribute>): Promise<JsonValue> {
    const explicit = byName.get('_FillValue');
    if (explicit) {
      const v = this.encodeFill(datatype, explicit.data, explicit.datatype);
      if (v !== undefined) return v;
    }
    if (datatype.class === 'string') {
      return this.encodeFill(datatype, this.hdf5Fill(header) ?? new Uint8Array(0), datatype) ?? null;
    }
    if ([...byName.keys()].some((n) => n.includes('_Netcdf4'))) return null;
    const units = byName.get('units');
    if (units) {
      const v = await attributeValue(this.file, this.heap, units.datatype, units.dataspace, units.data);
      if (typeof v === 'string' && v.includes('since')) return null;
    }
    const raw = this.hdf5Fill(header);
    if (!raw || raw.length < datatype.size) return 0;
    return this.encodeFill(datatype, raw, datatype) ?? 0;
  }

  private hdf5Fill(header: ObjectHeader): Uint8Array | undefined {
    const m = findMessage(header, MSG.FILL_VALUE);
    if (m) {
      const v = parseFillValue(this.file.cursorOf(m.data)).value;
      return v && v.length > 0 ? v : undefined;
    }
    const old = findMessage(header, MSG.FILL_VALUE_OLD);
    if (old) {
      const v = parseOldFillValue(this.file.cursorOf(old.data)).value;
      return v && v.length > 0 ? v : undefined;
    }
    return undefined;
  }

  /** zarr's encode_fill_value of a value stored with datatype `from` into an array of `to`. */
  private encodeFill(to: Datatype, bytes: Uint8Array, from: Datatype): JsonValue | undefined {
    if (to.class === 'string') {
      const s = from.class === 'string' ? bytes.subarray(0, Math.min(from.size, to.size)) : new Uint8Array(0);
      let end = s.length;
      while (end > 0 && s[end - 1] === 0) end--;
      const trimmed = end > 0 ? s.subarray(0, end) : new Uint8Array([0x20]);
      return Buffer.from(trimmed).toString('base64');
    }
    const v = readNumber(from, bytes, 0);
    if (v === undefined) return undefined;
    const base = to.class === 'enum' ? to.base : to;
    if (base.class === 'integer') return Number.isFinite(v) ? Math.trunc(v) : undefined;
    return jsonNumber(v);
  }

  private async isDimensionScale(byName: Map<string, RawAttribute>): Promise<boolean> {
    const cls = byName.get('CLASS');
    if (!cls) return false;
    const v = await attributeValue(this.file, this.heap, cls.datatype, cls.dataspace, cls.data);
    return v === 'DIMENSION_SCALE';
  }

  /** kerchunk's _ARRAY_DIMENSIONS: the attached dimension scale's path, the scale itself, or phony_dim_N. */
  private async arrayDimensions(path: string, space: Dataspace, byName: Map<string, RawAttribute>, isScale: boolean): Promise<string[]> {
    if (space.kind === 'scalar') return [];
    const lists = await this.dimensionList(byName.get('DIMENSION_LIST'), space.dims.length);
    return space.dims.map((_, n) => {
      const scales = lists[n] ?? [];
      if (scales.length === 1) {
        const name = this.pathOf.get(scales[0]!);
        if (name === undefined) this.fail(path, `dimension ${n} refers to an object at ${scales[0]} that is not linked in the file`);
        return name!;
      }
      if (isScale) return path;
      if (scales.length > 1) this.fail(path, `${scales.length} dimension scales attached to dimension #${n}`);
      return `phony_dim_${n}`;
    });
  }

  /** Object addresses of the scales attached to each dimension (DIMENSION_LIST: vlen of object references). */
  private async dimensionList(attribute: RawAttribute | undefined, rank: number): Promise<number[][]> {
    if (!attribute) return [];
    const t = attribute.datatype;
    if (t.class !== 'vlen-sequence' || t.base.class !== 'reference' || t.base.kind !== 0) return [];
    const out: number[][] = [];
    const count = Math.min(elementCount(attribute.dataspace), rank);
    for (let i = 0; i < count; i++) {
      const refs = await vlenElement(this.file, this.heap, attribute.data, i, t.size);
      const c = this.file.cursorOf(refs);
      const addresses: number[] = [];
      while (c.remaining >= t.base.size && addresses.length < 1024) {
        const start = c.position;
        const a = c.address();
        c.position = start + t.base.size;
        if (a !== undefined) addresses.push(a);
      }
      out.push(addresses);
    }
    return out;
  }

  private async convertAttributes(attributes: readonly RawAttribute[]): Promise<{ [key: string]: JsonValue }> {
    const out: { [key: string]: JsonValue } = {};
    const floats = new Set<string>();
    for (const a of attributes) {
      if (HIDDEN_ATTRIBUTES.has(a.name) || a.name === '_FillValue') continue;
      const v = await attributeValue(this.file, this.heap, a.datatype, a.dataspace, a.data);
      if (v === undefined || v === 'DIMENSION_SCALE') continue;
      setOwn(out, a.name, v);
      if (a.datatype.class === 'float' || (a.datatype.class === 'array' && a.datatype.base.class === 'float')) floats.add(a.name);
    }
    this.floatAttributes.set(out, floats);
    return out;
  }

  /** Variable-length strings: values embedded as one JSON-encoded chunk (kerchunk's vlen_encode="embed"). */
  private async embedStrings(
    path: string,
    layout: Layout,
    space: Dataspace,
    datatype: Datatype,
    filters: readonly Filter[],
    stored: readonly StoredChunk[],
    zattrs: { [key: string]: JsonValue },
  ): Promise<void> {
    const n = elementCount(space);
    const size = datatype.size;
    if (size === 0 || n * size > 64 << 20) this.fail(path, `${n} variable-length strings of ${size} bytes each cannot be embedded`);
    const raw = new Uint8Array(n * size);
    const dims = space.kind === 'scalar' ? [] : space.dims;
    if (layout.class === 'compact') raw.set(layout.data.subarray(0, raw.length));
    else if (layout.class === 'contiguous') {
      if (stored[0]) raw.set((await this.file.read(stored[0].address, Math.min(stored[0].size, raw.length))).subarray(0, raw.length));
    } else if (layout.class === 'chunked') {
      for (const chunk of stored) {
        let data: Uint8Array;
        try {
          const chunkBytes = layout.chunk.reduce((a, b) => a * b, size);
          data = decodeChunk(await this.file.read(chunk.address, chunk.size, 'string chunk'), filters, chunk.filterMask, Math.min(chunkBytes + 1024, MAX_HDF5_READ_BYTES));
        } catch (error) {
          this.fail(path, `cannot decode a string chunk: ${(error as Error).message}`);
        }
        placeChunk(raw, data, dims, layout.chunk, chunk.coords, size);
      }
    }
    const values: JsonValue[] = [];
    for (let i = 0; i < n; i++) {
      const bytes = raw.subarray(i * size, (i + 1) * size);
      values.push(bytes.every((b) => b === 0) ? '' : decodeUtf8(await vlenElement(this.file, this.heap, raw, i, size)));
    }
    const nested = nestValues(values, dims);
    const document = pythonJson([...(dims.length === 0 ? values : nested), '|O', [...dims]]);
    this.metadata.set(this.key(path, '.zarray'), {
      chunks: dims.map((d) => Math.max(d, 1)),
      compressor: null,
      dtype: '|O',
      fill_value: null,
      filters: [JSON_CODEC],
      order: 'C',
      shape: [...dims],
      zarr_format: 2,
    });
    this.metadata.set(this.key(path, '.zattrs'), zattrs);
    this.chunks.set(
      this.chunkKey(
        path,
        dims.map(() => 0),
      ),
      { kind: 'inline', data: new TextEncoder().encode(document) },
    );
  }
}

function describe(t: Datatype): string {
  if (t.class === 'other') return `${t.name} (${t.size} bytes)`;
  return `${t.class} (${t.size} bytes)`;
}

/** Copies a decoded chunk into the C-order buffer of the whole array (edge chunks clipped). */
function placeChunk(target: Uint8Array, chunk: Uint8Array, dims: readonly number[], chunkShape: readonly number[], coords: readonly number[], size: number): void {
  const rank = dims.length;
  const origin = coords.map((c, i) => c * chunkShape[i]!);
  const extent = origin.map((o, i) => Math.max(0, Math.min(chunkShape[i]!, dims[i]! - o)));
  if (extent.some((e) => e === 0)) return;
  const index = new Array<number>(rank).fill(0);
  const rowLength = extent[rank - 1]! * size;
  for (;;) {
    let src = 0;
    let dst = 0;
    for (let d = 0; d < rank; d++) {
      src = src * chunkShape[d]! + (d === rank - 1 ? 0 : index[d]!);
      dst = dst * dims[d]! + origin[d]! + (d === rank - 1 ? 0 : index[d]!);
    }
    target.set(chunk.subarray(src * size, src * size + rowLength), dst * size);
    let d = rank - 2;
    while (d >= 0) {
      index[d]!++;
      if (index[d]! < extent[d]!) break;
      index[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

function nestValues(values: JsonValue[], dims: readonly number[]): JsonValue[] {
  if (dims.length <= 1) return values;
  const inner = dims.slice(1).reduce((a, b) => a * b, 1);
  const out: JsonValue[] = [];
  for (let i = 0; i < dims[0]!; i++) out.push(nestValues(values.slice(i * inner, (i + 1) * inner), dims.slice(1)));
  return out;
}

/** JSON as Python's json.dumps(ensure_ascii=True, separators=(',', ':')) writes it. */
function pythonJson(value: JsonValue): string {
  return asciiJson(JSON.stringify(value));
}
