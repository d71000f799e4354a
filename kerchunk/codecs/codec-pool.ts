import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { chunkByteLength, decodeChunk, encodeChunk } from './chunk.js';
import { CodecError } from './codec.js';
import type { CodecJob, CodecJobResult } from './codec-worker.js';

/** How the input of a decode or encode may be handled. */
export interface ChunkJobOptions {
  /**
   * The caller hands the input over and never reads it again: a worker may take its memory
   * instead of a copy (the input is then detached). Only an input that spans its whole
   * ArrayBuffer moves; a view into a larger buffer is still copied.
   */
  readonly transfer?: boolean;
}

/** Whole-chunk decode and encode, wherever they run. */
export interface ChunkCodecs {
  decode(bytes: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array>;
  encode(raw: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Decode and encode on the calling thread. */
export const inlineCodecs: ChunkCodecs = {
  decode: decodeChunk,
  encode: (raw, meta) => encodeChunk(raw, meta),
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
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

/**
 * A pool of worker threads (one per core by default) running the codecs, so CPU-heavy chunk
 * work leaves the event loop free and every core serves. Small chunks stay inline. Where the
 * compiled worker module is absent (running from TypeScript sources), everything runs inline.
 */
export class CodecPool implements ChunkCodecs {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
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

  /** Jobs sent to the workers and not answered yet (running or queued). */
  get pendingJobs(): number {
    return this.pending.size;
  }

  decode(bytes: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array> {
    return this.run('decode', bytes, meta, options);
  }

  encode(raw: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array> {
    return this.run('encode', raw, meta, options);
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const { reject } of this.pending.values()) reject(new CodecError('pool', 'the codec pool was closed'));
    this.pending.clear();
  }

  private run(op: CodecJob['op'], bytes: Uint8Array, meta: ZarrArrayMetadata, options?: ChunkJobOptions): Promise<Uint8Array> {
    if (this.workers.length === 0 || jobBytes(op, bytes, meta) < WORKER_MIN_BYTES) {
      return op === 'decode' ? inlineCodecs.decode(bytes, meta) : inlineCodecs.encode(bytes, meta);
    }
    const slot = this.load.indexOf(Math.min(...this.load));
    const worker = this.workers[slot] as Worker;
    const id = this.nextId++;
    this.load[slot] = (this.load[slot] as number) + 1;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, {
        slot,
        resolve: (result) => {
          this.load[slot] = (this.load[slot] as number) - 1;
          resolve(result);
        },
        reject: (error) => {
          this.load[slot] = (this.load[slot] as number) - 1;
          reject(error);
        },
      });
      // the input is copied (structured clone) unless the caller handed over a whole buffer
      worker.postMessage({ id, op, bytes, meta } satisfies CodecJob, movable(bytes, options) ? [bytes.buffer as ArrayBuffer] : []);
    });
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
      // a crashed worker is replaced; its jobs are lost, so fail them rather than hang
      for (const [id, waiting] of this.pending) {
        if (waiting.slot !== slot) continue;
        this.pending.delete(id);
        waiting.reject(new CodecError('pool', `a codec worker crashed: ${error.message}`));
      }
      if (this.workers.length > 0) this.spawn(script, slot);
    });
    this.workers[slot] = worker;
    this.load[slot] = 0;
  }
}

/** The size a job is judged by: what a decode produces (the larger of that and its input), what an encode is given. */
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

function movable(bytes: Uint8Array, options: ChunkJobOptions | undefined): boolean {
  return options?.transfer === true && bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}
