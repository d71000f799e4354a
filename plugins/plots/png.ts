import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';

const deflateAsync = promisify(deflate);

/** An 8-bit RGBA image, rows top to bottom, 4 bytes per pixel. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as PNG chunks use it) over several byte runs. */
export function crc32(...parts: readonly Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) crc = (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = new TextEncoder().encode(type);
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(typeBytes, data));
  return out;
}

function header(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: truecolour with alpha
  // compression 0 (deflate), filter method 0, no interlace: bytes 10..12 stay 0
  return ihdr;
}

/** Scanlines with filter type 0 (None) in front of every row. */
function scanlines({ width, height, pixels }: RgbaImage): Uint8Array {
  const stride = width * 4;
  if (pixels.length !== stride * height) throw new RangeError(`expected ${stride * height} pixel bytes, got ${pixels.length}`);
  if (width < 1 || height < 1) throw new RangeError('a PNG needs at least one pixel');
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return raw;
}

function assemble(image: RgbaImage, compressed: Uint8Array, text: Readonly<Record<string, string>>): Uint8Array {
  const textChunks = Object.entries(text).map(([key, value]) => chunk('tEXt', new TextEncoder().encode(`${key}\0${value.replace(/[^\x20-\x7e]/g, '?')}`)));
  const parts = [SIGNATURE, chunk('IHDR', header(image.width, image.height)), ...textChunks, chunk('IDAT', compressed), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Encodes an RGBA image as PNG (deflate on the thread pool). `text` becomes tEXt chunks (Latin-1 printable). */
export async function encodePng(image: RgbaImage, text: Readonly<Record<string, string>> = {}): Promise<Uint8Array> {
  const compressed = await deflateAsync(scanlines(image), { level: 6 });
  return assemble(image, compressed, text);
}

/** encodePng, synchronously. */
export function encodePngSync(image: RgbaImage, text: Readonly<Record<string, string>> = {}): Uint8Array {
  return assemble(image, deflateSync(scanlines(image), { level: 6 }), text);
}
