import type { DatasetEntry } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import type { DeriveSpec } from '../catalog/derive-entry.js';
import type { DatasetValues } from '../kerchunk/array-values.js';
import { ChunkGrid } from '../kerchunk/chunk-grid.js';
import type { ChunkReference, JsonValue, ReferenceStore } from '../kerchunk/reference.js';
import { SingleFlightCache } from '../kerchunk/single-flight-cache.js';
import { splitChunkKey } from '../kerchunk/zarr-keys.js';
import { computeChunk } from './derive-chunks.js';
import { type DerivedArray, planDerived } from './derive-plan.js';

/**
 * A derived dataset looks to every face like a referenced one: its "reference table" has the
 * derived Zarr metadata, and every chunk key resolves to inline bytes computed on request (and
 * cached). So /kerchunk, /zarr (with `processing` after the derivation), OPeNDAP, plots, STAC
 * and intake serve it unchanged.
 */
export interface DerivedDataset extends Dataset {
  readonly derivedFrom: Dataset;
}

/** Computed chunks, shared by all derived datasets (keys unique to each opened dataset). */
export type DerivedChunkCache = SingleFlightCache<Uint8Array>;

/** A cache of computed chunks bounded in bytes. */
export function derivedChunkCache(maxBytes = 128 * 1024 * 1024): DerivedChunkCache {
  return new SingleFlightCache<Uint8Array>({ maxBytes, sizeOf: (chunk) => chunk.byteLength });
}

let nextToken = 1;

class DerivedReferences implements ReferenceStore {
  readonly metadata: ReadonlyMap<string, JsonValue>;
  readonly metadataText: ReadonlyMap<string, string>;
  private readonly arrays = new Map<string, { array: DerivedArray; grid: ChunkGrid }>();
  private readonly token = `derived-${nextToken++}\0`;

  constructor(
    arrays: readonly DerivedArray[],
    attrs: Record<string, JsonValue>,
    private readonly values: DatasetValues,
    private readonly cache: DerivedChunkCache,
  ) {
    const metadata = new Map<string, JsonValue>([
      ['.zgroup', { zarr_format: 2 }],
      ['.zattrs', { ...attrs }],
    ]);
    for (const array of arrays) {
      metadata.set(`${array.name}/.zarray`, array.meta as unknown as JsonValue);
      metadata.set(`${array.name}/.zattrs`, { ...array.attrs, _ARRAY_DIMENSIONS: [...array.dims] });
      this.arrays.set(array.name, { array, grid: new ChunkGrid(array.meta.shape, array.meta.shape.length === 0 ? [] : array.meta.chunks) });
    }
    this.metadata = metadata;
    this.metadataText = new Map(
      [...metadata].map(([key, value]) => [key, JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))]),
    );
  }

  async chunk(key: string): Promise<ChunkReference | undefined> {
    const parts = splitChunkKey(key);
    const found = parts && this.arrays.get(parts.array);
    if (!parts || !found) return undefined;
    const { array, grid } = found;
    if (grid.indexOf(parts.chunk) === undefined) return undefined;
    const index = array.meta.shape.length === 0 ? [] : parts.chunk.split('.').map(Number);
    const data = await this.cache.get(`${this.token}${key}`, () => computeChunk(array, index, this.values));
    // a copy: a served body may hand its buffer over (detach it), the cached chunk must stay whole
    return { kind: 'inline', data: data.slice() };
  }

  async *urls(): AsyncIterable<string> {}

  async close(): Promise<void> {}
}

/**
 * Opens a derived dataset over its (already opened) source: reads the source coordinates it
 * needs and plans the derived arrays. Throws DeriveError when the spec does not fit the source.
 */
export async function openDerived(entry: DatasetEntry & { derive: DeriveSpec }, source: Dataset, values: DatasetValues, cache: DerivedChunkCache): Promise<DerivedDataset> {
  const plan = await planDerived(entry.derive, source.references.metadata, values);
  return {
    id: entry.id,
    entry,
    references: new DerivedReferences(plan.arrays, plan.attrs, values, cache),
    referenceBase: source.referenceBase,
    derivedFrom: source,
  };
}
