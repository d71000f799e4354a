/**
 * Chunk-sized output arrays for the codecs, reused within a thread: a codec thread of the
 * processed view decodes a source chunk into a new array, the main thread hands that same array
 * back to be encoded, and once encoded its memory makes the next decode's output. A fresh
 * chunk-sized array costs more than the unshuffle written into it (its pages are faulted in one by
 * one, about 1.5 ms per 4 MB chunk); a reused one is already mapped.
 */

/** Arrays kept per thread, and their bytes at most: a few chunks of each size in use. */
const MAX_SPARES = 4;
const MAX_SPARE_BYTES = 64 * 1024 * 1024;
/** Smaller arrays are not worth keeping (the allocator has them at hand). */
const MIN_SPARE_BYTES = 64 * 1024;
/** Spares nobody took for this long are let go (an idle thread holds no memory for nothing). */
const IDLE_MS = 30_000;

const spares: ArrayBuffer[] = [];
let spareBytes = 0;
let lastUse = 0;
let idleTimer: NodeJS.Timeout | undefined;

function dropWhenIdle(): void {
  if (Date.now() - lastUse < IDLE_MS) return;
  spares.length = 0;
  spareBytes = 0;
  clearInterval(idleTimer);
  idleTimer = undefined;
}

/** Lets go of every spare array of this thread at once (after a warm-up whose chunk size may never come again). */
export function dropSpares(): void {
  spares.length = 0;
  spareBytes = 0;
}

/**
 * A byte array of `length` bytes whose memory is not zeroed first (a spare one of that size if
 * this thread has one): only for outputs written whole before anyone reads them. Spans its whole
 * ArrayBuffer (transferable).
 */
export function uninitialisedBytes(length: number): Uint8Array {
  if (length >= MIN_SPARE_BYTES) {
    const at = spares.findIndex((buffer) => buffer.byteLength === length);
    if (at >= 0) {
      const [buffer] = spares.splice(at, 1) as [ArrayBuffer];
      spareBytes -= length;
      lastUse = Date.now();
      return new Uint8Array(buffer);
    }
  }
  const buffer = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

/**
 * Keeps the memory of `bytes` for a later uninitialisedBytes of its size on this thread. Only for
 * arrays nothing reads or writes any more (no view of them is kept anywhere): the caller gives
 * up the whole buffer. Views into part of a buffer, shared or resizable buffers and small ones are
 * not kept; the oldest spares go first when there are too many.
 */
export function recycleBytes(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!(buffer instanceof ArrayBuffer) || (buffer as { resizable?: boolean }).resizable || bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return;
  if (buffer.byteLength < MIN_SPARE_BYTES || buffer.byteLength > MAX_SPARE_BYTES || spares.includes(buffer)) return;
  spares.push(buffer);
  spareBytes += buffer.byteLength;
  lastUse = Date.now();
  idleTimer ??= setInterval(dropWhenIdle, IDLE_MS).unref();
  while (spares.length > MAX_SPARES || spareBytes > MAX_SPARE_BYTES) spareBytes -= (spares.shift() as ArrayBuffer).byteLength;
}
