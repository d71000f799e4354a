import type { JsonValue } from '../reference.js';

/**
 * netCDF-4 extends the HDF5 datasets of an unlimited dimension lazily: a variable written only up
 * to index 7 of a 12-step `time` has an HDF5 extent of 8. A scan copies the extents, so the arrays
 * of one group disagree on the length of `time` and xarray refuses the dataset ("conflicting
 * sizes for dimension"). netCDF readers show every variable at the dimension's length, with fill
 * values past what was written.
 *
 * `harmonizeDimensions` does the same to scanned metadata: within each group, every array's shape
 * along a dimension (named by its `_ARRAY_DIMENSIONS`) becomes the largest length any array of the
 * group has along that name. Chunk references are untouched: chunks past the written data stay
 * missing and read as the fill value. Groups are separate namespaces (a subgroup may define its
 * own `time`), and xarray opens one group at a time.
 */
export interface HarmonizeInput {
  readonly metadata: ReadonlyMap<string, JsonValue>;
  readonly metadataText?: ReadonlyMap<string, string>;
}

export interface DimensionChange {
  /** Array path ('sparse', 'group/var'). */
  readonly array: string;
  readonly dimension: string;
  readonly from: number;
  readonly to: number;
}

export interface HarmonizedMetadata {
  /** The documents, in the input's order, with grown `.zarray` shapes. */
  readonly metadata: Map<string, JsonValue>;
  /** Texts of unchanged documents as given; changed `.zarray` documents re-serialised. */
  readonly metadataText: Map<string, string>;
  readonly changes: readonly DimensionChange[];
}

interface ArrayDims {
  readonly path: string;
  readonly group: string;
  readonly shape: readonly number[];
  readonly dims: readonly string[];
}

export function harmonizeDimensions(input: HarmonizeInput): HarmonizedMetadata {
  const arrays: ArrayDims[] = [];
  for (const [key, document] of input.metadata) {
    if (!key.endsWith('.zarray') || (key !== '.zarray' && !key.endsWith('/.zarray'))) continue;
    const path = key === '.zarray' ? '' : key.slice(0, -'/.zarray'.length);
    const shape = shapeOf(document);
    const dims = dimensionsOf(input.metadata.get(path === '' ? '.zattrs' : `${path}/.zattrs`));
    if (shape === undefined || dims === undefined || dims.length !== shape.length) continue;
    arrays.push({ path, group: path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '', shape, dims });
  }

  const longest = new Map<string, number>(); // `${group}\u0000${dim}` → length
  for (const array of arrays) {
    array.dims.forEach((dim, axis) => {
      const name = `${array.group}\u0000${dim}`;
      longest.set(name, Math.max(longest.get(name) ?? 0, array.shape[axis] as number));
    });
  }

  const metadata = new Map(input.metadata);
  const metadataText = new Map<string, string>();
  for (const [key, document] of input.metadata) metadataText.set(key, input.metadataText?.get(key) ?? JSON.stringify(document));
  const changes: DimensionChange[] = [];
  for (const array of arrays) {
    const shape = array.dims.map((dim, axis) => {
      const current = array.shape[axis] as number;
      const target = longest.get(`${array.group}\u0000${dim}`) ?? current;
      if (target !== current) changes.push({ array: array.path, dimension: dim, from: current, to: target });
      return target;
    });
    if (shape.every((length, axis) => length === array.shape[axis])) continue;
    const key = array.path === '' ? '.zarray' : `${array.path}/.zarray`;
    const document = { ...(input.metadata.get(key) as Record<string, JsonValue>), shape };
    metadata.set(key, document);
    metadataText.set(key, JSON.stringify(document));
  }
  return { metadata, metadataText, changes };
}

function shapeOf(document: JsonValue | undefined): number[] | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const shape = document.shape;
  if (!Array.isArray(shape) || !shape.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) return undefined;
  return shape as number[];
}

function dimensionsOf(document: JsonValue | undefined): string[] | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const dims = document._ARRAY_DIMENSIONS;
  if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'string')) return undefined;
  return dims as string[];
}
