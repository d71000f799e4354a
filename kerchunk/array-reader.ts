import { LRUCache } from 'lru-cache';
import { type ArrayValues, type DatasetValues, type NumericArray, type ReadOptions, type Slice, sliceLength } from './array-values.js';
import type { CacheObserver } from './cache-observer.js';
import { CodecError } from './codecs/codec.js';
import { type ChunkCodecs, inlineCodecs } from './codecs/codec-pool.js';
import type { TranscodePlan } from './codecs/transcode.js';
import { type NumericDtype, parseFillValue, parseNumericDtype, swapBytes } from './dtype.js';
import { holdOutsideHeap, releaseToHeap } from './external-memory.js';
import type { ChunkReference } from './reference.js';
import type { ReferencedDataset } from './referenced-dataset.js';
import { abortReason, BudgetExceededError, currentBudget } from './request-budget.js';
import type { Sources } from './sources/sources.js';
import { arrayMetadata, type ZarrArrayMetadata } from './zarr-metadata.js';

/** Decoded source chunks shared by every dataset's readers, bounded in bytes. */
export class DecodedChunkCache {
  private readonly chunks: LRUCache<string, NumericArray>;
  private readonly tokens = new WeakMap<ReferencedDataset, number>();
  private nextToken = 1;

  constructor(
    readonly maxBytes = 256 * 1024 * 1024,
    private readonly observer?: CacheObserver,
  ) {
    this.chunks = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (chunk) => Math.max(1, chunk.byteLength),
      // held chunks are out of V8's external-memory count (external-memory.ts); leaving, they count again
      disposeAfter: (chunk) => releaseToHeap(chunk.byteLength),
    });
  }

  /** A key prefix unique to this opened dataset (a reloaded dataset gets a new one). */
  prefixFor(dataset: ReferencedDataset): string {
    let token = this.tokens.get(dataset);
    if (token === undefined) {
      token = this.nextToken++;
      this.tokens.set(dataset, token);
    }
    return `${token}\0`;
  }

  get(key: string): NumericArray | undefined {
    const chunk = this.chunks.get(key);
    if (chunk) this.observer?.hit();
    else this.observer?.miss();
    return chunk;
  }

  /** Whether `key` is held (no hit or miss counted, recency unchanged). */
  has(key: string): boolean {
    return this.chunks.has(key);
  }

  set(key: string, chunk: NumericArray): void {
    if (this.chunks.peek(key) === chunk) return;
    this.chunks.set(key, chunk);
    // (a chunk larger than the whole cache is not stored)
    if (this.chunks.has(key)) holdOutsideHeap(chunk.byteLength);
    this.observer?.held(this.chunks.calculatedSize);
  }

  get bytes(): number {
    return this.chunks.calculatedSize;
  }
}

/** Chunks read and decoded at once by one `read` (bounds memory held by a large selection). */
const CHUNKS_PER_BATCH = 16;

/**
 * Decoded values of a dataset's arrays, read through its references: source bytes,
 * the source codecs, native byte order, assembled into the selected hyperslab.
 */
export function datasetValues(dataset: ReferencedDataset, sources: Sources, cache: DecodedChunkCache = new DecodedChunkCache(), codecs: ChunkCodecs = inlineCodecs): DatasetValues {
  const prefix = cache.prefixFor(dataset);
  const arrays = new Map<string, ArrayValues | undefined>();
  const inFlight = new Map<string, Promise<NumericArray | undefined>>();
  return {
    array(name: string): ArrayValues | undefined {
      if (!arrays.has(name)) {
        const meta = arrayMetadata(dataset.references.metadata, name);
        const dtype = meta ? parseNumericDtype(meta.dtype) : undefined;
        const usable = meta && dtype && (meta.order ?? 'C') === 'C';
        arrays.set(name, usable ? new ReferencedArray(name, meta, dtype, { dataset, sources, cache, codecs, prefix, inFlight }) : undefined);
      }
      return arrays.get(name);
    },
  };
}

interface ReaderContext {
  readonly dataset: ReferencedDataset;
  readonly sources: Sources;
  readonly cache: DecodedChunkCache;
  readonly codecs: ChunkCodecs;
  readonly prefix: string;
  readonly inFlight: Map<string, Promise<NumericArray | undefined>>;
}

class ReferencedArray implements ArrayValues {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly chunks: readonly number[];
  readonly fillValue: number | bigint | undefined;
  private readonly separator: string;
  private readonly chunkLength: number;
  /** Zero of the element type (bigint for 64-bit integers). */
  private readonly zero: number | bigint;

  constructor(
    readonly name: string,
    private readonly meta: ZarrArrayMetadata,
    private readonly type: NumericDtype,
    private readonly context: ReaderContext,
  ) {
    this.dtype = meta.dtype as string;
    this.shape = meta.shape;
    this.chunks = meta.shape.length === 0 ? [] : meta.chunks;
    this.fillValue = parseFillValue(meta.fill_value, type);
    this.separator = meta.dimension_separator ?? '.';
    this.chunkLength = this.chunks.reduce((a, b) => a * b, 1);
    this.zero = type.size === 8 && type.kind !== 'f' ? 0n : 0;
  }

  async read(selection: readonly Slice[], signal?: AbortSignal, options?: ReadOptions): Promise<NumericArray> {
    this.checkSelection(selection);
    const budget = currentBudget();
    const abort = signal ? AbortSignal.any([signal, budget.signal]) : budget.signal;
    const counts = selection.map(sliceLength);
    const total = counts.reduce((a, b) => a * b, 1);
    if (total === 0) return this.type.create(0);
    // Both checked before anything is allocated or read: a request past its budget costs nothing.
    budget.chargeChunks(chunkCount(selection, this.chunks));
    budget.chargeDecodedBytes(total * this.type.size);
    if (options?.uncached) {
      const whole = this.wholeChunk(selection);
      if (whole) {
        const handed = await this.handOver(whole, abort);
        if (handed) return handed;
      }
    }
    // not zeroed: every element is written below, from its chunk or as a fill value (0 included)
    const out = this.type.createUninitialised(total);
    let batch: number[][] = [];
    for (const chunkIndex of chunksCovering(selection, this.chunks)) {
      await budget.checkpoint();
      if (abort.aborted) throw abortReason(abort);
      batch.push(chunkIndex);
      if (batch.length < CHUNKS_PER_BATCH) continue;
      await this.readBatch(batch, out, counts, selection, abort);
      batch = [];
    }
    if (batch.length > 0) await this.readBatch(batch, out, counts, selection, abort);
    return out;
  }

  async transcode(selection: readonly Slice[], plan: Omit<TranscodePlan, 'source'>, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    this.checkSelection(selection);
    const whole = this.wholeChunk(selection);
    if (!whole) return undefined;
    const key = `${this.name}/${whole.join(this.separator)}`;
    // held decoded already (by another face, or a read in flight): read() copies it from there
    if (this.heldElsewhere(key)) return undefined;
    // (looked up first: a missing chunk is read()'s, which charges it then)
    const reference = await this.context.dataset.references.chunk(key);
    if (!reference) return undefined;
    // charged as read() charges the same selection handed over: the output here, the decode in stored()
    const budget = currentBudget();
    const abort = signal ? AbortSignal.any([signal, budget.signal]) : budget.signal;
    budget.chargeChunks(1);
    budget.chargeDecodedBytes(this.chunkLength * this.type.size);
    await budget.checkpoint();
    if (abort.aborted) throw abortReason(abort);
    const stored = await this.stored(reference, abort);
    return this.context.codecs.transcode(stored, { source: this.meta, ...plan }, { transfer: reference.kind !== 'inline', signal: abort });
  }

  /** Whether the chunk `key` is in the decoded-chunk cache or being read (shared: never handed over). */
  private heldElsewhere(key: string): boolean {
    const cacheKey = this.context.prefix + key;
    return this.context.cache.has(cacheKey) || this.context.inFlight.has(cacheKey);
  }

  /**
   * The stored bytes of a chunk, its decoded size charged to the budget before the source is read
   * (a table declaring huge chunks costs nothing). Inline bytes belong to the reference table;
   * bytes read from a source are this read's own.
   */
  private async stored(reference: ChunkReference, signal: AbortSignal): Promise<Uint8Array> {
    currentBudget().chargeDecodedBytes(this.chunkLength * this.type.size);
    const stored = await this.context.sources.read(reference, this.context.dataset.referenceBase, undefined, signal);
    if (signal.aborted) throw abortReason(signal);
    return stored;
  }

  /** The chunk index when `selection` is exactly one whole chunk (step 1, aligned, full length), else undefined. */
  private wholeChunk(selection: readonly Slice[]): number[] | undefined {
    if (selection.length === 0) return undefined;
    const index: number[] = [];
    for (let d = 0; d < selection.length; d++) {
      const { start, stop, step } = selection[d] as Slice;
      const chunk = this.chunks[d] as number;
      if (step !== 1 || start % chunk !== 0 || stop - start !== chunk) return undefined;
      index.push(start / chunk);
    }
    return index;
  }

  /**
   * A whole chunk nobody else holds, decoded for this caller alone: not from the cache or a read
   * in flight (those are shared: copied instead), not put into the cache. Undefined when it is
   * cached, in flight or missing (the copying path answers those).
   */
  private async handOver(chunkIndex: number[], signal: AbortSignal): Promise<NumericArray | undefined> {
    const key = `${this.name}/${chunkIndex.join(this.separator)}`;
    if (this.heldElsewhere(key)) return undefined;
    await currentBudget().checkpoint();
    if (signal.aborted) throw abortReason(signal);
    return this.loadChunk(key, signal, false);
  }

  /** Reads a few chunks at once and places each into the output (fill values for missing ones). */
  private async readBatch(batch: readonly number[][], out: NumericArray, counts: number[], selection: readonly Slice[], signal: AbortSignal): Promise<void> {
    const chunks = await Promise.all(batch.map((chunkIndex) => this.chunkOrFill(chunkIndex, signal)));
    batch.forEach((chunkIndex, n) => {
      const chunk = chunks[n] as NumericArray | undefined;
      if (chunk) {
        this.copyInto(out, counts, selection, chunkIndex, chunk);
      } else {
        // a missing chunk: its fill value, or zeros without one
        this.copyInto(out, counts, selection, chunkIndex, this.fillValue ?? this.zero);
      }
    });
  }

  private checkSelection(selection: readonly Slice[]): void {
    if (selection.length !== this.shape.length) {
      throw new RangeError(`${this.name} has ${this.shape.length} dimensions, the selection ${selection.length}`);
    }
    selection.forEach(({ start, stop, step }, d) => {
      const size = this.shape[d] as number;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(stop) || !Number.isSafeInteger(step) || step < 1) {
        throw new RangeError(`${this.name}: dimension ${d} needs integer start/stop and step ≥ 1`);
      }
      if (start < 0 || stop > size || (start >= size && stop > start)) {
        throw new RangeError(`${this.name}: selection ${start}:${stop} outside 0:${size} on dimension ${d}`);
      }
    });
  }

  /** Places a chunk's selected values (or a constant: the fill value of a missing chunk) into the output. */
  private copyInto(out: NumericArray, counts: number[], selection: readonly Slice[], chunkIndex: number[], chunk: NumericArray | number | bigint): void {
    const rank = selection.length;
    const constant = typeof chunk === 'number' || typeof chunk === 'bigint';
    if (rank === 0) {
      (out as unknown as { [i: number]: number | bigint })[0] = constant ? chunk : ((chunk as unknown as { [i: number]: number | bigint })[0] as number | bigint);
      return;
    }
    // Per dimension: pairs (position in output, position in chunk) of the selected indices in this chunk.
    const pairs = selection.map((slice, d) => {
      const chunk0 = (chunkIndex[d] as number) * (this.chunks[d] as number);
      const chunkEnd = chunk0 + (this.chunks[d] as number);
      const first = Math.max(slice.start, slice.start + Math.ceil((chunk0 - slice.start) / slice.step) * slice.step);
      const outPositions: number[] = [];
      const chunkPositions: number[] = [];
      for (let i = first; i < Math.min(slice.stop, chunkEnd); i += slice.step) {
        outPositions.push((i - slice.start) / slice.step);
        chunkPositions.push(i - chunk0);
      }
      return { outPositions, chunkPositions };
    });
    const outStrides = strides(counts);
    const chunkStrides = strides(this.chunks);
    const last = rank - 1;
    const target = out as unknown as { [i: number]: number | bigint; set(a: ArrayLike<number | bigint>, o: number): void; fill(v: number | bigint, a: number, b: number): void };
    const source = chunk as unknown as { [i: number]: number | bigint; subarray(a: number, b: number): ArrayLike<number | bigint> };
    // Trailing dimensions the selection covers whole, in the chunk and in the output alike, are
    // one contiguous run with the dimension before them: a whole chunk is one copy, not a copy
    // per row (and no view object per row).
    let runDim = last;
    if (selection[last]?.step === 1) {
      const whole = (d: number): boolean =>
        selection[d]?.step === 1 && (pairs[d] as { chunkPositions: number[] }).chunkPositions.length === this.chunks[d] && counts[d] === this.chunks[d];
      while (runDim > 0 && whole(runDim) && selection[runDim - 1]?.step === 1) runDim--;
    }
    const runInner = this.chunks.slice(runDim + 1).reduce((a, b) => a * b, 1);
    const walk = (d: number, outBase: number, chunkBase: number): void => {
      const { outPositions, chunkPositions } = pairs[d] as { outPositions: number[]; chunkPositions: number[] };
      if (d === runDim && (d < last || selection[last]?.step === 1)) {
        // contiguous: selection step 1 along d, everything after d whole
        if (outPositions.length === 0) return;
        const from = outBase + (outPositions[0] as number) * (outStrides[d] as number);
        const length = outPositions.length * runInner;
        if (constant) target.fill(chunk, from, from + length);
        else {
          const start = chunkBase + (chunkPositions[0] as number) * (chunkStrides[d] as number);
          target.set(source.subarray(start, start + length), from);
        }
        return;
      }
      if (d === last) {
        for (let k = 0; k < outPositions.length; k++) {
          target[outBase + (outPositions[k] as number)] = constant ? chunk : (source[chunkBase + (chunkPositions[k] as number)] as number);
        }
        return;
      }
      for (let k = 0; k < outPositions.length; k++) {
        walk(d + 1, outBase + (outPositions[k] as number) * (outStrides[d] as number), chunkBase + (chunkPositions[k] as number) * (chunkStrides[d] as number));
      }
    };
    walk(0, 0, 0);
  }

  /**
   * The decoded chunk, or undefined when the references have no such chunk (it reads as the fill
   * value: nothing is allocated or cached for it). Concurrent reads of one chunk share the work;
   * a shared read cancelled by its first requester is read again for the others.
   */
  private async chunkOrFill(chunkIndex: number[], signal: AbortSignal): Promise<NumericArray | undefined> {
    const key = `${this.name}/${chunkIndex.length === 0 ? '0' : chunkIndex.join(this.separator)}`;
    const cacheKey = this.context.prefix + key;
    const cached = this.context.cache.get(cacheKey);
    if (cached) {
      currentBudget().chargeDecodedBytes(cached.byteLength);
      return cached;
    }
    const shared = this.context.inFlight.get(cacheKey);
    if (shared) {
      try {
        return await shared;
      } catch (error) {
        if (signal.aborted || !isAbort(error)) throw error;
      }
    }
    const pending = this.loadChunk(key, signal).finally(() => {
      if (this.context.inFlight.get(cacheKey) === pending) this.context.inFlight.delete(cacheKey);
    });
    this.context.inFlight.set(cacheKey, pending);
    return pending;
  }

  private async loadChunk(key: string, signal: AbortSignal, keep = true): Promise<NumericArray | undefined> {
    const { dataset, cache, codecs, prefix } = this.context;
    const reference = await dataset.references.chunk(key);
    if (!reference) return undefined;
    const stored = await this.stored(reference, signal);
    const raw = await codecs.decode(stored, this.meta, { transfer: reference.kind !== 'inline', signal });
    const own = raw === stored ? raw.slice() : raw;
    if (!this.type.littleEndian) swapBytes(own, this.type.size);
    const values = this.type.view(own);
    if (values.length !== this.chunkLength) {
      throw new CodecError(String(this.meta.compressor?.id ?? 'none'), `${this.name}: chunk ${key} decoded to ${values.length} values, expected ${this.chunkLength}`);
    }
    if (keep) cache.set(prefix + key, values);
    return values;
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error instanceof BudgetExceededError);
}

/**
 * How many chunks a selection touches, from arithmetic alone: along a dimension, a step no larger
 * than the chunk length meets every chunk between the first and the last index; a larger step
 * meets a new chunk with every index.
 */
export function chunkCount(selection: readonly Slice[], chunks: readonly number[]): number {
  let count = 1;
  selection.forEach((slice, d) => {
    const n = sliceLength(slice);
    if (n === 0) {
      count = 0;
      return;
    }
    const chunk = chunks[d] as number;
    const last = slice.start + (n - 1) * slice.step;
    count *= slice.step > chunk ? n : Math.floor(last / chunk) - Math.floor(slice.start / chunk) + 1;
  });
  return count;
}

/** Chunk index tuples that hold at least one selected element, in C order, one at a time. */
export function* chunksCovering(selection: readonly Slice[], chunks: readonly number[]): Generator<number[]> {
  const perDim = selection.map((slice, d) => {
    const chunk = chunks[d] as number;
    const indices: number[] = [];
    for (let i = slice.start; i < slice.stop; ) {
      const index = Math.floor(i / chunk);
      indices.push(index);
      // on to the first selected index at or past the next chunk
      i = slice.start + Math.ceil(((index + 1) * chunk - slice.start) / slice.step) * slice.step;
    }
    return indices;
  });
  if (perDim.some((indices) => indices.length === 0)) return;
  const position = perDim.map(() => 0);
  for (;;) {
    yield position.map((p, d) => (perDim[d] as number[])[p] as number);
    let d = position.length - 1;
    while (d >= 0) {
      position[d] = (position[d] as number) + 1;
      if ((position[d] as number) < (perDim[d] as number[]).length) break;
      position[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}

function strides(shape: readonly number[]): number[] {
  const result = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    result[d] = stride;
    stride *= shape[d] as number;
  }
  return result;
}
