import type { Dataset } from '../catalog/dataset.js';
import { asciiJson } from '../kerchunk/ascii-json.js';
import { ChunkGrid, type DimensionSeparator } from '../kerchunk/chunk-grid.js';
import { encodeInline } from '../kerchunk/json-writer.js';
import type { RequestBudget } from '../kerchunk/request-budget.js';
import { arrayMetadata, arrayPaths } from '../kerchunk/zarr-metadata.js';
import { etagOf } from '../server/http/etag.js';
import { consolidatedText } from './metadata-documents.js';
import { completeMetadata } from './raw-view.js';

/**
 * A dataset's kerchunk reference table (fsspec JSON, version 1) whose chunks all point at this
 * server's raw view (`<base>/datasets/{id}/kerchunk/{key}`): fsspec's "reference" filesystem then
 * reads the dataset through strato (its access checks, its caches), never the source files.
 *
 * - metadata documents inline as JSON text (the raw view's documents, `.zmetadata` included);
 * - a chunk the table has inline stays inline (it is in the table already); every other chunk
 *   is `[url]` (a whole object of the raw view); chunks the table lacks are absent (fill value),
 *   or with `missing: 'url'` listed too (see there);
 * - with `templates`, the URLs are written `{{u}}/tas/0.0.0` with `"templates": {"u": view URL}`
 *   (fsspec's simple templates, no jinja2 needed; `{{b}}` is the base URL, which the URLs of
 *   ordered arrays below start with): shorter lines, by the length of the URL it stands for;
 * - chunk URLs of an array whose grid has more than 10 chunks along a dimension are written so
 *   that their text order is the grid's C order (`orderedPath`): fsspec 2022.11 needs it.
 *
 * The text is produced as the client reads it, never held whole: a parquet set of millions of
 * chunks is streamed key by key, and the loop stops when the request's budget aborts (client gone).
 */
export interface ReferenceTableOptions {
  /** The server's public base URL (publicBaseUrl: scheme, host, any prefix; no trailing slash). */
  readonly baseUrl: string;
  /** Write chunk URLs through a template (see above). */
  readonly templates: boolean;
  /**
   * Chunks the table lacks: `absent` (left out, kerchunk's way), or `url` (listed like the
   * others; the raw view answers them 404, which fsspec reads as a missing key, so zarr uses the
   * fill value). fsspec 2022.11 (Debian 12) needs `url`: zarr 2 asks it for chunks in batches and
   * it fails the whole batch with a KeyError when one key is absent from the table.
   */
  readonly missing: 'absent' | 'url';
}

/** Chunk keys (of all grids together) above which `templates` is the default. */
export const TEMPLATE_ABOVE_CHUNKS = 10_000;

/** Grids larger than this are refused (413): listing them would take minutes for any client. */
export const MAX_TABLE_CHUNKS = 50_000_000;

/** Text is handed to the client in pieces of about this many characters. */
const PIECE_CHARS = 64 * 1024;

/** One array of the table: its path and chunk grid. */
export interface TableArray {
  readonly path: string;
  readonly grid: ChunkGrid;
}

/** The arrays of a dataset with their chunk grids (in metadata order). */
export function tableArrays(dataset: Dataset): TableArray[] {
  const arrays: TableArray[] = [];
  for (const path of arrayPaths(dataset.references.metadata)) {
    const meta = arrayMetadata(dataset.references.metadata, path);
    if (!meta) continue;
    const separator: DimensionSeparator = meta.dimension_separator ?? '.';
    arrays.push({ path, grid: new ChunkGrid(meta.shape, meta.shape.length === 0 ? [] : meta.chunks, separator) });
  }
  return arrays;
}

/** Chunk keys in all grids of a dataset (an upper bound on the table's chunk references). */
export function gridChunkCount(dataset: Dataset): number {
  return tableArrays(dataset).reduce((sum, array) => sum + array.grid.size, 0);
}

/**
 * The ETag of a table, or undefined when the dataset's table has no version to name it by (a
 * derived dataset). It changes with the table file, strato's version, the public URL and the form.
 */
export function referenceTableEtag(dataset: Dataset, options: ReferenceTableOptions, version: string): string | undefined {
  if (dataset.tableVersion === undefined) return undefined;
  return etagOf('reference-table', version, dataset.id, dataset.tableVersion, options.baseUrl, options.templates ? 'templates' : 'urls', options.missing);
}

/**
 * The table's text, generated piece by piece as the stream is read. `budget`: the request's;
 * each step checks it (a client that left or an exhausted budget ends the stream with its error).
 */
export function referenceTableStream(dataset: Dataset, options: ReferenceTableOptions, budget: RequestBudget): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const lines = referenceTableLines(dataset, options, budget);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let text = '';
        try {
          while (text.length < PIECE_CHARS) {
            const next = await lines.next();
            if (next.done) {
              if (text) controller.enqueue(encoder.encode(text));
              controller.close();
              return;
            }
            text += next.value;
          }
        } catch (error) {
          controller.error(error);
          return;
        }
        controller.enqueue(encoder.encode(text));
      },
      async cancel() {
        await lines.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Unreserved characters (RFC 3986): written literally or percent-escaped, the URL is the same. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * The path `/datasets/{id}/kerchunk/{array}/` for chunk `index` of a grid of `size` chunks, with
 * the index written in binary into the spelling of its unreserved characters: the k-th of them
 * percent-escaped for a 0 bit, literal for a 1 (`%` sorts before every unreserved character).
 * So the URLs of an array sort in the grid's C order, where chunk keys themselves do not
 * (`tas/10.0.0` sorts before `tas/2.0.0`).
 *
 * Why: fsspec 2022.11's ReferenceFileSystem.cat sorts a batch by URL to merge byte ranges and,
 * when nothing merged, pairs the sorted answers with the unsorted keys: zarr 2 then puts chunk 10
 * where chunk 2 belongs. Clients normalise the escapes away before sending (yarl, nginx, hono
 * alike), so the server sees the plain path. With fewer characters than bits, the top bits are
 * written (consecutive chunks share a spelling; a grid needs more than 2^16 chunks for that).
 */
export function orderedPath(path: string, index: number, size: number): string {
  const slots: number[] = [];
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '%') i += 2;
    else if (UNRESERVED.test(path[i] as string)) slots.push(i);
  }
  const bits = Math.max(1, Math.ceil(Math.log2(Math.max(2, size))));
  const used = Math.min(bits, slots.length);
  const code = Math.floor(index / 2 ** (bits - used));
  const chars = [...path];
  for (let bit = 0; bit < used; bit++) {
    const one = Math.floor(code / 2 ** (used - 1 - bit)) % 2 === 1;
    const at = slots[bit] as number;
    if (!one) chars[at] = `%${(path.charCodeAt(at) as number).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return chars.join('');
}

/** Whether the text order of a grid's chunk keys differs from its C order (a dimension of more than 10 chunks). */
function needsOrderedPaths(grid: ChunkGrid): boolean {
  return grid.counts.some((count) => count > 10);
}

/** A store key's path segments, each percent-encoded (no `{`, `}` or `%` left raw). */
function encodedSegments(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/**
 * The URL of chunk `index` (key suffix `suffix`) of `array` in the raw view, as the table writes
 * it: `base` is the base URL or `{{b}}`, `view` the view URL or `{{u}}`; spelled by `orderedPath`
 * where the grid needs it. Shared with the parquet form (views/reference-parquet.ts).
 */
export function chunkUrlMaker(datasetId: string, array: TableArray, base: string, view: string): (index: number, suffix: string) => string {
  const { path, grid } = array;
  const viewPath = `/datasets/${encodeURIComponent(datasetId)}/kerchunk`;
  const arrayPath = `${viewPath}/${path === '' ? '' : `${encodedSegments(path)}/`}`;
  const ordered = needsOrderedPaths(grid);
  return (index, suffix) => (ordered ? `${base}${orderedPath(arrayPath, index, grid.size)}${suffix}` : `${view}/${path === '' ? '' : `${encodedSegments(path)}/`}${suffix}`);
}

/** The table as lines of JSON text (ASCII only), in order. */
export async function* referenceTableLines(dataset: Dataset, options: ReferenceTableOptions, budget: RequestBudget): AsyncGenerator<string, void, undefined> {
  const viewPath = `/datasets/${encodeURIComponent(dataset.id)}/kerchunk`;
  const base = options.templates ? '{{b}}' : options.baseUrl;
  const view = options.templates ? '{{u}}' : `${options.baseUrl}${viewPath}`;
  yield options.templates ? `{"version":1,"templates":${asciiJson(JSON.stringify({ u: `${options.baseUrl}${viewPath}`, b: options.baseUrl }))},"refs":{` : '{"version":1,"refs":{';
  let first = true;
  const member = (key: string, value: string): string => {
    const line = `${first ? '\n' : ',\n'}${asciiJson(JSON.stringify(key))}:${value}`;
    first = false;
    return line;
  };
  const texts = completeMetadata(dataset.references.metadataText);
  for (const [key, text] of texts) yield member(key, asciiJson(JSON.stringify(text)));
  yield member('.zmetadata', asciiJson(JSON.stringify(consolidatedText(texts))));
  // a derived dataset computes a chunk to answer whether it exists: every key of its grids is served
  const computed = 'derivedFrom' in dataset;
  for (const array of tableArrays(dataset)) {
    const { path, grid } = array;
    const arrayPrefix = path === '' ? '' : `${path}/`;
    const urlOf = chunkUrlMaker(dataset.id, array, base, view);
    for (let index = 0; index < grid.size; index++) {
      await budget.checkpoint();
      const suffix = grid.suffixOf(index);
      const key = `${arrayPrefix}${suffix}`;
      if (computed) {
        yield member(key, asciiJson(JSON.stringify([urlOf(index, suffix)])));
        continue;
      }
      const reference = await dataset.references.chunk(key);
      if (reference === undefined && options.missing === 'absent') continue;
      const value = reference?.kind === 'inline' ? encodeInline(reference.data) : [urlOf(index, suffix)];
      yield member(key, asciiJson(JSON.stringify(value)));
    }
  }
  yield '\n}}\n';
}
