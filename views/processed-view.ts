import { createHash } from 'node:crypto';
import type { Dataset } from '../catalog/dataset.js';
import { schemaOf } from '../catalog/dataset-schema.js';
import { boundsVariables } from '../cf/axes.js';
import { chunkCount, chunksCovering } from '../kerchunk/array-reader.js';
import type { ArrayValues, DatasetValues, NumericArray, Slice } from '../kerchunk/array-values.js';
import type { CacheObserver } from '../kerchunk/cache-observer.js';
import { ChunkGrid } from '../kerchunk/chunk-grid.js';
import type { ChunkCodecs } from '../kerchunk/codecs/codec-pool.js';
import { encoderImplementation } from '../kerchunk/codecs/native.js';
import type { TranscodePlan, ValueStep } from '../kerchunk/codecs/transcode.js';
import { parseNumericDtype } from '../kerchunk/dtype.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { SingleFlightCache } from '../kerchunk/single-flight-cache.js';
import type { Sources } from '../kerchunk/sources/sources.js';
import { isMetadataKey, splitChunkKey } from '../kerchunk/zarr-keys.js';
import { arrayMetadata, type ZarrArrayMetadata } from '../kerchunk/zarr-metadata.js';
import { v2ChunkKey } from '../kerchunk/zarr-v3.js';
import { etagOf } from '../server/http/etag.js';
import { whenResponseOver } from '../server/http/response-lifetime.js';
import { sendfileAvailable } from '../server/http/sendfile.js';
import { bytesBody, type ServedBody } from '../server/http/served-body.js';
import { SENDFILE_MIN_BYTES, STREAM_PIECE_BYTES, type StreamableBody } from '../server/http/store-routes.js';
import { configureStages, type ProcessingStage, type StageArray, type StageStep, type StepFactory } from '../server/stage.js';
import type { ChunkPeers } from './chunk-peers.js';
import type { DiskChunkCache, DiskEntry } from './disk-chunk-cache.js';
import { dimensionSeparators, LazyMetadataDocuments, type MetadataDocumentCache, objectMembers, withAttributes } from './metadata-documents.js';
import { CHUNK_CACHE_CONTROL, completeMetadata, type RawView } from './raw-view.js';

/** Bump when an encoder's output changes for the same input (keys of the disk tier change with it). */
const ENCODING_GENERATION = 4;
/** How long a chunk's tag is reused; the file source re-checks files as often (FileSource revalidateMs). */
const TAG_TTL_MS = 1000;
/** Tags kept per view before they are all forgotten at once. */
const MAX_RECENT_TAGS = 10_000;
/** Disk-tier hits remembered before they are all forgotten at once (see `EncodedChunkCache.firstDiskHit`). */
const MAX_REMEMBERED_DISK_HITS = 50_000;
/** Target chunks made of more source chunks than this are not cached (see `chunkTag`). */
const MAX_TAGGED_SOURCES = 100_000;

/** One processed array: target metadata, and the value transforms of its stages in order. */
interface ProcessedArray {
  readonly name: string;
  readonly meta: ZarrArrayMetadata;
  /** `meta` and the source's metadata as JSON (part of every chunk's ETag). */
  readonly metaText: string;
  /** The source array's chunk shape and key separator (to find the source chunks of a target chunk). */
  readonly source: { readonly chunks: readonly number[]; readonly separator: string };
  readonly grid: ChunkGrid;
  readonly values: ArrayValues;
  readonly transforms: ReadonlyArray<(chunk: NumericArray) => NumericArray>;
  /**
   * The transforms as data, with the target metadata, when every one has its description
   * (`StageStep.valueStep`): a target chunk that is one whole source chunk is then made in one
   * codec job (`ArrayValues.transcode`), its decoded values never on this thread.
   */
  readonly plan: Omit<TranscodePlan, 'source'> | undefined;
  readonly fillValue: number | bigint | undefined;
  /** Attributes the stages set on the array's `.zattrs` (none: the source's are served as written). */
  readonly attributes: Readonly<Record<string, JsonValue>>;
}

/**
 * Encoded chunks of the processed view, shared by all datasets, bounded in bytes: a memory LRU
 * of this process in front of an optional disk tier shared by all server processes
 * (disk-chunk-cache.ts). Keys are the chunks' ETags (see `ProcessedView.chunkTag`), which change
 * whenever the bytes could.
 *
 * A large chunk found on disk (another worker made it, or this one before a restart) is not
 * read the first time: when the request has a Node response and sendfile is there, its body is
 * the open cache file, sent by sendfile (store-routes.ts) and closed once the response is over;
 * the kernel's page cache holds it once for every worker. Found again, it is read into the
 * memory LRU (a chunk asked for twice is likely asked for again). Small ones, and every one
 * without a Node response (`app.request()`), are read into the memory LRU as before.
 *
 * When a chunk is written to disk: when the memory LRU evicts it (or at once when it is too large
 * for the LRU at all), and, with several server processes (`--workers N`, `peers`), when another
 * process asks for it (chunk-peers.ts): a cold pass that fits in memory costs no disk writes
 * (they took ~14 % of the server's CPU single, a third of an encode with two workers: page-cache
 * copies into fresh pages), and a second pass is still warm in every process. Several processes
 * sharing a tier without `peers` write every chunk as soon as it is encoded (write-through). What
 * was still in memory only is not on disk after a restart.
 */
export class EncodedChunkCache {
  private readonly chunks: SingleFlightCache<ServedBody>;
  /** Encoded here and not written to disk yet (written when evicted, or when a peer asks). */
  private readonly unwritten = new WeakSet<ServedBody>();
  /** Keys this process found on disk and sent from there (see `firstDiskHit`). */
  private readonly diskHits = new Set<string>();
  /** Writes to disk a peer asked for, by key, while they run. */
  private readonly peerWrites = new Map<string, Promise<boolean>>();
  private readonly writeThrough: boolean;

  constructor(
    private readonly maxBytes = 256 * 1024 * 1024,
    private readonly observer?: CacheObserver,
    private readonly disk?: Promise<DiskChunkCache | undefined> | DiskChunkCache,
    private readonly diskObserver?: CacheObserver,
    /** Write chunks to disk as soon as they are encoded. Default: when this is one of several server processes without `peers`. */
    writeThrough?: boolean,
    /** The other server processes sharing the disk tier (chunk-peers.ts). */
    private readonly peers?: ChunkPeers,
  ) {
    this.writeThrough = writeThrough ?? (serverProcesses() > 1 && !peers);
    this.chunks = new SingleFlightCache({
      maxBytes,
      sizeOf: (body) => body.size,
      observer,
      onEvict: (etag, body) => this.evicted(etag, body),
      // an encoded chunk's own buffer (a chunk sent from a disk-tier file holds none)
      bufferBytes: (body) => body.bytes?.byteLength ?? 0,
    });
    peers?.answer((etag) => this.writeForPeer(etag));
  }

  /** A chunk pushed out of memory: onto disk, unless it is there already. */
  private evicted(etag: string, body: ServedBody): void {
    if (!this.unwritten.has(body) || !body.bytes) return;
    this.unwritten.delete(body);
    this.peers?.released(etag);
    void this.store(etag, body.bytes);
  }

  /**
   * True the first time this process finds `etag` on disk (the chunk is then sent from its file),
   * false when it found it before: a chunk asked for again is read into memory, where a hit costs
   * a third of a send from the file (warm, 16 connections, 2 workers: 590 vs 400 µs per request).
   */
  private firstDiskHit(etag: string): boolean {
    if (this.diskHits.has(etag)) return false;
    if (this.diskHits.size >= MAX_REMEMBERED_DISK_HITS) this.diskHits.clear();
    this.diskHits.add(etag);
    return true;
  }

  /** Another server process wants `etag`: true once it is on disk (written now, or before). */
  private writeForPeer(etag: string): Promise<boolean> {
    const running = this.peerWrites.get(etag);
    if (running) return running;
    const body = this.chunks.peek(etag);
    if (!body?.bytes) return Promise.resolve(false);
    // not ours to write: read from disk, or written already
    if (!this.unwritten.has(body)) return Promise.resolve(true);
    this.unwritten.delete(body);
    // released once written: asks arriving meanwhile still reach this process and wait for the write
    const write = this.store(etag, body.bytes).finally(() => {
      this.peerWrites.delete(etag);
      this.peers?.released(etag);
    });
    this.peerWrites.set(etag, write);
    return write;
  }

  private async store(etag: string, bytes: Uint8Array): Promise<boolean> {
    const disk = await this.disk;
    return disk ? disk.set(etag, bytes) : false;
  }

  /**
   * What `find` finds of `etag` in the disk tier: there already, or written for this process by
   * the peer holding it. Looked for again whatever the answer: a peer that wrote it for another
   * request meanwhile has released it, and the answer is then "nobody holds it".
   */
  private async shared<T>(etag: string, find: () => Promise<T | undefined>): Promise<T | undefined> {
    const found = await find();
    if (found !== undefined || !this.peers) return found;
    await this.peers.askToWrite(etag);
    return find();
  }

  /**
   * The chunk whose ETag is `etag`: from memory, else from disk, else as `encode` makes it (then
   * stored in both); concurrent identical requests share one computation. `signal`: the
   * request's client signal (lets a disk hit be sent from its file, see the class comment).
   */
  async get(etag: string, encode: () => Promise<Uint8Array>, signal?: AbortSignal): Promise<ServedBody> {
    if (signal && sendfileAvailable && this.chunks.peek(etag) === undefined) {
      const disk = await this.disk;
      const entry = disk && (await this.shared(etag, () => disk.open(etag)));
      if (entry) {
        if (entry.size >= SENDFILE_MIN_BYTES && this.firstDiskHit(etag) && whenResponseOver(signal, () => entry.close())) {
          this.observer?.miss();
          this.diskObserver?.hit();
          return diskBody(entry, etag);
        }
        try {
          // (when another request is making it already, this one waits for that instead)
          return await this.chunks.get(etag, async () => {
            const stored = await entry.read(0, entry.size).catch(() => undefined);
            if (!stored) return this.fromDisk(etag, encode, false);
            this.diskObserver?.hit();
            return bytesBody(stored, etag, 'application/octet-stream', CHUNK_CACHE_CONTROL);
          });
        } finally {
          entry.close();
        }
      }
      return this.chunks.get(etag, () => this.fromDisk(etag, encode, false));
    }
    return this.chunks.get(etag, () => this.fromDisk(etag, encode, true));
  }

  /** A missing chunk: from disk (when `look`), else encoded (and stored on disk). */
  private async fromDisk(etag: string, encode: () => Promise<Uint8Array>, look: boolean): Promise<ServedBody> {
    const disk = await this.disk;
    const stored = look && disk && (await this.shared(etag, () => disk.get(etag)));
    if (stored) {
      this.diskObserver?.hit();
      return bytesBody(stored, etag, 'application/octet-stream', CHUNK_CACHE_CONTROL);
    }
    if (disk) this.diskObserver?.miss();
    const encoded = await encode();
    const body = bytesBody(encoded, etag, 'application/octet-stream', CHUNK_CACHE_CONTROL);
    if (disk) {
      if (this.writeThrough || encoded.byteLength > this.maxBytes) void disk.set(etag, encoded);
      else {
        this.unwritten.add(body);
        this.peers?.holding(etag);
      }
    }
    return body;
  }
}

/**
 * server/config.ts's SERVER_PROCESSES_VARIABLE, set by `strato serve --workers N` in its workers
 * (views/ may not import server/config.ts; encoded-chunk-cache.test.ts checks they agree).
 */
const SERVER_PROCESSES_VARIABLE = 'STRATO_SERVER_PROCESSES';

/** How many server processes share this machine's disk tier. */
function serverProcesses(): number {
  const count = Number(process.env[SERVER_PROCESSES_VARIABLE] ?? 1);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

/** A chunk in an open file of the disk tier: sent from it by sendfile, or read by range (closed by the caller). */
function diskBody(entry: DiskEntry, etag: string): StreamableBody {
  return {
    size: entry.size,
    etag,
    contentType: 'application/octet-stream',
    cacheControl: CHUNK_CACHE_CONTROL,
    read: (start, end) => entry.read(start, end),
    stream: (start, end) => {
      let position = start;
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (position >= end) {
              controller.close();
              return;
            }
            const to = Math.min(end, position + STREAM_PIECE_BYTES);
            controller.enqueue(await entry.read(position, to));
            position = to;
          },
        },
        { highWaterMark: 0 },
      );
    },
    file: async (start, end) => ({ fd: entry.fd, offset: entry.offset + start, length: end - start, done: () => undefined }),
  };
}

/** What a processed view is made of. */
export interface ProcessedViewOptions {
  readonly dataset: Dataset;
  /** The dataset's decoded values (shared with the other plugins through one decoded-chunk cache). */
  readonly values: DatasetValues;
  /** The stages, in order; each reads its key of the dataset's `processing` block. */
  readonly stages: readonly ProcessingStage[];
  /** The raw view of the same dataset: arrays that cannot be decoded pass through it. */
  readonly raw: RawView;
  /** Encoded chunks, possibly shared with other views. */
  readonly cache: EncodedChunkCache;
  /** The sources the dataset is read from (versions of the objects its chunks are in). */
  readonly sources: Sources;
  /** Where chunks are encoded. */
  readonly codecs: ChunkCodecs;
  /** strato's version: part of every chunk's ETag (a new release may encode differently). Default ''. */
  readonly version?: string;
  /** Where the rendered metadata documents are kept (shared by the views; default: the view keeps its own). */
  readonly documentCache?: MetadataDocumentCache;
}

/**
 * The processed view of a dataset: each numeric array re-chunked, transformed and re-encoded by
 * the stages its `processing` block names; metadata advertises the real chunks and codecs.
 * Arrays that cannot be decoded (strings, structs) pass through as in the raw view.
 */
export class ProcessedView {
  private readonly arrays = new Map<string, ProcessedArray>();
  private readonly documents: LazyMetadataDocuments;
  private readonly separators: ReadonlyMap<string, string>;
  private readonly dataset: Dataset;
  private readonly raw: RawView;
  private readonly cache: EncodedChunkCache;
  private readonly sources: Sources;
  private readonly codecs: ChunkCodecs;
  /** Tags made lately, by v2 key (see `recentTag`). */
  private readonly tags = new Map<string, { readonly tag: string; readonly at: number }>();
  /** What every chunk of this view depends on besides its source chunks (see `chunkTag`). */
  private readonly identity: string;

  /** Throws ProcessingConfigError when the dataset's `processing` block does not suit the stages. */
  constructor(options: ProcessedViewOptions) {
    const { dataset, values, stages } = options;
    this.dataset = dataset;
    this.raw = options.raw;
    this.cache = options.cache;
    this.sources = options.sources;
    this.codecs = options.codecs;
    // the encoders' implementation too: a build with liblz4 and one without never share a tag
    this.identity = JSON.stringify([
      ENCODING_GENERATION,
      encoderImplementation,
      options.version ?? '',
      dataset.id,
      dataset.entry.processing ?? null,
      stages.map((stage) => stage.key),
    ]);
    const steps = configureStages(stages, dataset.entry.processing);
    const schema = schemaOf(dataset);
    const bounds = boundsVariables(schema.variables);
    const texts = completeMetadata(dataset.references.metadataText);
    for (const [key, text] of texts) {
      if (!key.endsWith('.zarray')) continue;
      const name = key === '.zarray' ? '' : key.slice(0, -'/.zarray'.length);
      const processed = this.processArray(
        name,
        values,
        steps,
        schema.variables.find((v) => v.name === name),
        bounds.has(name),
      );
      if (processed) {
        this.arrays.set(name, processed);
        texts.set(key, JSON.stringify(processed.meta));
        const attrsKey = name ? `${name}/.zattrs` : '.zattrs';
        if (Object.keys(processed.attributes).length > 0) texts.set(attrsKey, withAttributes(texts.get(attrsKey) ?? '{}', processed.attributes));
      } else {
        texts.set(key, text);
      }
    }
    const note = processingNote([...this.arrays.values()], schema.variables, options.version, (name) => arrayMetadata(dataset.references.metadata, name));
    if (note) texts.set('.zattrs', withHistory(texts.get('.zattrs') ?? '{}', note));
    // rendered when first asked for and kept in the views' shared document cache (as the raw view's)
    this.documents = new LazyMetadataDocuments(texts, () => texts, options.documentCache);
    this.separators = dimensionSeparators(texts);
  }

  metadata(key: string): ServedBody | undefined {
    return this.documents.get(key);
  }

  async chunk(key: string, signal?: AbortSignal): Promise<ServedBody | undefined> {
    if (isMetadataKey(key)) return undefined;
    const v2Key = v2ChunkKey(key, this.separators) ?? key;
    const parts = splitChunkKey(v2Key);
    if (!parts) return undefined;
    const array = this.arrays.get(parts.array);
    if (!array) return this.raw.chunk(key, signal);
    const index = array.grid.indexOf(parts.chunk);
    if (index === undefined) return undefined;
    const etag = await this.recentTag(v2Key, () => this.chunkTag(array, parts.chunk, signal));
    if (etag === undefined) {
      const encoded = await this.encode(array, parts.chunk, signal);
      return bytesBody(encoded, etagOf(encoded), 'application/octet-stream', CHUNK_CACHE_CONTROL);
    }
    return this.cache.get(etag, () => this.encode(array, parts.chunk, signal), signal);
  }

  /**
   * A chunk's tag as made at most TAG_TTL_MS ago (a warm chunk needs no reference lookups and
   * version checks per request); the file source notices a rewritten file within the same time.
   */
  private async recentTag(key: string, make: () => Promise<string | undefined>): Promise<string | undefined> {
    const now = Date.now();
    const recent = this.tags.get(key);
    if (recent && now - recent.at < TAG_TTL_MS) return recent.tag;
    const tag = await make();
    if (tag === undefined) return undefined;
    if (this.tags.size >= MAX_RECENT_TAGS) this.tags.clear();
    this.tags.set(key, { tag, at: now });
    return tag;
  }

  /**
   * The ETag of a processed chunk, made without its bytes: a SHA-256 of what they are made from —
   * the view's identity (encoder generation and implementation, strato version, dataset id,
   * `processing` block, stages), the array's source and target metadata, the chunk's index, and for every source
   * chunk it covers the reference (`[url, offset, length]`, inline bytes, or missing) and the
   * version of the object it points into (a file's size and mtime, an http ETag). So it changes
   * whenever the bytes could (a re-registered dataset, a rewritten source file, a new release),
   * and it keys the encoded-chunk caches. Selections touching more than MAX_TAGGED_SOURCES source
   * chunks (a pathological re-chunking, refused by the request budget anyway) get no tag: they
   * are encoded without the caches and tagged by their bytes.
   */
  private async chunkTag(array: ProcessedArray, suffix: string, signal?: AbortSignal): Promise<string | undefined> {
    const selection = selectionOf(array.meta, suffix);
    const source = array.source;
    const hash = createHash('sha256').update(this.identity).update('\0').update(array.metaText).update('\0').update(suffix);
    if (chunkCount(selection, source.chunks) > MAX_TAGGED_SOURCES) return undefined;
    const base = this.dataset.referenceBase;
    const versions = new Map<string, string>();
    for (const index of chunksCovering(selection, source.chunks)) {
      signal?.throwIfAborted();
      const key = `${array.name}/${index.length === 0 ? '0' : index.join(source.separator)}`;
      const reference = await this.dataset.references.chunk(key);
      hash.update('\0').update(key).update('\0');
      if (!reference) {
        hash.update('fill');
        continue;
      }
      if (reference.kind === 'inline') {
        hash.update('inline\0').update(reference.data);
        continue;
      }
      let version = versions.get(reference.url);
      if (version === undefined) {
        version = (await this.sources.version(reference, base, signal)) ?? '';
        versions.set(reference.url, version);
      }
      hash.update(JSON.stringify(reference.kind === 'range' ? [reference.url, reference.offset, reference.length, version] : [reference.url, version]));
    }
    return `"${hash.digest('base64url')}"`;
  }

  private processArray(
    name: string,
    values: DatasetValues,
    steps: StepFactory[],
    variable: { dims: readonly string[]; isCoordinate: boolean; attrs: Readonly<Record<string, JsonValue>> } | undefined,
    isBounds: boolean,
  ): ProcessedArray | undefined {
    const source = arrayMetadata(this.dataset.references.metadata, name);
    const arrayValues = values.array(name);
    const dtype = source && parseNumericDtype(source.dtype);
    if (!source || !arrayValues || !dtype) return undefined;
    const stageArray: StageArray = {
      name,
      dims: variable?.dims ?? source.shape.map((_, i) => `dim_${i}`),
      shape: source.shape,
      isCoordinate: variable?.isCoordinate ?? false,
      isBounds,
      dtype,
      fillValue: arrayValues.fillValue,
    };
    let meta: ZarrArrayMetadata = { ...source, dtype: nativeDtype(source.dtype as string), filters: null, dimension_separator: '.' };
    const transforms: Array<(chunk: NumericArray) => NumericArray> = [];
    const valueSteps: Array<ValueStep | undefined> = [];
    const attributes: Record<string, JsonValue> = Object.create(null);
    for (const makeStep of steps) {
      const step: StageStep | undefined = makeStep(stageArray);
      if (!step) continue;
      meta = step.metadata(meta);
      if (step.values) {
        transforms.push(step.values);
        valueSteps.push(step.valueStep);
      }
      if (step.attributes) Object.assign(attributes, step.attributes({ ...variable?.attrs, ...attributes }));
    }
    const chunks = meta.shape.length === 0 ? [] : meta.chunks;
    let grid: ChunkGrid;
    try {
      grid = new ChunkGrid(meta.shape, chunks);
    } catch (error) {
      // e.g. a grid past 2^53 chunks: this array passes through as in the raw view; the others are processed
      if (error instanceof RangeError) return undefined;
      throw error;
    }
    return {
      name,
      meta,
      metaText: JSON.stringify([meta, source, attributes]),
      source: { chunks: source.shape.length === 0 ? [] : source.chunks, separator: source.dimension_separator ?? '.' },
      grid,
      values: arrayValues,
      transforms,
      plan: valueSteps.every((step) => step !== undefined) ? { target: meta, steps: valueSteps as ValueStep[] } : undefined,
      fillValue: arrayValues.fillValue,
      attributes,
    };
  }

  private async encode(array: ProcessedArray, suffix: string, signal?: AbortSignal): Promise<Uint8Array> {
    const { meta } = array;
    const selection = selectionOf(meta, suffix);
    if (array.plan && array.values.transcode) {
      const encoded = await array.values.transcode(selection, array.plan, signal);
      if (encoded) return encoded;
    }
    let chunk = padToChunk(await array.values.read(selection, signal, { uncached: true }), selection, meta.shape.length === 0 ? [] : meta.chunks, array.fillValue);
    for (const transform of array.transforms) chunk = transform(chunk);
    const raw = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // the chunk was made for this request alone (read() returns a new array): hand it over
    return this.codecs.encode(raw, meta, { transfer: true });
  }
}

/** The `_QuantizeBitRoundNumberOfSignificantBits` a stage set (netCDF-C's name for BitRound). */
const BITROUND_ATTRIBUTE = '_QuantizeBitRoundNumberOfSignificantBits';

/**
 * A `history` line saying what the processed view did, or undefined when it changed nothing:
 * "strato <version> processed view: tas bit-rounded to 10 mantissa bits (BitRound); tas
 * rechunked to time: 30, lat: 37, lon: 72; tas, time re-compressed with blosc lz4". No clock
 * time: the same bytes for every request and every process (metadata ETags come from bytes).
 */
export function processingNote(
  arrays: ReadonlyArray<{ readonly name: string; readonly meta: ZarrArrayMetadata; readonly attributes: Readonly<Record<string, JsonValue>> }>,
  variables: ReadonlyArray<{ readonly name: string; readonly dims: readonly string[] }>,
  version: string | undefined,
  sources: (name: string) => ZarrArrayMetadata | undefined,
): string | undefined {
  const parts: string[] = [];
  for (const array of arrays) {
    const bits = Object.hasOwn(array.attributes, BITROUND_ATTRIBUTE) ? array.attributes[BITROUND_ATTRIBUTE] : undefined;
    if (typeof bits === 'number') parts.push(`${array.name} bit-rounded to ${bits} mantissa bits (BitRound)`);
  }
  for (const array of arrays) {
    const source = sources(array.name);
    if (!source || array.meta.shape.length === 0 || sameJson(source.chunks, array.meta.chunks)) continue;
    const dims = variables.find((v) => v.name === array.name)?.dims ?? [];
    parts.push(`${array.name} rechunked to ${array.meta.chunks.map((n, d) => `${dims[d] ?? `dim_${d}`}: ${n}`).join(', ')}`);
  }
  const compressed = new Map<string, string[]>();
  for (const array of arrays) {
    const source = sources(array.name);
    if (!source || sameJson(source.compressor, array.meta.compressor)) continue;
    const codec = array.meta.compressor;
    const name = codec === null ? 'no compressor' : [codec.id, typeof codec.cname === 'string' ? codec.cname : undefined].filter(Boolean).join(' ');
    compressed.set(name, [...(compressed.get(name) ?? []), array.name]);
  }
  for (const [codec, names] of compressed) parts.push(`${names.join(', ')} re-compressed with ${codec}`);
  if (parts.length === 0) return undefined;
  return `strato${version ? ` ${version}` : ''} processed view: ${parts.join('; ')}`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** A root `.zattrs` text with `note` put first in its `history` (CF: newest first, one line each). */
export function withHistory(text: string, note: string): string {
  const member = objectMembers(text)?.find((m) => m.name === 'history');
  let prior: unknown;
  if (member) {
    try {
      prior = (JSON.parse(`{${member.text}}`) as { history?: unknown }).history;
    } catch {
      prior = undefined;
    }
  }
  const before = typeof prior === 'string' ? prior : prior === undefined || prior === null ? '' : JSON.stringify(prior);
  return withAttributes(text, { history: before ? `${note}\n${before}` : note });
}

/** The selection (in source coordinates) of the target chunk `suffix` ('3.0.1'). */
function selectionOf(meta: ZarrArrayMetadata, suffix: string): Slice[] {
  const origin = meta.shape.length === 0 ? [] : suffix.split('.').map(Number);
  return origin.map((i, d) => {
    const start = i * (meta.chunks[d] as number);
    return { start, stop: Math.min(start + (meta.chunks[d] as number), meta.shape[d] as number), step: 1 };
  });
}

/** A selection's values placed in a full chunk (Zarr v2 edge chunks are stored full size), the rest filled. */
function padToChunk(values: NumericArray, selection: ReadonlyArray<{ start: number; stop: number }>, chunks: readonly number[], fill: number | bigint | undefined): NumericArray {
  const counts = selection.map((s) => s.stop - s.start);
  if (counts.every((n, d) => n === chunks[d])) return values;
  const Constructor = values.constructor as new (length: number) => NumericArray;
  const full = new Constructor(chunks.reduce((a, b) => a * b, 1));
  if (fill !== undefined) (full as unknown as { fill(v: number | bigint): void }).fill(fill);
  const rank = counts.length;
  const copyRow = (d: number, from: number, to: number): void => {
    if (d === rank - 1) {
      (full as unknown as { set(a: ArrayLike<number | bigint>, o: number): void }).set(
        (values as unknown as { subarray(a: number, b: number): ArrayLike<number | bigint> }).subarray(from, from + (counts[d] as number)),
        to,
      );
      return;
    }
    const fromStride = counts.slice(d + 1).reduce((a, b) => a * b, 1);
    const toStride = chunks.slice(d + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < (counts[d] as number); i++) copyRow(d + 1, from + i * fromStride, to + i * toStride);
  };
  copyRow(0, 0, 0);
  return full;
}

/** Values leave the decoder in native (little-endian) order: advertise that. */
function nativeDtype(dtype: string): string {
  return dtype.startsWith('>') ? `<${dtype.slice(1)}` : dtype;
}
