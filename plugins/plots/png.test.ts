import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng, encodePngSync } from './png.js';

describe('PNG encoder', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('1234'), new TextEncoder().encode('56789'))).toBe(0xcbf43926);
  });

  it('writes RGBA images that a PNG decoder reads back exactly', async () => {
    const width = 7;
    const height = 5;
    const pixels = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 37) % 256);
    for (const bytes of [await encodePng({ width, height, pixels }, { Title: 'tést' }), encodePngSync({ width, height, pixels })]) {
      const decoded = PNG.sync.read(Buffer.from(bytes));
      expect([decoded.width, decoded.height]).toEqual([width, height]);
      expect([...decoded.data]).toEqual([...pixels]);
    }
  });

  it('rejects a pixel buffer of the wrong size', async () => {
    await expect(encodePng({ width: 2, height: 2, pixels: new Uint8Array(3) })).rejects.toThrow(RangeError);
  });
});
