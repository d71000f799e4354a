/**
 * Reusable buffers for source reads whose bytes are only copied out (into a socket) and then
 * dropped. A fresh 2.3 MB buffer per request costs page faults on first touch and garbage
 * collections driven by external memory; a buffer taken from here was touched before.
 *
 * Sizes come in classes (1/8 steps between powers of two, at least 64 KiB), so a buffer fits
 * reads up to 12.5 % smaller. Idle buffers are bounded in bytes (`maxIdleBytes`); a read larger
 * than `maxBufferBytes` is not pooled. A buffer is handed back once (`release`); releasing a
 * buffer the pool did not lend, or twice, is ignored.
 */
export class BufferPool {
  private readonly idle = new Map<number, ArrayBuffer[]>();
  private readonly lent = new WeakSet<ArrayBuffer>();
  private idleBytes = 0;

  constructor(
    readonly maxIdleBytes = 64 * 1024 * 1024,
    readonly maxBufferBytes = 8 * 1024 * 1024,
  ) {}

  /** A view of exactly `length` bytes over a pooled buffer (contents undefined), or undefined when `length` is not pooled. */
  acquire(length: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(length) || length <= 0 || length > this.maxBufferBytes) return undefined;
    const size = sizeClass(length);
    const free = this.idle.get(size);
    let buffer = free?.pop();
    if (buffer) this.idleBytes -= size;
    else buffer = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
    this.lent.add(buffer);
    return new Uint8Array(buffer, 0, length);
  }

  /** Hands back a view `acquire` gave; the bytes must not be used afterwards. */
  release(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    if (!this.lent.has(buffer)) return;
    this.lent.delete(buffer);
    const size = buffer.byteLength;
    if (this.idleBytes + size > this.maxIdleBytes) return;
    let free = this.idle.get(size);
    if (!free) {
      free = [];
      this.idle.set(size, free);
    }
    free.push(buffer);
    this.idleBytes += size;
  }

  /** Bytes held by idle buffers. */
  get idleByteCount(): number {
    return this.idleBytes;
  }
}

const MIN_CLASS = 64 * 1024;

/** The smallest class holding `length`: a multiple of 1/8 of the power of two below it, at least 64 KiB. */
export function sizeClass(length: number): number {
  if (length <= MIN_CLASS) return MIN_CLASS;
  const step = 2 ** Math.floor(Math.log2(length)) / 8;
  return Math.ceil(length / step) * step;
}
