import { isDeepStrictEqual } from 'node:util';
import type { CatalogProblem, DatasetEntry } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import type { DeriveSpec } from '../catalog/derive-entry.js';
import { DecodedChunkCache, datasetValues } from '../kerchunk/array-reader.js';
import { type ChunkCodecs, inlineCodecs } from '../kerchunk/codecs/codec-pool.js';
import type { Sources } from '../kerchunk/sources/sources.js';
import { DeriveError } from './derive-plan.js';
import { type DerivedChunkCache, derivedChunkCache, openDerived } from './derived-dataset.js';

export interface DerivedOpenerOptions {
  /** Bytes of computed derived chunks kept (all derived datasets together). */
  readonly cacheBytes?: number;
  /** Bytes of decoded source chunks kept for derivations. */
  readonly decodedCacheBytes?: number;
  /** Where source chunks are decoded, once there (the server's worker pool; default: in this thread). */
  readonly codecs?: () => ChunkCodecs | undefined;
}

type DerivedEntry = DatasetEntry & { derive: DeriveSpec };

/**
 * The registry's `openDerived`: opens derived entries once the referenced datasets are open, each
 * after the one it derives from (so `from` may name another derived dataset). An entry whose
 * chain has a cycle, names a dataset that is not served, or does not fit its source is a problem.
 */
export function derivedOpener(options: DerivedOpenerOptions = {}) {
  const cache: DerivedChunkCache = derivedChunkCache(options.cacheBytes);
  const decoded = new DecodedChunkCache(options.decodedCacheBytes ?? 128 * 1024 * 1024);
  // the pool is made after the catalog is opened: coordinates read at load decode in this thread
  const codecs: ChunkCodecs = {
    decode: (bytes, meta, job) => (options.codecs?.() ?? inlineCodecs).decode(bytes, meta, job),
    encode: (raw, meta, job) => (options.codecs?.() ?? inlineCodecs).encode(raw, meta, job),
    transcode: (stored, plan, job) => (options.codecs?.() ?? inlineCodecs).transcode(stored, plan, job),
    close: async () => {},
  };
  // a reload that keeps an entry and its (reused) source keeps the derived dataset and its cached chunks
  const previous = new WeakMap<Dataset, Map<string, Dataset>>();
  return async (entries: readonly DatasetEntry[], opened: ReadonlyMap<string, Dataset>, sources: Sources): Promise<{ datasets: Dataset[]; problems: CatalogProblem[] }> => {
    const pending = new Map(entries.filter((e): e is DerivedEntry => e.derive !== undefined).map((e) => [e.id, e]));
    const done = new Map(opened);
    const datasets: Dataset[] = [];
    const problems: CatalogProblem[] = [];
    const failed = new Set<string>();
    const open = async (entry: DerivedEntry, chain: string[]): Promise<void> => {
      if (done.has(entry.id) || failed.has(entry.id)) return;
      if (chain.includes(entry.id)) {
        failed.add(entry.id);
        problems.push({ id: entry.id, message: `dataset "${entry.id}": "derive.from" makes a cycle: ${[...chain.slice(chain.indexOf(entry.id)), entry.id].join(' → ')}` });
        return;
      }
      const from = entry.derive.from;
      const dependency = pending.get(from);
      if (dependency && !done.has(from)) await open(dependency, [...chain, entry.id]);
      if (failed.has(entry.id)) return;
      const source = done.get(from);
      if (!source) {
        failed.add(entry.id);
        const why = failed.has(from) ? 'which cannot be derived' : 'which is not served';
        problems.push({ id: entry.id, message: `dataset "${entry.id}": "derive.from" names "${from}", ${why}` });
        return;
      }
      if (source.entry.access !== undefined && !isDeepStrictEqual(source.entry.access, entry.access)) {
        // fail closed: a derived dataset must not publish what its source protects
        failed.add(entry.id);
        problems.push({ id: entry.id, message: `dataset "${entry.id}": derives from the protected dataset "${from}" and must have the same "access"` });
        return;
      }
      const memo = JSON.stringify([
        entry.id,
        entry.derive,
        entry.processing ?? null,
        entry.title ?? null,
        entry.description ?? null,
        entry.license ?? null,
        entry.stac ?? null,
        entry.fields,
      ]);
      const kept = previous.get(source)?.get(memo);
      if (kept) {
        done.set(entry.id, kept);
        datasets.push(kept);
        return;
      }
      try {
        const dataset = await openDerived(entry, source, datasetValues(source, sources, decoded, codecs), cache);
        let bySource = previous.get(source);
        if (!bySource) {
          bySource = new Map();
          previous.set(source, bySource);
        }
        bySource.set(memo, dataset);
        done.set(entry.id, dataset);
        datasets.push(dataset);
      } catch (error) {
        failed.add(entry.id);
        const reason = error instanceof DeriveError ? error.message : `cannot derive: ${(error as Error).message}`;
        problems.push({ id: entry.id, message: `dataset "${entry.id}": ${reason}` });
      }
    };
    for (const entry of pending.values()) await open(entry, []);
    return { datasets, problems };
  };
}
