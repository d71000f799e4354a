import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { chunkByteLength, decodeChunk, encodeChunk } from './chunk.js';
import { CodecError } from './codec.js';
import type { CodecJob, CodecJobResult, CodecRegistration, SpareRelease } from './codec-worker.js';
import { registerCodecModule, supportedCodecs } from './registry.js';
import { type TranscodePlan, transcodeChunk } from './transcode.js';

/** How the input of a decode or encode may be handled. */
export interface ChunkJobOptions {
  /**
   * The caller hands the input over and never reads it again: a worker may take its memory
   * instead of a copy (the input is then detached). Only an input that spans its whole
   * ArrayBuffer moves; a view into a larger buffer is still copied.
   */
  readonly transfer?: boolean;
  /** The request the job is for: once aborted, a job still waiting for a thread is dropped. */
  readonly signal?: AbortSignal;
}

/** Whole-chunk decode and encode, wherever they run. */
export interface ChunkCodecs {
  decode(bytes: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array>;
  encode(raw: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array>;
  /** A stored chunk decoded, transformed and encoded in one job (transcode.ts): the decoded chunk stays where the job runs. */
  transcode(stored: Uint8Array, plan: TranscodePlan, options?: ChunkJobOptions): Promise<Uint8Array>;
  close(): Promise<void>;
  /** Lets every codec thread drop the arrays it keeps for reuse (after a warm-up). */
  dropSpares?(): Promise<void>;
}

/** Decode and encode on the calling thread. */
export const inlineCodecs: ChunkCodecs = {
  decode: decodeChunk,
  encode: (raw, meta) => encodeChunk(raw, meta),
  transcode: (stored, plan) => transcodeChunk(stored, plan),
  close: async () => {},
};

/**
 * Chunks smaller than this are cheaper to handle inline than to send to a worker. A decode is
 * sized by its output (the chunk's decoded size from the metadata), not its input: a small
 * compressed chunk can be a lot of work, and the decoders refuse output beyond that size.
 */
const WORKER_MIN_BYTES = 64 * 1024;

interface Pending {
  readonly slot: number;
  /** The job (absent for a codec registration). */
  readonly job?: Queued;
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

/** A job not yet given to a thread (every thread has its share in hand). */
interface Queued {
  readonly op: CodecJob['op'];
  readonly bytes: Uint8Array;
  /** What the bytes are (a transcode's source metadata). */
  readonly meta: ZarrArrayMetadata;
  /** A transcode's plan. */
  readonly plan?: TranscodePlan | undefined;
  readonly options: ChunkJobOptions | undefined;
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

/**
 * Jobs one thread holds at once (one running, one ready behind it); the rest wait in the pool,
 * where a job whose request was aborted is dropped before it costs a thread anything.
 */
const JOBS_PER_THREAD = 2;

/**
 * A pool of worker threads (one per core by default) running the codecs, so CPU-heavy chunk
 * work leaves the event loop free and every core serves. Small chunks stay inline. Where the
 * compiled worker module is absent (running from TypeScript sources), everything runs inline.
 */
export class CodecPool implements ChunkCodecs {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Queued[] = [];
  /** Codec modules registered, sent again to a thread that replaces a crashed one. */
  private readonly codecModules: Array<{ readonly codecId: string; readonly moduleUrl: string }> = [];
  private nextId = 1;

  constructor(size = availableParallelism()) {
    const script = new URL('./codec-worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(script))) return;
    for (let i = 0; i < size; i++) this.spawn(script, i);
  }

  /** Worker threads running (0: everything runs inline). */
  get size(): number {
    return this.workers.length;
  }

  /** Jobs not answered yet (running, or waiting for a thread). */
  get pendingJobs(): number {
    return this.pending.size + this.queue.length;
  }

  decode(bytes: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array> {
    return this.run('decode', bytes, meta, options);
  }

  encode(raw: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array> {
    return this.run('encode', raw, meta, options);
  }

  transcode(stored: Uint8Array, plan: TranscodePlan, options?: ChunkJobOptions): Promise<Uint8Array> {
    return this.run('transcode', stored, plan.source, options, plan);
  }

  /**
   * Registers the `codec` export of an ES module under a numcodecs id in this thread and every
   * codec thread (also in threads that later replace crashed ones), so chunks with that codec
   * decode wherever they run.
   */
  async registerCodecModule(codecId: string, moduleUrl: string): Promise<void> {
    if (!supportedCodecs().includes(codecId)) await registerCodecModule(codecId, moduleUrl);
    this.codecModules.push({ codecId, moduleUrl });
    await Promise.all(this.workers.map((worker, slot) => this.sendRegistration(worker, slot, codecId, moduleUrl)));
  }

  private sendRegistration(worker: Worker, slot: number, codecId: string, moduleUrl: string): Promise<void> {
    return this.control(worker, slot, { op: 'register', codecId, moduleUrl });
  }

  async dropSpares(): Promise<void> {
    await Promise.all(this.workers.map((worker, slot) => this.control(worker, slot, { op: 'drop-spares' })));
  }

  /** A message to one thread that is not a chunk job: settled when the thread answers it. */
  private control(worker: Worker, slot: number, message: Omit<CodecRegistration, 'id'> | Omit<SpareRelease, 'id'>): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { slot, resolve: () => resolve(), reject });
      worker.postMessage({ id, ...message } satisfies CodecRegistration | SpareRelease);
    });
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const { reject } of [...this.pending.values(), ...this.queue]) reject(new CodecError('pool', 'the codec pool was closed'));
    this.pending.clear();
    this.queue.length = 0;
  }

  private run(op: CodecJob['op'], bytes: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions, plan?: TranscodePlan): Promise<Uint8Array> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.workers.length === 0 || jobBytes(op, bytes, meta) < WORKER_MIN_BYTES) {
      if (plan) return inlineCodecs.transcode(bytes, plan);
      return op === 'decode' ? inlineCodecs.decode(bytes, meta) : inlineCodecs.encode(bytes, meta);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const job: Queued = { op, bytes, meta, plan, options, resolve, reject };
      if (this.dispatch(job)) return;
      this.queue.push(job);
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.queue.indexOf(job);
          if (at < 0) return; // already on a thread: it runs to its end
          this.queue.splice(at, 1);
          reject(abortError(signal));
        },
        { once: true },
      );
    });
  }

  /** Gives a job to the least loaded thread if that thread has room; false when every thread is full. */
  private dispatch(job: Queued): boolean {
    const slot = this.load.indexOf(Math.min(...this.load));
    if ((this.load[slot] as number) >= JOBS_PER_THREAD) return false;
    const worker = this.workers[slot] as Worker;
    const id = this.nextId++;
    this.load[slot] = (this.load[slot] as number) + 1;
    const done = () => {
      this.load[slot] = (this.load[slot] as number) - 1;
      this.dispatchQueued();
    };
    this.pending.set(id, {
      slot,
      job,
      resolve: (result) => {
        done();
        job.resolve(result);
      },
      reject: (error) => {
        done();
        job.reject(error);
      },
    });
    // the input moves when the caller handed over a whole buffer; else a copy of exactly its bytes
    // moves (a structured clone of a view would copy its whole underlying buffer)
    const bytes = movable(job.bytes, job.options) ? job.bytes : new Uint8Array(job.bytes);
    const message: CodecJob = job.op === 'transcode' ? { id, op: job.op, bytes, plan: job.plan as TranscodePlan } : { id, op: job.op, bytes, meta: job.meta };
    worker.postMessage(message, [bytes.buffer as ArrayBuffer]);
    return true;
  }

  /** A thread has room again: the oldest waiting job goes (aborted ones were dropped already). */
  private dispatchQueued(): void {
    const next = this.queue[0];
    if (next && this.dispatch(next)) this.queue.shift();
  }

  private spawn(script: URL, slot: number): void {
    const worker = new Worker(script);
    worker.unref();
    worker.on('message', (result: CodecJobResult) => {
      const waiting = this.pending.get(result.id);
      if (!waiting) return;
      this.pending.delete(result.id);
      if (result.ok) waiting.resolve(result.bytes);
      else waiting.reject(Object.assign(new CodecError('worker', result.message), { message: result.message }));
    });
    worker.on('error', (error) => {
      // a crashed worker is replaced first (so waiting jobs go to the new one); its own jobs are lost: fail them rather than hang
      const lost = [...this.pending].filter(([, waiting]) => waiting.slot === slot);
      for (const [id] of lost) this.pending.delete(id);
      if (this.workers.length > 0) this.spawn(script, slot);
      for (const [, waiting] of lost) (waiting.job ?? waiting).reject(new CodecError('pool', `a codec worker crashed: ${error.message}`));
      if (this.workers.length > 0) while (this.queue.length > 0 && this.dispatch(this.queue[0] as Queued)) this.queue.shift();
    });
    this.workers[slot] = worker;
    this.load[slot] = 0;
    // a replacement thread learns the registered codecs before any job (messages arrive in order)
    for (const { codecId, moduleUrl } of this.codecModules) this.sendRegistration(worker, slot, codecId, moduleUrl).catch(() => undefined);
  }
}

/** The size a job is judged by: what a decode (or transcode) produces (the larger of that and its input), what an encode is given. */
function jobBytes(op: CodecJob['op'], bytes: Uint8Array, meta: ZarrArrayMetadata): number {
  if (op === 'encode') return bytes.byteLength;
  let decoded: number;
  try {
    decoded = chunkByteLength(meta);
  } catch {
    return bytes.byteLength; // an unsizable dtype: decodeChunk refuses it, wherever it runs
  }
  return Math.max(decoded, bytes.byteLength);
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('the request was aborted', 'AbortError');
}

function movable(bytes: Uint8Array, options: ChunkJobOptions | undefined): boolean {
  return options?.transfer === true && bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}
