import type { Colormap, Rgb } from './colormaps.js';
import { CELL_HEIGHT, fitText, textWidth } from './font.js';
import { type AxisScale, axisScale, coastlineSegments } from './map-scale.js';
import { Raster } from './raster.js';
import { degreeStep, latitudeLabel, longitudeLabel, niceStep, tickLabel, ticksOf } from './ticks.js';

/** A 2-D field ready to draw: row 0 is the top (north) row, NaN is missing. */
export interface Field {
  readonly width: number;
  readonly height: number;
  readonly values: Float64Array;
  /** Longitude of every column (left to right), when the map is geographic. */
  readonly x?: Float64Array;
  /** Latitude of every row (top to bottom), when the map is geographic. */
  readonly y?: Float64Array;
}

export interface PlotOptions {
  readonly title: string;
  readonly subtitle?: string;
  readonly units?: string;
  readonly colormap: Colormap;
  readonly vmin?: number;
  readonly vmax?: number;
  /** Natural Earth's coastline over geographic maps (default true). */
  readonly coastlines?: boolean;
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
const COAST_DARK: Rgb = [20, 20, 20];
const COAST_LIGHT: Rgb = [235, 235, 235];
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

/** Pixels of a tick mark outside the map frame or below the colorbar. */
const TICK = 4;

/** Draws the field with a title above, lon/lat axes when geographic, and a colorbar with units below; missing cells stay transparent. */
export function renderPlot(field: Field, options: PlotOptions): { raster: Raster; layout: PlotLayout } {
  const target = options.targetSize ?? 768;
  const cell = Math.max(1, Math.min(Math.floor(target / field.width), Math.floor(target / field.height)));
  const mapWidth = field.width * cell;
  const mapHeight = field.height * cell;
  const xScale = field.x && field.y ? axisScale(field.x, mapWidth) : undefined;
  const yScale = field.x && field.y ? axisScale(field.y, mapHeight) : undefined;
  const lonTicks = axisTicks(xScale, mapWidth, 'longitude');
  const latTicks = axisTicks(yScale, mapHeight, 'latitude');
  const leftAxis = latTicks.length > 0 ? Math.max(...latTicks.map((t) => textWidth(t.label))) + TICK + 3 : 0;
  const rightPad = lonTicks.length > 0 ? Math.ceil(Math.max(...lonTicks.map((t) => textWidth(t.label))) / 2) : 0;
  const bottomAxis = lonTicks.length > 0 ? TICK + 3 + CELL_HEIGHT : 0;
  const width = Math.max(leftAxis + mapWidth + rightPad, MIN_WIDTH) + 2 * MARGIN;
  const titleScale = 2;
  const titleHeight = CELL_HEIGHT * titleScale;
  const subtitleHeight = options.subtitle ? CELL_HEIGHT + 6 : 0;
  const mapX = MARGIN + leftAxis + Math.floor((width - 2 * MARGIN - leftAxis - rightPad - mapWidth) / 2);
  const mapY = MARGIN + titleHeight + 6 + subtitleHeight + 4;
  const barY = mapY + mapHeight + bottomAxis + 16;
  const barHeight = 14;
  const height = barY + barHeight + 6 + CELL_HEIGHT + (options.units ? CELL_HEIGHT + 6 : 0) + MARGIN;

  const raster = new Raster(width, height);
  raster.fillRect(0, 0, width, height, PAPER);
  const innerWidth = width - 2 * MARGIN;
  raster.text(fitText(options.title, innerWidth, titleScale), MARGIN, MARGIN, INK, titleScale);
  if (options.subtitle) raster.text(fitText(options.subtitle, innerWidth), MARGIN, MARGIN + titleHeight + 6, INK);

  const [vmin, vmax] = valueRange(field.values, options.colormap.diverging, options.vmin, options.vmax);
  drawMap(raster, field, mapX, mapY, cell, options.colormap, vmin, vmax);
  if (xScale && yScale && options.coastlines !== false) drawCoastlines(raster, { x: mapX, y: mapY, width: mapWidth, height: mapHeight }, xScale, yScale);
  raster.strokeRect(mapX, mapY, mapWidth, mapHeight, FRAME);
  drawAxes(raster, { x: mapX, y: mapY, width: mapWidth, height: mapHeight }, lonTicks, latTicks);
  drawColorbar(raster, { x: MARGIN, y: barY, width: innerWidth, height: barHeight }, options.colormap, vmin, vmax, options.units);
  return { raster, layout: { mapX, mapY, cell, vmin, vmax } };
}

/** A tick of a map axis: its offset in pixels from the map's edge, and its label. */
export interface AxisTick {
  readonly offset: number;
  readonly label: string;
}

/** Degree ticks along one side of the map (see `axisScale`); none when the coordinate cannot be scaled. */
export function axisTicks(scale: AxisScale | undefined, length: number, kind: 'longitude' | 'latitude'): AxisTick[] {
  if (!scale) return [];
  const spacing = kind === 'longitude' ? textWidth('120°W') + 14 : CELL_HEIGHT * 3;
  const step = degreeStep(scale.lo, scale.hi, Math.max(2, Math.min(13, Math.floor(length / spacing))));
  const label = kind === 'longitude' ? longitudeLabel : latitudeLabel;
  const ticks: AxisTick[] = [];
  for (const value of ticksOf(scale.lo, scale.hi, step)) {
    const offset = scale.toOffset(value);
    if (offset !== undefined) ticks.push({ offset: Math.min(length - 1, Math.max(0, Math.round(offset))), label: label(value, step) });
  }
  return ticks;
}

/** Near-black over light colours and missing cells, near-white over dark ones: the line stays visible on every colormap. */
function coastColor(raster: Raster, x: number, y: number): Rgb {
  const i = (y * raster.width + x) * 4;
  const p = raster.pixels;
  if ((p[i + 3] as number) === 0) return COAST_DARK;
  const luminance = 0.2126 * (p[i] as number) + 0.7152 * (p[i + 1] as number) + 0.0722 * (p[i + 2] as number);
  return luminance < 100 ? COAST_LIGHT : COAST_DARK;
}

/** Draws the coastline over the map, clipped to it. */
function drawCoastlines(raster: Raster, map: Box, x: AxisScale, y: AxisScale): void {
  for (const [x0, y0, x1, y1] of coastlineSegments(x, y, map.width)) {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs((x1 as number) - (x0 as number)), Math.abs((y1 as number) - (y0 as number)))));
    for (let k = 0; k <= steps; k++) {
      const px = Math.floor((x0 as number) + (((x1 as number) - (x0 as number)) * k) / steps);
      const py = Math.floor((y0 as number) + (((y1 as number) - (y0 as number)) * k) / steps);
      if (px >= 0 && py >= 0 && px < map.width && py < map.height) raster.fillRect(map.x + px, map.y + py, 1, 1, coastColor(raster, map.x + px, map.y + py));
    }
  }
}

function drawAxes(raster: Raster, map: Box, lonTicks: readonly AxisTick[], latTicks: readonly AxisTick[]): void {
  let right = -Infinity;
  for (const tick of lonTicks) {
    const x = map.x + tick.offset;
    raster.fillRect(x, map.y + map.height, 1, TICK, INK);
    const w = textWidth(tick.label);
    const left = x - Math.floor(w / 2);
    if (left <= right + 4) continue; // never overlapping labels
    raster.text(tick.label, left, map.y + map.height + TICK + 3, INK);
    right = left + w;
  }
  let bottom = -Infinity;
  for (const tick of [...latTicks].sort((a, b) => a.offset - b.offset)) {
    const y = map.y + tick.offset;
    raster.fillRect(map.x - TICK, y, TICK, 1, INK);
    const top = y - 3;
    if (top <= bottom + 2) continue;
    raster.text(tick.label, map.x - TICK - 3 - textWidth(tick.label), top, INK);
    bottom = top + CELL_HEIGHT;
  }
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
  // nice values (1, 2, 2.5, 5 × 10^n) inside the range, as many as fit without overlapping labels
  const widest = (labels: readonly string[]) => Math.max(...labels.map((l) => textWidth(l)));
  let count = Math.max(2, Math.min(11, Math.floor(box.width / 40)));
  let step = niceStep(vmin, vmax, count);
  let ticks = ticksOf(vmin, vmax, step);
  while (count > 2 && ticks.length > 1 && (widest(ticks.map((t) => tickLabel(t, step))) + 10) * ticks.length > box.width) {
    count--;
    step = niceStep(vmin, vmax, count);
    ticks = ticksOf(vmin, vmax, step);
  }
  for (const value of ticks) {
    const fraction = (value - vmin) / (vmax - vmin);
    const x = box.x + Math.round(fraction * (box.width - 1));
    raster.fillRect(x, box.y + box.height, 1, 4, INK);
    const label = tickLabel(value, step);
    const w = textWidth(label);
    const left = Math.min(box.x + box.width - w, Math.max(box.x, x - Math.floor(w / 2)));
    raster.text(label, left, box.y + box.height + 6, INK);
  }
  if (units) {
    const label = fitText(units, box.width);
    raster.text(label, box.x + Math.floor((box.width - textWidth(label)) / 2), box.y + box.height + 6 + CELL_HEIGHT + 6, INK);
  }
}
