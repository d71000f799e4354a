/**
 * A synthetic fsspec parquet reference set with millions of chunks, written with strato's own
 * writer (kerchunk/parquet-writer.ts as built, from the run's copy of dist/), for the cold-start and memory benchmark.
 *
 *   node bench/.build/bench/make-parquet-refs.js REFS_JSON OUT_DIR [--chunks 10000000] [--record-size 100000]
 *
 * REFS_JSON is the benchmark's kerchunk JSON table (make_bench_data.py: refs/tas.json). The set
 * written to OUT_DIR has the same `tas` variable stretched along time to `--chunks` time steps of
 * one chunk each: chunk k refers to the bytes of day (k mod days) of the real NetCDF4 file, so any
 * chunk can be served and decodes to a real field. The other arrays (lat, lon) are copied, the
 * time coordinate is left out (a 10-million-step coordinate would be the bulk of the set). Source
 * paths are written relative to OUT_DIR. Prints one JSON line: chunks, record files, seconds.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** What this script uses of strato's kerchunk modules (kerchunk/reference.ts, chunk-grid.ts, parquet-writer.ts). */
type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type ChunkReference =
  | { readonly kind: 'inline'; readonly data: Uint8Array }
  | { readonly kind: 'range'; readonly url: string; readonly offset: number; readonly length: number }
  | { readonly kind: 'whole'; readonly url: string };
interface ReferenceStore {
  readonly metadata: ReadonlyMap<string, JsonValue>;
  readonly metadataText: ReadonlyMap<string, string>;
  chunk(key: string): Promise<ChunkReference | undefined>;
  close(): Promise<void>;
}
interface IndexedChunks {
  reference(array: string, index: number): ChunkReference | undefined;
}
interface Kerchunk {
  ChunkGrid: new (shape: readonly number[], chunks: readonly number[], separator: '.' | '/') => { readonly size: number; suffixOf(index: number): string };
  openJsonReferences(path: string): Promise<ReferenceStore>;
  writeParquetReferences(
    dir: string,
    references: { metadata: Map<string, JsonValue>; metadataText: Map<string, string>; chunks: IndexedChunks },
    options: { recordSize: number },
  ): Promise<Record<string, unknown>>;
}

// strato as built: the copy of dist/ the benchmark measures (bench/lib.sh snapshot_dist), not the
// sources, which other work may be changing; so no compile-time import of them either.
const dist = new URL('../dist/kerchunk/', import.meta.url);
const kerchunk = async (module: string): Promise<Partial<Kerchunk>> => (await import(new URL(module, dist).href)) as Partial<Kerchunk>;
const { ChunkGrid } = (await kerchunk('chunk-grid.js')) as Pick<Kerchunk, 'ChunkGrid'>;
const { openJsonReferences } = (await kerchunk('json-references.js')) as Pick<Kerchunk, 'openJsonReferences'>;
const { writeParquetReferences } = (await kerchunk('parquet-writer.js')) as Pick<Kerchunk, 'writeParquetReferences'>;

const STRETCHED = 'tas';
const DROPPED = 'time';

interface Arguments {
  readonly source: string;
  readonly out: string;
  readonly chunks: number;
  readonly recordSize: number;
}

function parseArguments(argv: readonly string[]): Arguments {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { chunks: { type: 'string', default: '10000000' }, 'record-size': { type: 'string', default: '100000' } },
    allowPositionals: true,
  });
  const [source, out] = positionals;
  if (source === undefined || out === undefined) throw new Error('usage: make-parquet-refs REFS_JSON OUT_DIR [--chunks N] [--record-size N]');
  const chunks = Number(values.chunks);
  const recordSize = Number(values['record-size']);
  if (!Number.isSafeInteger(chunks) || chunks <= 0) throw new Error(`--chunks must be a positive integer, got ${values.chunks}`);
  if (!Number.isSafeInteger(recordSize) || recordSize <= 0) throw new Error(`--record-size must be a positive integer, got ${values['record-size']}`);
  return { source: resolve(source), out: resolve(out), chunks, recordSize };
}

interface ZarrayDocument {
  shape: number[];
  chunks: number[];
  [key: string]: JsonValue;
}

function zarrayOf(store: ReferenceStore, array: string): ZarrayDocument {
  const document = store.metadata.get(`${array}/.zarray`);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new Error(`no ${array}/.zarray in the source table`);
  const { shape, chunks } = document;
  if (!Array.isArray(shape) || !Array.isArray(chunks)) throw new Error(`${array}/.zarray has no shape or chunks`);
  return document as ZarrayDocument;
}

/** A reference of the JSON table, its url made relative to the parquet set's directory. */
function rebased(reference: ChunkReference, sourceDir: string, outDir: string): ChunkReference {
  if (reference.kind === 'inline' || /^[a-z][a-z0-9+.-]*:\/\//i.test(reference.url)) return reference;
  const absolute = isAbsolute(reference.url) ? reference.url : resolve(sourceDir, reference.url);
  return { ...reference, url: relative(outDir, absolute) };
}

/** The references of `array` in the source table by linear chunk index (holes: missing chunks). */
async function chunksOf(store: ReferenceStore, array: string, zarray: ZarrayDocument): Promise<Array<ChunkReference | undefined>> {
  const grid = new ChunkGrid(zarray.shape, zarray.chunks, zarray.dimension_separator === '/' ? '/' : '.');
  const found = new Array<ChunkReference | undefined>(grid.size);
  for (let index = 0; index < grid.size; index++) found[index] = await store.chunk(`${array}/${grid.suffixOf(index)}`);
  return found;
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const started = performance.now();
  const store = await openJsonReferences(args.source);
  const sourceDir = dirname(args.source);

  const metadata = new Map<string, JsonValue>();
  const metadataText = new Map<string, string>();
  const copied = new Map<string, Array<ChunkReference | undefined>>();
  const tas = zarrayOf(store, STRETCHED);
  if (tas.chunks[0] !== 1 || tas.shape.slice(1).some((length, d) => length !== tas.chunks[d + 1])) {
    throw new Error(`${STRETCHED} must have one chunk per time step (chunks ${JSON.stringify(tas.chunks)} for shape ${JSON.stringify(tas.shape)})`);
  }
  const days = (await chunksOf(store, STRETCHED, tas)).flatMap((reference) => (reference ? [rebased(reference, sourceDir, args.out)] : []));
  if (days.length === 0) throw new Error(`${args.source} has no chunks of ${STRETCHED}`);

  for (const [key, document] of store.metadata) {
    const array = key.includes('/') ? key.slice(0, key.lastIndexOf('/')) : '';
    if (array === DROPPED) continue;
    if (key === `${STRETCHED}/.zarray`) {
      metadata.set(key, { ...tas, shape: [args.chunks, ...tas.shape.slice(1)] });
      continue;
    }
    metadata.set(key, document);
    const text = store.metadataText.get(key);
    if (text !== undefined) metadataText.set(key, text);
    if (key.endsWith('/.zarray') && array !== STRETCHED) {
      const references = await chunksOf(store, array, zarrayOf(store, array));
      copied.set(
        array,
        references.map((reference) => reference && rebased(reference, sourceDir, args.out)),
      );
    }
  }
  await store.close();
  // Chunk k of the stretched array (one per time step, so k is the step) is day k mod days.
  const chunks: IndexedChunks = {
    reference: (array, index) => (array === STRETCHED ? days[index % days.length] : copied.get(array)?.[index]),
  };

  const summary = await writeParquetReferences(args.out, { metadata, metadataText, chunks }, { recordSize: args.recordSize });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ ...summary, days: days.length, seconds: Number(seconds.toFixed(1)) })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`make-parquet-refs: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
