#!/usr/bin/env node
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { CatalogError } from '../catalog/catalog-file.js';
import { ingest } from '../ingest/ingest-command.js';
import { type BudgetLimits, budgetLimitsFromEnv } from '../kerchunk/request-budget.js';
import { RouteConflictError } from '../server/app.js';
import { disableProtoAccessor } from '../server/harden-process.js';
import { createLogger, isLogLevel } from '../server/log.js';
import { PluginLoadError } from '../server/plugin-loader.js';
import { CONNECTION_DEFAULTS, type ConnectionLimits, DEFAULT_DRAIN_MS, startServer } from '../server/serve.js';
import { stratoVersion } from '../server/version.js';
import { writeStaticStac } from '../static-stac/regenerate.js';
import { isClusterWorker, reportListening, runPrimary } from './cluster.js';

const HELP = `strato ${stratoVersion()} — kerchunk references served as cloud-native Zarr

Usage:
  strato serve [--catalog catalog.yaml] [--port 8000] [--host 127.0.0.1] [--log-level info] [--workers N]
  strato stac  --catalog catalog.yaml --out DIR [--base-url URL]
  strato ingest --catalog catalog.yaml --id ID [--format json|parquet] [--concat-dim DIM] FILES...
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
          (see strato ingest --help: --out, --title, --inline-threshold, --dry-run, --replace, ...)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${stratoVersion()}\n`);
    return 0;
  }
  if (command === 'serve') return serve(rest);
  if (command === 'stac') return staticStac(rest);
  if (command === 'ingest') return ingest(rest);
  process.stderr.write(`strato: unknown command "${command}"\n\n${HELP}`);
  return 2;
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      catalog: { type: 'string', default: process.env.STRATO_CATALOG ?? 'catalog.yaml' },
      port: { type: 'string', default: process.env.PORT ?? '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      'log-level': { type: 'string', default: 'info' },
      workers: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError(`--workers must be 1..64, got "${values.workers}"`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got "${values.port}"`);
  const level = values['log-level'];
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be debug, info, warn, error or silent, got "${level}"`);
  const logger = createLogger(level);
  if (workers > 1 && !isClusterWorker()) {
    runPrimary(workers, logger, secondsFromEnv('STRATO_DRAIN_SECONDS', DEFAULT_DRAIN_MS / 1000) * 1000);
    return -1;
  }
  const drainMs = secondsFromEnv('STRATO_DRAIN_SECONDS', DEFAULT_DRAIN_MS / 1000) * 1000;
  const slowRequestMs = secondsFromEnv('STRATO_SLOW_REQUEST_SECONDS', 1) * 1000;
  const logAllRequests = process.env.STRATO_ACCESS_LOG === 'all';
  // with several server processes, each gets its share of the cores for its codec threads
  const codecThreads = Math.max(1, Math.floor(availableParallelism() / workers));
  const connections = connectionLimitsFromEnv();
  const budgetLimits = budgetLimitsOrUsageError();
  const server = await startServer({ catalog: values.catalog, port, host: values.host, logger, codecThreads, drainMs, slowRequestMs, logAllRequests, connections, budgetLimits });
  if (isClusterWorker()) reportListening(server.url, server.registry.ids().length);
  else process.stdout.write(`strato listening on ${server.url} (${server.registry.ids().length} datasets)\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn('second signal: exiting without draining', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down: draining in-flight requests', { signal, drainSeconds: drainMs / 1000 });
    server.close().then(
      (drained) => {
        if (drained) logger.info('stopped');
        else logger.warn('stopped: requests still running at the drain deadline were cut', { drainSeconds: drainMs / 1000 });
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A cluster worker leaves Ctrl-C (SIGINT to the whole process group) to the primary, which
  // sends it SIGTERM; a second Ctrl-C then stops the primary and its workers at once.
  process.on('SIGINT', () => (isClusterWorker() ? undefined : stop('SIGINT')));
  return -1;
}

/**
 * Connection cap and timeouts of `serve` (per process; with --workers N each worker has them):
 * STRATO_MAX_CONNECTIONS, STRATO_HEADERS_TIMEOUT_SECONDS, STRATO_REQUEST_TIMEOUT_SECONDS (0 = none),
 * STRATO_KEEP_ALIVE_TIMEOUT_SECONDS.
 */
/** The per-request budget from STRATO_MAX_CHUNKS, STRATO_MAX_DECODED_MB, STRATO_MAX_REQUEST_SECONDS (checked before anything opens). */
function budgetLimitsOrUsageError(): BudgetLimits {
  try {
    return budgetLimitsFromEnv();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function connectionLimitsFromEnv(): Partial<ConnectionLimits> {
  const seconds = (name: string, fallbackMs: number) => Math.round(secondsFromEnv(name, fallbackMs / 1000) * 1000);
  const capText = process.env.STRATO_MAX_CONNECTIONS;
  const maxConnections = capText === undefined || capText === '' ? CONNECTION_DEFAULTS.maxConnections : Number(capText);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new UsageError(`STRATO_MAX_CONNECTIONS must be a positive integer, got "${capText}"`);
  const headersTimeoutMs = seconds('STRATO_HEADERS_TIMEOUT_SECONDS', CONNECTION_DEFAULTS.headersTimeoutMs);
  if (headersTimeoutMs <= 0) throw new UsageError('STRATO_HEADERS_TIMEOUT_SECONDS must be more than 0');
  return {
    maxConnections,
    headersTimeoutMs,
    requestTimeoutMs: seconds('STRATO_REQUEST_TIMEOUT_SECONDS', CONNECTION_DEFAULTS.requestTimeoutMs),
    keepAliveTimeoutMs: seconds('STRATO_KEEP_ALIVE_TIMEOUT_SECONDS', CONNECTION_DEFAULTS.keepAliveTimeoutMs),
  };
}

/** A positive number of seconds from the environment, or the default. */
function secondsFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`${name} must be a number of seconds, got "${text}"`);
  return seconds;
}

async function staticStac(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      catalog: { type: 'string', default: process.env.STRATO_CATALOG ?? 'catalog.yaml' },
      out: { type: 'string' },
      'base-url': { type: 'string', default: 'http://localhost:8000' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.out) throw new UsageError('stac needs --out DIR');
  if (!/^https?:\/\/\S+$/.test(values['base-url'])) throw new UsageError(`--base-url must be an http(s) URL, got "${values['base-url']}"`);
  const logger = createLogger('warn');
  const result = await writeStaticStac(values.catalog, values.out, values['base-url']);
  for (const { id, problems } of result.problems) logger.warn('extents incomplete', { dataset: id, problems });
  process.stdout.write(`strato stac: ${result.items} items in ${result.collections} collections, ${result.files.length} files in ${values.out}\n`);
  return 0;
}

class UsageError extends Error {}

// the process serves requests: `obj['__proto__'] = v` must never reach a prototype
disableProtoAccessor();
main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const code = (error as { code?: string }).code;
    // a setting read from the environment while starting (STRATO_DECODED_CACHE_MB=abc) says itself what is wrong
    const badSetting = error instanceof RangeError && /^STRATO_[A-Z_]+ /.test(error.message);
    const known =
      badSetting ||
      error instanceof UsageError ||
      error instanceof CatalogError ||
      error instanceof PluginLoadError ||
      error instanceof RouteConflictError ||
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE';
    const message =
      code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL'
        ? `cannot listen: ${(error as Error).message} (choose another --port or --host)`
        : known
          ? (error as Error).message
          : ((error as Error).stack ?? String(error));
    process.stderr.write(`strato: ${message}\n`);
    process.exitCode = known || code === 'EADDRINUSE' ? 2 : 1;
  },
);
