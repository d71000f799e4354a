import type { Colormap, Rgb } from './colormaps.js';
import { CELL_HEIGHT, fitText, textWidth } from './font.js';
import { Raster } from './raster.js';

/** A 2-D field ready to draw: row 0 is the top (north) row, NaN is missing. */
export interface Field {
  readonly width: number;
  readonly height: number;
  readonly values: Float64Array;
}

export interface PlotOptions {
  readonly title: string;
  readonly subtitle?: string;
  readonly units?: string;
  readonly colormap: Colormap;
  readonly vmin?: number;
  readonly vmax?: number;
  /** Largest side of the map in pixels when small grids are enlarged (default 768). */
  readonly targetSize?: number;
}

/** Layout of a rendered plot, for tests and for callers that want to know where the map is. */
export interface PlotLayout {
  readonly mapX: number;
  readonly mapY: number;
  /** Pixels per grid cell. */
  readonly cell: number;
  readonly vmin: number;
  readonly vmax: number;
}

const INK: Rgb = [27, 31, 36];
const PAPER: Rgb = [255, 255, 255];
const FRAME: Rgb = [120, 126, 134];
const MARGIN = 14;
const MIN_WIDTH = 360;

/** The colour range: as given, else the data's finite range (symmetric around 0 for diverging maps of data crossing 0). */
export function valueRange(values: Float64Array, diverging: boolean, vmin?: number, vmax?: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) [lo, hi] = [0, 1];
  if (diverging && vmin === undefined && vmax === undefined && lo < 0 && hi > 0) {
    const extent = Math.max(Math.abs(lo), Math.abs(hi));
    [lo, hi] = [-extent, extent];
  }
  lo = vmin ?? lo;
  hi = vmax ?? hi;
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.01;
    [lo, hi] = vmin !== undefined ? [lo, lo + pad] : [hi - pad, hi];
  }
  return [lo, hi];
}

/** A compact tick label: up to 4 significant digits, exponent notation for very large or small values. */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(4)));
}

/** Draws the field with a title above and a colorbar with units below; missing cells stay transparent. */
export function renderPlot(field: Field, options: PlotOptions): { raster: Raster; layout: PlotLayout } {
  const target = options.targetSize ?? 768;
  const cell = Math.max(1, Math.min(Math.floor(target / field.width), Math.floor(target / field.height)));
  const mapWidth = field.width * cell;
  const mapHeight = field.height * cell;
  const width = Math.max(mapWidth, MIN_WIDTH) + 2 * MARGIN;
  const titleScale = 2;
  const titleHeight = CELL_HEIGHT * titleScale;
  const subtitleHeight = options.subtitle ? CELL_HEIGHT + 6 : 0;
  const mapX = Math.floor((width - mapWidth) / 2);
  const mapY = MARGIN + titleHeight + 6 + subtitleHeight + 4;
  const barY = mapY + mapHeight + 16;
  const barHeight = 14;
  const height = barY + barHeight + 6 + CELL_HEIGHT + (options.units ? CELL_HEIGHT + 6 : 0) + MARGIN;

  const raster = new Raster(width, height);
  raster.fillRect(0, 0, width, height, PAPER);
  const innerWidth = width - 2 * MARGIN;
  raster.text(fitText(options.title, innerWidth, titleScale), MARGIN, MARGIN, INK, titleScale);
  if (options.subtitle) raster.text(fitText(options.subtitle, innerWidth), MARGIN, MARGIN + titleHeight + 6, INK);

  const [vmin, vmax] = valueRange(field.values, options.colormap.diverging, options.vmin, options.vmax);
  drawMap(raster, field, mapX, mapY, cell, options.colormap, vmin, vmax);
  raster.strokeRect(mapX, mapY, mapWidth, mapHeight, FRAME);
  drawColorbar(raster, { x: MARGIN, y: barY, width: innerWidth, height: barHeight }, options.colormap, vmin, vmax, options.units);
  return { raster, layout: { mapX, mapY, cell, vmin, vmax } };
}

function drawMap(raster: Raster, field: Field, x0: number, y0: number, cell: number, colormap: Colormap, vmin: number, vmax: number): void {
  const { pixels, width: stride } = raster;
  const span = vmax - vmin;
  for (let row = 0; row < field.height; row++) {
    for (let col = 0; col < field.width; col++) {
      const value = field.values[row * field.width + col] as number;
      const top = y0 + row * cell;
      const left = x0 + col * cell;
      if (Number.isNaN(value)) {
        // missing: fully transparent (the page behind shows through)
        for (let dy = 0; dy < cell; dy++) pixels.fill(0, ((top + dy) * stride + left) * 4, ((top + dy) * stride + left + cell) * 4);
        continue;
      }
      const t = Math.min(1, Math.max(0, (value - vmin) / span));
      const index = Math.round(t * 255) * 3;
      const r = colormap.table[index] as number;
      const g = colormap.table[index + 1] as number;
      const b = colormap.table[index + 2] as number;
      for (let dy = 0; dy < cell; dy++) {
        let p = ((top + dy) * stride + left) * 4;
        for (let dx = 0; dx < cell; dx++, p += 4) {
          pixels[p] = r;
          pixels[p + 1] = g;
          pixels[p + 2] = b;
          pixels[p + 3] = 255;
        }
      }
    }
  }
}

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function drawColorbar(raster: Raster, box: Box, colormap: Colormap, vmin: number, vmax: number, units?: string): void {
  for (let i = 0; i < box.width; i++) {
    raster.fillRect(box.x + i, box.y, 1, box.height, colormap.color(box.width === 1 ? 1 : i / (box.width - 1)));
  }
  raster.strokeRect(box.x, box.y, box.width, box.height, FRAME);
  const ticks = 5;
  for (let k = 0; k < ticks; k++) {
    const fraction = k / (ticks - 1);
    const x = box.x + Math.round(fraction * (box.width - 1));
    raster.fillRect(x, box.y + box.height, 1, 4, INK);
    const label = formatTick(vmin + (vmax - vmin) * fraction);
    const w = textWidth(label);
    const left = Math.min(box.x + box.width - w, Math.max(box.x, x - Math.floor(w / 2)));
    raster.text(label, left, box.y + box.height + 6, INK);
  }
  if (units) {
    const label = fitText(units, box.width);
    raster.text(label, box.x + Math.floor((box.width - textWidth(label)) / 2), box.y + box.height + 6 + CELL_HEIGHT + 6, INK);
  }
}
