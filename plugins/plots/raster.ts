import type { Rgb } from './colormaps.js';
import { rasterizeText } from './font.js';
import type { RgbaImage } from './png.js';

/** A mutable RGBA canvas, transparent when created; drawing clips at the edges. */
export class Raster implements RgbaImage {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 4);
  }

  setPixel(x: number, y: number, [r, g, b]: Rgb, alpha = 255): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    this.pixels[i] = r;
    this.pixels[i + 1] = g;
    this.pixels[i + 2] = b;
    this.pixels[i + 3] = alpha;
  }

  fillRect(x: number, y: number, width: number, height: number, color: Rgb, alpha = 255): void {
    const x0 = Math.max(0, x);
    const y0 = Math.max(0, y);
    const x1 = Math.min(this.width, x + width);
    const y1 = Math.min(this.height, y + height);
    for (let py = y0; py < y1; py++) for (let px = x0; px < x1; px++) this.setPixel(px, py, color, alpha);
  }

  /** A one-pixel rectangle outline around the given area (drawn just outside it). */
  strokeRect(x: number, y: number, width: number, height: number, color: Rgb): void {
    this.fillRect(x - 1, y - 1, width + 2, 1, color);
    this.fillRect(x - 1, y + height, width + 2, 1, color);
    this.fillRect(x - 1, y, 1, height, color);
    this.fillRect(x + width, y, 1, height, color);
  }

  text(text: string, x: number, y: number, color: Rgb, scale = 1): void {
    rasterizeText(text, x, y, scale, (px, py) => this.setPixel(px, py, color));
  }
}
