import { Hono } from 'hono';
import { currentBudget } from '../../kerchunk/request-budget.js';
import { ifNoneMatchHits } from '../../server/http/etag.js';
import { badRequest, HttpProblem } from '../../server/http/problem.js';
import { publicBaseUrl } from '../../server/http/public-url.js';
import type { DatasetEnv, PluginContext, StratoPlugin } from '../../server/plugin.js';
import { METADATA_CACHE_CONTROL } from '../../views/metadata-documents.js';
import { gridChunkCount, MAX_TABLE_CHUNKS, type ReferenceTableOptions, referenceTableEtag, referenceTableStream, TEMPLATE_ABOVE_CHUNKS } from '../../views/reference-table.js';

/** The table depends on the public URL, which these headers change (the Host is in every cache key). */
const VARY = 'x-forwarded-proto, x-forwarded-host, x-forwarded-prefix';

function encodedId(c: { var: { dataset: { id: string } } }): string {
  return encodeURIComponent(c.var.dataset.id);
}

/** `?templates=`: true/false, or absent (templates for grids above TEMPLATE_ABOVE_CHUNKS). */
function templatesWanted(value: string | undefined, chunks: number): boolean {
  if (value === undefined || value === '') return chunks > TEMPLATE_ABOVE_CHUNKS;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw badRequest('templates must be true or false');
}

/** `?missing=`: absent or url (default: url, which Debian's fsspec 2022.11 needs; see ReferenceTableOptions). */
function missingWanted(value: string | undefined): 'absent' | 'url' {
  if (value === undefined || value === '' || value === 'url') return 'url';
  if (value === 'absent') return 'absent';
  throw badRequest('missing must be absent or url');
}

/**
 * `GET /datasets/{id}/references.json`: a kerchunk (fsspec JSON v1) reference table of the
 * dataset whose chunks point at this server's raw view (views/reference-table.ts), streamed.
 */
export const referencesPlugin: StratoPlugin = {
  name: 'references',
  version: '1.0.0',
  datasetRoutes(context: PluginContext) {
    const app = new Hono<DatasetEnv>();
    app.get('/', (c) => {
      const format = c.req.query('format');
      if (format !== undefined && format !== 'json') {
        // no redirect: fsspec opens a parquet set by its directory URL (it appends `/.zmetadata`), never this one
        const hint = format === 'parquet' ? `; the parquet form is the directory references.parq/ (fsspec: fo=".../datasets/${encodedId(c)}/references.parq")` : '';
        throw badRequest(`format ${JSON.stringify(format.slice(0, 32))} is not served: references.json answers fsspec JSON (version 1) only${hint}`);
      }
      const dataset = c.var.dataset;
      const chunks = gridChunkCount(dataset);
      if (chunks > MAX_TABLE_CHUNKS) {
        throw new HttpProblem(
          413,
          'Content Too Large',
          `the chunk grids of "${dataset.id}" hold ${chunks} keys, more than the ${MAX_TABLE_CHUNKS} a reference table lists; open the dataset's /zarr or /kerchunk store instead`,
        );
      }
      const options: ReferenceTableOptions = {
        baseUrl: publicBaseUrl(c.req.raw),
        templates: templatesWanted(c.req.query('templates'), chunks),
        missing: missingWanted(c.req.query('missing')),
      };
      const etag = referenceTableEtag(dataset, options, context.version);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'cache-control': etag ? METADATA_CACHE_CONTROL : 'no-cache',
        vary: VARY,
        ...(etag ? { etag } : {}),
      };
      if (etag && ifNoneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
      if (c.req.method === 'HEAD') return c.body(null, 200, headers);
      return c.body(referenceTableStream(dataset, options, currentBudget()), 200, headers);
    });
    return { prefix: 'references.json', app };
  },
};
