/** What the API documentation says about one route. */
export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  /** Media type(s) of a successful response. */
  readonly produces: readonly string[];
  /** Status of a successful response (default 200). */
  readonly status?: number;
  readonly query?: ReadonlyArray<{ name: string; description: string; schema: Record<string, unknown>; example?: string }>;
  /** Describes a path parameter other than `id`. */
  readonly params?: Readonly<Record<string, string>>;
  /** A JSON request body is expected. */
  readonly jsonBody?: boolean;
  /** Requires `Authorization: Bearer <STRATO_ADMIN_TOKEN>`. */
  readonly bearer?: boolean;
}

const JSON_TYPE = ['application/json'];
const HTML = ['text/html'];
const KEY =
  'A Zarr store key: `.zmetadata`, `.zgroup`, `.zattrs`, `VAR/.zarray`, `VAR/.zattrs`, a chunk like `VAR/0.1.2`, or the Zarr v3 face (`zarr.json`, `VAR/c/0/1/2`). Keys contain `/`: send them unencoded.';
const STORE_NOTE = ' Every key answers GET and HEAD, single byte ranges (206/416), ETag/If-None-Match; a missing chunk is 404 (clients use the fill value).';

const TREE_ROOT = 'Redirects to the slash-terminated root, an HTML index of its documents and top-level groups; read `.zmetadata` (v2) or `zarr.json` (v3) below it.';
const TREE_KEY =
  "Each dataset is a group at its id split on `.` (`icon.hist.atmos` → `icon/hist/atmos/`), its keys answered by the dataset's own view; every group has consolidated metadata (holding every array for small subtrees). A group path without its slash redirects to the index with it.";
const TREE_TYPES = ['application/json', 'application/octet-stream', 'text/html'];

const STAC_SEARCH: RouteDoc['query'] = [
  { name: 'bbox', description: 'Bounding box `west,south,east,north`.', schema: { type: 'string' } },
  { name: 'datetime', description: 'Instant or interval (`2001-01-01/2001-12-31`, open ends `..`).', schema: { type: 'string' } },
  { name: 'collections', description: 'Comma-separated collection ids (search only).', schema: { type: 'string' } },
  { name: 'ids', description: 'Comma-separated item ids.', schema: { type: 'string' } },
  { name: 'limit', description: 'Page size.', schema: { type: 'integer', minimum: 1 } },
];

/** Curated documentation by `METHOD path` (OpenAPI templates). Routes not listed get a generic entry. */
export const ROUTE_DOCS: Readonly<Record<string, RouteDoc>> = {
  'GET /': {
    summary: 'Landing page',
    description: 'What this server is and its datasets, with a search box (`q` filters by id, title or variable).',
    produces: HTML,
    query: [{ name: 'q', description: 'Filter terms (all must match id, title or a variable name).', schema: { type: 'string' } }],
  },
  'GET /datasets': { summary: 'Dataset ids', description: 'JSON array of the ids of all served datasets (xpublish).', produces: JSON_TYPE },
  'GET /versions': { summary: 'Software versions', produces: JSON_TYPE },
  'GET /plugins': { summary: 'Loaded plugins', description: 'Plugin names and versions.', produces: JSON_TYPE },
  'GET /health': { summary: 'Health', description: 'Catalog state: `ok`, or `degraded` with the datasets left out and why.', produces: JSON_TYPE },
  'GET /metrics': { summary: 'Prometheus metrics', produces: ['text/plain'] },
  'GET /openapi.json': { summary: 'This OpenAPI document', produces: JSON_TYPE },
  'GET /docs': { summary: 'API documentation (Swagger UI)', produces: HTML },
  'GET /docs/init.js': { summary: 'Start-up script of the API documentation page', produces: ['text/javascript'] },
  'GET /docs/assets/{file}': {
    summary: 'Swagger UI assets',
    description: 'Served from the bundled swagger-ui-dist package.',
    produces: ['text/javascript', 'text/css', 'image/png'],
    params: { file: 'Asset file name, e.g. `swagger-ui-bundle.js`.' },
  },
  'GET /intake.yaml': {
    summary: 'intake catalog of all datasets',
    description:
      "intake v1 YAML: per dataset a source `ID` (driver `zarr`, needs intake-xarray) and `ID_arrays` (intake's built-in `zarr_cat`: dask arrays); parameter `method` chooses `kerchunk` (raw) or `zarr` (processed).",
    produces: ['application/yaml', 'text/yaml'],
  },
  'GET /stac': { summary: 'STAC API landing page (catalog root)', produces: JSON_TYPE },
  'GET /stac/api': { summary: 'STAC API service description', produces: ['application/vnd.oai.openapi+json;version=3.0', 'application/json'] },
  'GET /stac/conformance': { summary: 'STAC API conformance classes', produces: JSON_TYPE },
  'GET /stac/queryables': { summary: 'Queryables of all collections (JSON Schema)', produces: ['application/schema+json', 'application/json'] },
  'GET /stac/collections': { summary: 'STAC collections', produces: JSON_TYPE },
  'GET /stac/collections/{collection}': { summary: 'One STAC collection', produces: JSON_TYPE, params: { collection: 'Collection id.' } },
  'GET /stac/collections/{collection}/queryables': {
    summary: 'Queryables of a collection (JSON Schema)',
    produces: ['application/schema+json', 'application/json'],
    params: { collection: 'Collection id.' },
  },
  'GET /stac/collections/{collection}/items': {
    summary: 'Items of a collection (paged, filterable like search)',
    produces: ['application/geo+json', 'application/json'],
    params: { collection: 'Collection id.' },
    query: STAC_SEARCH,
  },
  'GET /stac/collections/{collection}/items/{item}': {
    summary: 'One STAC Item (a dataset)',
    produces: ['application/geo+json', 'application/json'],
    params: { collection: 'Collection id.', item: 'Item id (the dataset id).' },
  },
  'GET /stac/search': { summary: 'STAC item search', produces: ['application/geo+json', 'application/json'], query: STAC_SEARCH },
  'POST /stac/search': { summary: 'STAC item search (JSON body)', produces: ['application/geo+json', 'application/json'], jsonBody: true },
  'POST /admin/datasets': {
    summary: 'Register a dataset',
    description: 'Body `{id, refs, title?, description?, license?, processing?, stac?}`; 201 with `{id, url}`, 409 when the id exists, 422 when the references are invalid.',
    produces: JSON_TYPE,
    status: 201,
    jsonBody: true,
    bearer: true,
  },
  'PUT /admin/datasets/{id}': {
    summary: 'Register or replace a dataset',
    description: 'Same body as POST; 201 created or 200 replaced.',
    produces: JSON_TYPE,
    jsonBody: true,
    bearer: true,
  },
  'DELETE /admin/datasets/{id}': { summary: 'Remove a dataset from the catalog', produces: [], status: 204, bearer: true },
  'GET /datasets/{id}': {
    summary: 'Dataset page (HTML)',
    description: 'xarray-like view: dimensions, coordinates, data variables, attributes, a quick-look map and snippets to open the dataset.',
    produces: HTML,
  },
  'GET /datasets/{id}/keys': { summary: 'Variable names', produces: JSON_TYPE },
  'GET /datasets/{id}/dict': { summary: 'Dataset schema as xarray `to_dict(data=False)`', produces: JSON_TYPE },
  'GET /datasets/{id}/info': { summary: 'Dataset schema (xpublish `/info`)', produces: JSON_TYPE },
  'GET /datasets/{id}/catalog.yaml': { summary: 'intake catalog of this dataset', produces: ['application/yaml', 'text/yaml'] },
  'GET /datasets/{id}/provenance': {
    summary: 'Provenance of this dataset (W3C PROV)',
    description: 'Source files, reference table, raw view, processing stages. PROV-JSON by default; `?format=provn|ttl` or Accept `text/provenance-notation` / `text/turtle`.',
    produces: ['application/json', 'text/provenance-notation', 'text/turtle'],
    query: [{ name: 'format', description: '`json`, `provn` or `ttl`.', schema: { type: 'string' } }],
  },
  'GET /conformance': { summary: 'OGC conformance classes (OGC API – Processes, STAC API)', produces: JSON_TYPE },
  'GET /processes': { summary: 'OGC API – Processes: the processes (echo, subset)', produces: JSON_TYPE },
  'GET /processes/{id}': { summary: 'OGC process description', produces: JSON_TYPE },
  'POST /processes/{id}/execution': {
    summary: 'Execute a process',
    description:
      'Body `{"inputs": {...}, "response": "raw"|"document"}`. Synchronous by default (subset: the NetCDF file itself); `Prefer: respond-async` answers 201 with `Location: /jobs/{jobId}`. 413 beyond STRATO_JOB_MAX_OUTPUT_MB, 429 when the queue is full.',
    produces: ['application/json', 'application/x-netcdf'],
    jsonBody: true,
  },
  'GET /jobs': { summary: 'Jobs (statusInfo list)', produces: JSON_TYPE },
  'GET /jobs/{id}': { summary: 'Job status (statusInfo with progress)', produces: JSON_TYPE },
  'DELETE /jobs/{id}': { summary: 'Dismiss a job (removes it and its results)', produces: JSON_TYPE },
  'GET /jobs/{id}/provenance': {
    summary: 'Provenance of a job (W3C PROV): the job, its inputs, its results, the dataset chain',
    produces: ['application/json', 'text/provenance-notation', 'text/turtle'],
  },
  'GET /jobs/{id}/results': { summary: 'Results of a job (values inline, files as links)', produces: JSON_TYPE },
  'GET /jobs/{id}/results/{output}/{key}': {
    summary: 'A key of a Zarr result store (`.zmetadata`, `VAR/.zarray`, `VAR/0.0.0`)',
    produces: ['application/json', 'application/octet-stream'],
    params: { output: 'Output id, e.g. `result`.', key: 'Zarr v2 store key.' },
  },
  'GET /jobs/{id}/results/{output}': { summary: 'One result of a job', produces: ['application/x-netcdf', 'application/json'], params: { output: 'Output id, e.g. `result`.' } },
  'GET /datasets/{id}/stac': { summary: 'STAC Item of this dataset', produces: ['application/geo+json', 'application/json'] },
  'GET /datasets/{id}/kerchunk': {
    summary: 'Raw view store root',
    description:
      'As a static Zarr directory: `kerchunk` redirects (301) to `kerchunk/`, an HTML index of the root documents and top-level arrays (GDAL /vsicurl/ opens the store from it); read `.zmetadata` below it.',
    produces: HTML,
  },
  'GET /datasets/{id}/groupby/{variable}/{coord}/{action}/zarr/{key}': {
    summary: 'Climatology of a variable as a Zarr store (cloudify-compatible groupby)',
    description: `One variable grouped by coord (time.month, time.season, time.dayofyear, time.hour) and reduced by action (mean, min, max, sum, std, count) in its own calendar, with CF climatology bounds; every chunk computed on request and cached.${STORE_NOTE}`,
    produces: ['application/json', 'application/octet-stream'],
    params: { key: KEY },
  },
  'GET /datasets/{id}/kerchunk/{key}': {
    summary: 'Raw view: a Zarr key',
    description: `Metadata from the references; chunk bytes passed through untouched.${STORE_NOTE}`,
    produces: ['application/json', 'application/octet-stream'],
    params: { key: KEY },
  },
  'GET /datasets/{id}/references.json': {
    summary: 'A kerchunk reference table of the raw view',
    description:
      'A kerchunk (fsspec JSON, version 1) table of the dataset: metadata inline, every chunk `[URL]` of this server\'s raw view (`/datasets/{id}/kerchunk/{key}`, absolute, right behind a proxy), missing chunks absent; streamed. Open with `fsspec.filesystem("reference", fo=URL, remote_protocol="http")` and xarray.',
    produces: JSON_TYPE,
    query: [
      {
        name: 'templates',
        description: 'Write chunk URLs as `{{u}}/key` with `"templates": {"u": …}` (default: only for grids above 10 000 chunks).',
        schema: { type: 'boolean' },
      },
      { name: 'format', description: 'Only `json` (`parquet` is a 400 naming `references.parq/`).', schema: { type: 'string', enum: ['json'] } },
    ],
  },
  'GET /datasets/{id}/references.parq': {
    summary: 'The kerchunk reference table as an fsspec parquet reference set',
    description:
      'Redirects (301) to `references.parq/`, an HTML index linking `.zmetadata` (what fsspec\'s HTTP filesystem takes for a directory): open with `fsspec.filesystem("reference", fo=URL, remote_protocol="http")` where fsspec reads parquet references (pyarrow or fastparquet).',
    produces: HTML,
  },
  'GET /datasets/{id}/references.parq/{key}': {
    summary: 'A file of the parquet reference set, made on request',
    description:
      '`.zmetadata` (`{"metadata": {...}, "record_size": 10000}`) or `VAR/refs.N.parq`: columns path, offset, size, raw for chunks N·10000 … of VAR\'s grid in C order (fsspec\'s LazyReferenceMapper layout), chunk URLs as in references.json, missing chunks a null path; cached, ETag/If-None-Match, byte ranges. A record past the grid is 404.',
    produces: ['application/json', 'application/vnd.apache.parquet'],
    params: { key: '`.zmetadata` or `VAR/refs.N.parq`.' },
  },
  'GET /datasets/{id}/zarr': {
    summary: 'Processed view store root',
    description:
      'As a static Zarr directory: `zarr` redirects (301) to `zarr/`, an HTML index of the root documents and top-level arrays (GDAL /vsicurl/ opens the store from it); read `.zmetadata` below it.',
    produces: HTML,
  },
  'GET /datasets/{id}/zarr/{key}': {
    summary: 'Processed view: a Zarr key',
    description: `The dataset after its processing chain (rechunk, bit-round, re-compress).${STORE_NOTE}`,
    produces: ['application/json', 'application/octet-stream'],
    params: { key: KEY },
  },
  'GET /catalog/kerchunk': { summary: 'The whole catalog as one Zarr tree (raw view): root', description: TREE_ROOT, produces: HTML },
  'GET /catalog/kerchunk/{key}': {
    summary: 'The whole catalog as one Zarr tree (raw view): a key',
    description: `${TREE_KEY}${STORE_NOTE}`,
    produces: TREE_TYPES,
    params: { key: KEY },
  },
  'GET /catalog/zarr': { summary: 'The whole catalog as one Zarr tree (processed view): root', description: TREE_ROOT, produces: HTML },
  'GET /catalog/zarr/{key}': {
    summary: 'The whole catalog as one Zarr tree (processed view): a key',
    description: `${TREE_KEY}${STORE_NOTE}`,
    produces: TREE_TYPES,
    params: { key: KEY },
  },
  'GET /datasets/{id}/opendap': {
    summary: 'OPeNDAP (DAP2) dataset URL',
    description: 'Give this URL to ncdump, cdo or netCDF-C; they request the `.dds`, `.das` and `.dods` siblings.',
    produces: ['text/plain'],
  },
  'GET /datasets/{id}/opendap.dds': {
    summary: 'DAP2 Dataset Descriptor Structure',
    produces: ['text/plain'],
    query: [{ name: 'constraint', description: 'A DAP2 constraint expression, sent as the whole query string (e.g. `?pr[0:1:0][0:1:36][0:1:71]`).', schema: { type: 'string' } }],
  },
  'GET /datasets/{id}/opendap.das': { summary: 'DAP2 Dataset Attribute Structure', produces: ['text/plain'] },
  'GET /datasets/{id}/opendap.dods': {
    summary: 'DAP2 data (XDR)',
    produces: ['application/octet-stream'],
    query: [{ name: 'constraint', description: 'A DAP2 constraint expression, sent as the whole query string.', schema: { type: 'string' } }],
  },
  'GET /datasets/{id}/opendap.ver': { summary: 'DAP2 server version', produces: ['text/plain'] },
  'GET /datasets/{id}/plot/{file}': {
    summary: 'Quick-look map (PNG)',
    description:
      'A 2-D latitude/longitude slice of a variable, north up, CF-unpacked, missing values transparent, with title and colorbar. Grids larger than 1024 cells per side are decimated. Cached; ETag.',
    produces: ['image/png'],
    params: { file: 'The variable name followed by `.png`, e.g. `pr.png`.' },
    query: [
      {
        name: 'time',
        description: 'Time step: an index (default 0) or an ISO date matched against the decoded time coordinate (`2001-03-05`, `2001-03`).',
        schema: { type: 'string' },
        example: '0',
      },
      { name: 'level', description: 'Index along the vertical (or other extra) dimension (default 0).', schema: { type: 'integer', minimum: 0 } },
      {
        name: 'cmap',
        description: 'Colormap; `_r` reverses.',
        schema: { type: 'string', enum: ['viridis', 'magma', 'cividis', 'rdbu', 'viridis_r', 'magma_r', 'cividis_r', 'rdbu_r'], default: 'viridis' },
      },
      { name: 'vmin', description: 'Value at the bottom of the colormap (default: data minimum).', schema: { type: 'number' } },
      { name: 'vmax', description: 'Value at the top of the colormap (default: data maximum).', schema: { type: 'number' } },
    ],
  },
};
