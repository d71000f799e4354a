import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { COLORMAP_NAMES, type Colormap, colormap } from './colormaps.js';
import { encodePngSync } from './png.js';
import { formatTick, renderPlot, valueRange } from './render.js';

const viridis = colormap('viridis') as Colormap;

function pixel(png: PNG, x: number, y: number): number[] {
  const i = (y * png.width + x) * 4;
  return [...png.data.subarray(i, i + 4)];
}

describe('colormaps', () => {
  it('knows viridis, magma, cividis, rdbu and their reversals', () => {
    for (const name of ['viridis', 'magma', 'cividis', 'rdbu', 'viridis_r', 'rdbu_r']) expect(COLORMAP_NAMES).toContain(name);
    expect(viridis.color(0)).toEqual([0x44, 0x01, 0x54]);
    expect(viridis.color(1)).toEqual([0xfd, 0xe7, 0x25]);
    expect((colormap('viridis_r') as Colormap).color(0)).toEqual([0xfd, 0xe7, 0x25]);
    expect(colormap('rdbu')?.diverging).toBe(true);
    expect(colormap('jet')).toBeUndefined();
  });
});

describe('renderPlot', () => {
  // 4 columns × 3 rows: max at row 0 col 3, min at row 2 col 0, NaN at row 1 col 1
  const values = Float64Array.from([1, 2, 3, 12, 4, Number.NaN, 6, 7, 0, 8, 9, 10]);
  const field = { width: 4, height: 3, values };

  it('colours the maximum with the top colour, the minimum with the bottom one, NaN transparent', () => {
    const { raster, layout } = renderPlot(field, { title: 'Air temperature, 2001-01-01', units: 'K', colormap: viridis });
    const png = PNG.sync.read(Buffer.from(encodePngSync(raster)));
    const at = (row: number, col: number) => pixel(png, layout.mapX + col * layout.cell + 1, layout.mapY + row * layout.cell + 1);
    expect(at(0, 3)).toEqual([...viridis.color(1), 255]);
    expect(at(2, 0)).toEqual([...viridis.color(0), 255]);
    expect(at(1, 1)[3]).toBe(0);
    expect(layout.vmin).toBe(0);
    expect(layout.vmax).toBe(12);
    // the frame around the map is opaque white paper
    expect(pixel(png, 0, 0)).toEqual([255, 255, 255, 255]);
  });

  it('clamps to vmin/vmax and enlarges small grids', () => {
    const { layout, raster } = renderPlot(field, { title: 't', colormap: viridis, vmin: 2, vmax: 4 });
    expect(layout.cell).toBe(192);
    const i = ((layout.mapY + 1) * raster.width + layout.mapX + 1) * 4;
    expect([...raster.pixels.subarray(i, i + 3)]).toEqual(viridis.color(0));
  });

  it('picks symmetric ranges for diverging colormaps and widens flat fields', () => {
    expect(valueRange(Float64Array.from([-1, 3]), true)).toEqual([-3, 3]);
    expect(valueRange(Float64Array.from([-1, 3]), false)).toEqual([-1, 3]);
    expect(valueRange(Float64Array.from([250, 300]), true)).toEqual([250, 300]);
    expect(valueRange(Float64Array.from([5, 5]), false)).toEqual([4.95, 5]);
    expect(valueRange(Float64Array.from([Number.NaN]), false)).toEqual([0, 1]);
  });

  it('formats tick labels compactly', () => {
    expect(formatTick(273.15)).toBe('273.1');
    expect(formatTick(0.00002)).toBe('2e-5');
    expect(formatTick(1234567)).toBe('1.23e+6');
    expect(formatTick(0)).toBe('0');
  });

  it('draws lon/lat ticks with degree labels and the coastline on geographic fields, deterministically', () => {
    const width = 72;
    const height = 36;
    const geo = {
      width,
      height,
      values: Float64Array.from({ length: width * height }, (_, i) => Math.floor(i / width)),
      x: Float64Array.from({ length: width }, (_, i) => 2.5 + 5 * i),
      y: Float64Array.from({ length: height }, (_, i) => 87.5 - 5 * i),
    };
    const plain = renderPlot({ width, height, values: geo.values }, { title: 't', colormap: viridis });
    const drawn = renderPlot(geo, { title: 't', colormap: viridis });
    const again = renderPlot(geo, { title: 't', colormap: viridis });
    expect(Buffer.from(drawn.raster.pixels).equals(Buffer.from(again.raster.pixels))).toBe(true);
    const { mapX, mapY, cell } = drawn.layout;
    // room for the latitude labels on the left
    expect(mapX).toBeGreaterThan(plain.layout.mapX);
    const ink = (x: number, y: number) => {
      const i = (y * drawn.raster.width + x) * 4;
      return drawn.raster.pixels[i] as number;
    };
    // a tick below the map at 180°: 36 cells from the left edge
    expect(ink(mapX + 36 * cell, mapY + height * cell + 1)).toBeLessThan(60);
    // a tick left of the map at the equator
    expect(ink(mapX - 2, mapY + 18 * cell)).toBeLessThan(60);
    // coastline pixels (near-black over light colours, near-white over dark ones) inside the map, none on the plain render
    const dark = (raster: typeof drawn.raster, layout: typeof drawn.layout) => {
      let count = 0;
      for (let y = layout.mapY + 1; y < layout.mapY + height * layout.cell - 1; y++) {
        for (let x = layout.mapX + 1; x < layout.mapX + width * layout.cell - 1; x++) {
          const i = (y * raster.width + x) * 4;
          const [r, g, b] = [raster.pixels[i] as number, raster.pixels[i + 1] as number, raster.pixels[i + 2] as number];
          if ((r < 30 && g < 30 && b < 30) || (r === 235 && g === 235 && b === 235)) count++;
        }
      }
      return count;
    };
    expect(dark(drawn.raster, drawn.layout)).toBeGreaterThan(3000);
    expect(dark(plain.raster, plain.layout)).toBe(0);
    const bare = renderPlot(geo, { title: 't', colormap: viridis, coastlines: false });
    expect(dark(bare.raster, bare.layout)).toBe(0);
  });
});
