/** An RGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/**
 * Perceptually uniform colormaps, each given by evenly spaced anchor colours and interpolated
 * linearly in RGB into a 256-entry table. `<name>_r` reverses any of them.
 */
const ANCHORS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    viridis: ['440154', '482878', '3e4989', '31688e', '26828e', '1f9e89', '35b779', '6ece58', 'b5de2b', 'fde725'],
    magma: ['000004', '180f3d', '440f76', '721f81', '9e2f7f', 'cd4071', 'f1605d', 'fd9668', 'feca8d', 'fcfdbf'],
    cividis: ['00224e', '123570', '3b496c', '575d6d', '707173', '8a8779', 'a69d75', 'c4b56c', 'e4cf5b', 'fee838'],
    // diverging, red (low) through white to blue (high), as matplotlib's RdBu
    rdbu: ['67001f', 'b2182b', 'd6604d', 'f4a582', 'fddbc7', 'f7f7f7', 'd1e5f0', '92c5de', '4393c3', '2166ac', '053061'],
  }),
);

/** Colormaps centred on a midpoint (their default range is symmetric around 0). */
const DIVERGING = new Set(['rdbu']);

export const COLORMAP_NAMES: readonly string[] = [...ANCHORS.keys()].flatMap((name) => [name, `${name}_r`]);

export interface Colormap {
  readonly name: string;
  readonly diverging: boolean;
  /** 256 colours × 3 bytes (RGB), low to high. */
  readonly table: Uint8Array;
  /** The colour of a value at `t` in 0..1 (clamped). */
  color(t: number): Rgb;
}

function parseHex(hex: string): Rgb {
  return [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
}

function buildTable(anchors: readonly Rgb[]): Uint8Array {
  const table = new Uint8Array(256 * 3);
  const segments = anchors.length - 1;
  for (let i = 0; i < 256; i++) {
    const position = (i / 255) * segments;
    const k = Math.min(segments - 1, Math.floor(position));
    const f = position - k;
    const a = anchors[k] as Rgb;
    const b = anchors[k + 1] as Rgb;
    for (let c = 0; c < 3; c++) table[i * 3 + c] = Math.round(a[c]! + (b[c]! - a[c]!) * f);
  }
  return table;
}

const cache = new Map<string, Colormap>();

/** The colormap of that name (`viridis`, `magma_r`, ...), or undefined. */
export function colormap(name: string): Colormap | undefined {
  const known = cache.get(name);
  if (known) return known;
  const reversed = name.endsWith('_r');
  const base = reversed ? name.slice(0, -2) : name;
  const hexes = ANCHORS.get(base); // a Map: a requested name is never looked up on a prototype
  if (!hexes) return undefined;
  const anchors = hexes.map(parseHex);
  if (reversed) anchors.reverse();
  const table = buildTable(anchors);
  const map: Colormap = {
    name,
    diverging: DIVERGING.has(base),
    table,
    color(t: number): Rgb {
      const i = Number.isFinite(t) ? Math.max(0, Math.min(255, Math.round(t * 255))) : 0;
      return [table[i * 3] as number, table[i * 3 + 1] as number, table[i * 3 + 2] as number];
    },
  };
  cache.set(name, map);
  return map;
}
