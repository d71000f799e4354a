/** Little-endian reads through a byte view, with the HDF5 file's sizes of offsets and lengths. */
export class Cursor {
  readonly view: DataView;
  position: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly offsetSize: number,
    readonly lengthSize: number,
    readonly fail: (problem: string) => never,
    position = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = position;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  private need(n: number): void {
    if (this.position + n > this.bytes.length) this.fail(`structure ends early (needs ${n} bytes at ${this.position} of ${this.bytes.length})`);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.position++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.position, true);
    this.position += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.position, true);
    this.position += 4;
    return v;
  }

  u64(): number {
    return this.uint(8);
  }

  /** An unsigned little-endian integer of `n` bytes (1..8); throws above 2^53. */
  uint(n: number): number {
    this.need(n);
    let v = 0;
    let scale = 1;
    for (let i = 0; i < n; i++) {
      v += this.bytes[this.position + i]! * scale;
      scale *= 256;
    }
    this.position += n;
    if (!Number.isSafeInteger(v)) this.fail(`a ${n}-byte integer is too large (${v})`);
    return v;
  }

  /** An address of the file's offset size; undefined for the undefined address (all bits set). */
  address(): number | undefined {
    const n = this.offsetSize;
    this.need(n);
    let allOnes = true;
    for (let i = 0; i < n; i++) if (this.bytes[this.position + i] !== 0xff) allOnes = false;
    if (allOnes) {
      this.position += n;
      return undefined;
    }
    return this.uint(n);
  }

  /** A length of the file's length size. */
  length(): number {
    return this.uint(this.lengthSize);
  }

  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.position, this.position + n);
    this.position += n;
    return out;
  }

  skip(n: number): void {
    this.need(n);
    this.position += n;
  }

  /** Advances to the next multiple of `n` relative to `origin`. */
  align(n: number, origin = 0): void {
    const rel = this.position - origin;
    const pad = (n - (rel % n)) % n;
    this.position += Math.min(pad, this.remaining);
  }

  signature(expected: string): void {
    const got = String.fromCharCode(...this.take(expected.length));
    if (got !== expected) this.fail(`expected signature "${expected}", found ${JSON.stringify(got)}`);
  }

  /** A NUL-terminated string (NUL consumed). */
  cString(): string {
    const start = this.position;
    while (this.position < this.bytes.length && this.bytes[this.position] !== 0) this.position++;
    const s = decodeUtf8(this.bytes.subarray(start, this.position));
    if (this.position < this.bytes.length) this.position++;
    return s;
  }
}

const utf8 = new TextDecoder('utf-8');
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Number of bytes needed to store values up to `max` (HDF5's "limit encode size"). */
export function bytesFor(max: number): number {
  let bits = 0;
  let v = max;
  while (v >= 1) {
    bits++;
    v = Math.floor(v / 2);
  }
  // log2(max) / 8 + 1, with log2 the index of the highest set bit
  return Math.floor(Math.max(bits - 1, 0) / 8) + 1;
}

/** floor(log2(n)) for n >= 1. */
export function log2(n: number): number {
  let bits = -1;
  let v = n;
  while (v >= 1) {
    bits++;
    v = Math.floor(v / 2);
  }
  return bits;
}
