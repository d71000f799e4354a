/**
 * Worker thread of the codec pool: decodes and encodes whole chunks off the main event loop.
 * Decoders refuse output beyond the chunk's size before allocating it (CodecContext
 * maxDecodedBytes), so a refused hostile chunk leaves no large allocation behind here.
 */
import { parentPort } from 'node:worker_threads';
import type { ZarrArrayMetadata } from '../zarr-metadata.js';
import { decodeChunk, encodeChunk } from './chunk.js';
import { registerCodecModule } from './registry.js';
import { dropSpares, recycleBytes } from './spare-bytes.js';
import { type TranscodePlan, transcodeChunk } from './transcode.js';

export type CodecJob =
  | { readonly id: number; readonly op: 'decode' | 'encode'; readonly bytes: Uint8Array; readonly meta: ZarrArrayMetadata }
  | { readonly id: number; readonly op: 'transcode'; readonly bytes: Uint8Array; readonly plan: TranscodePlan };

/** Registers a codec module in this thread before the jobs that follow (messages arrive in order). */
export interface CodecRegistration {
  readonly id: number;
  readonly op: 'register';
  readonly codecId: string;
  readonly moduleUrl: string;
}

/** Lets go of the thread's spare output arrays (spare-bytes.ts). */
export interface SpareRelease {
  readonly id: number;
  readonly op: 'drop-spares';
}

export type CodecJobResult =
  | { readonly id: number; readonly ok: true; readonly bytes: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string };

parentPort?.on('message', (job: CodecJob | CodecRegistration | SpareRelease) => {
  if (job.op === 'drop-spares') {
    dropSpares();
    parentPort?.postMessage({ id: job.id, ok: true, bytes: new Uint8Array(0) } satisfies CodecJobResult);
    return;
  }
  if (job.op === 'register') {
    registerCodecModule(job.codecId, job.moduleUrl).then(
      () => parentPort?.postMessage({ id: job.id, ok: true, bytes: new Uint8Array(0) } satisfies CodecJobResult),
      (error: Error) => parentPort?.postMessage({ id: job.id, ok: false, name: error.name, message: error.message } satisfies CodecJobResult),
    );
    return;
  }
  // a transcode's decoded chunk is not read again once encoded: its memory makes the next decode's output
  const work =
    job.op === 'transcode' ? transcodeChunk(job.bytes, job.plan, recycleBytes) : job.op === 'decode' ? decodeChunk(job.bytes, job.meta) : encodeChunk(job.bytes, job.meta);
  work.then(
    (bytes) => {
      // the result may view the input (e.g. fletcher32 strips its checksum by slicing), or a part
      // of a larger buffer: copy it then (into a new buffer: a Buffer's slice() is a view), so
      // exactly its bytes move
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
      const own = bytes.buffer === job.bytes.buffer || !whole ? new Uint8Array(bytes) : bytes;
      parentPort?.postMessage({ id: job.id, ok: true, bytes: own } satisfies CodecJobResult, [own.buffer as ArrayBuffer]);
      // an encoded chunk (the processed view's: decoded here before) is not read again: its
      // memory makes the next decode's output (the result never shares it: copied above)
      if (job.op === 'encode' && own.buffer !== job.bytes.buffer) recycleBytes(job.bytes);
    },
    (error: Error) => parentPort?.postMessage({ id: job.id, ok: false, name: error.name, message: error.message } satisfies CodecJobResult),
  );
});
