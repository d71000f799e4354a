import { stratoVersion } from '../server/version.js';

/** `strato --help`: every command and its options. */
export const HELP = `strato ${stratoVersion()} — kerchunk references served as cloud-native Zarr

Usage:
  strato serve [--catalog catalog.yaml] [--port 8000] [--host 127.0.0.1] [--log-level info] [--workers N]
  strato stac  --catalog catalog.yaml --out DIR [--base-url URL]
  strato ingest --catalog catalog.yaml --id ID [--format json|parquet] [--concat-dim DIM] FILES...
  strato ingest --catalog catalog.yaml --from-intake CATALOG|URL | --from-dir DIR [--dry-run]
  strato --help | --version

serve     Serve every dataset of the catalog over HTTP (xpublish-compatible routes):
            /                                  HTML: the datasets, with a search box
            /datasets                          dataset ids
            /datasets/{id}/                    HTML view; /keys, /dict, /info as JSON
            /datasets/{id}/kerchunk/{key}      raw view: chunks as stored; Zarr v2 keys
                                               (.zmetadata, v/.zarray, v/0.0.0) and v3 keys
                                               (zarr.json, v/zarr.json, v/c/0/0/0)
            /datasets/{id}/zarr/{key}          processed view (the catalog's processing stages:
                                               rechunk, bit-round, re-compress); v2 and v3 keys
            /datasets/{id}/opendap             OPeNDAP DAP2: .dds, .das, .dods?constraint
            /datasets/{id}/plot/{var}.png      quick-look PNG (?time=&level=&cmap=&vmin=&vmax=)
            /stac, /stac/search, /datasets/{id}/stac   STAC API 1.0 of the live catalog
            /intake.yaml, /datasets/{id}/catalog.yaml  intake catalogs
            /openapi.json, /docs               OpenAPI 3.1 of every route; Swagger UI
            /admin/datasets[/{id}]             POST, PUT, DELETE with Bearer $STRATO_ADMIN_TOKEN
                                               (404 while it is not set)
            /versions, /plugins, /health, /metrics (Prometheus)
          --catalog    catalog file (default: $STRATO_CATALOG or ./catalog.yaml)
          --port       TCP port, 0 for any free port (default: $PORT or 8000)
          --host       address to bind (default: 127.0.0.1)
          --log-level  debug | info | warn | error | silent (default: info)
          --workers    processes sharing the port (node cluster; default 1); a worker
                       that dies is replaced
          SIGTERM/SIGINT drain in-flight requests (up to $STRATO_DRAIN_SECONDS, default 10),
          then exit 0; a second signal exits at once. Access lines are logged at debug, or at
          info for 5xx and requests slower than $STRATO_SLOW_REQUEST_SECONDS (default 1);
          STRATO_ACCESS_LOG=all logs every request at info.
          Connections (per process): at most $STRATO_MAX_CONNECTIONS (default 1024; more are
          closed at once); request headers within $STRATO_HEADERS_TIMEOUT_SECONDS (10) and the
          whole request within $STRATO_REQUEST_TIMEOUT_SECONDS (30; 0 = none), else 408 and
          closed; idle keep-alive closed after $STRATO_KEEP_ALIVE_TIMEOUT_SECONDS (5).
          Per request: at most $STRATO_MAX_CHUNKS chunks (100000) and $STRATO_MAX_DECODED_MB
          MiB decoded (4096), else 413; at most $STRATO_MAX_REQUEST_SECONDS (60) of work before
          the answer starts, else 503.

stac      Write a static STAC catalog of the catalog's datasets (extents read from the data):
            DIR/catalog.json → DIR/<collection>/collection.json → DIR/<collection>/<id>/<id>.json
            (relative links), and DIR/mixed.json: the static collections plus the live API.
          --catalog    catalog file (default: $STRATO_CATALOG or ./catalog.yaml)
          --out        output directory
          --base-url   public URL of the strato server the assets point at (default: http://localhost:8000)

ingest    Scan NetCDF/HDF5 files into kerchunk references and register them as a dataset
          (see strato ingest --help: --out, --title, --inline-threshold, --dry-run, --replace, ...);
          --from-intake / --from-dir register existing reference sets: every kerchunk entry of an
          intake catalog (nested ones too) or every set in a directory, in one atomic write
          (see strato ingest --from-dir --help)
`;

/** A command line that cannot be used: one line on stderr, exit 2. */
export class UsageError extends Error {}
