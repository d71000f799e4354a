#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CatalogError } from '../catalog/catalog-file.js';
import { createLogger, isLogLevel } from './log.js';
import { startServer } from './serve.js';
import { stratoVersion } from './version.js';

const HELP = `strato ${stratoVersion()} — kerchunk references served as cloud-native Zarr

Usage:
  strato serve [--catalog catalog.yaml] [--port 8000] [--host 127.0.0.1] [--log-level info]
  strato --help | --version

serve     Serve every dataset of the catalog over HTTP (xpublish-compatible routes):
            /datasets                          dataset ids
            /datasets/{id}/                    HTML view; /keys, /dict, /info as JSON
            /datasets/{id}/kerchunk/{key}      raw Zarr v2 view (.zmetadata, v/.zarray, v/0.0.0)
            /versions, /plugins, /health
          --catalog    catalog file (default: $STRATO_CATALOG or ./catalog.yaml)
          --port       TCP port, 0 for any free port (default: $PORT or 8000)
          --host       address to bind (default: 127.0.0.1)
          --log-level  debug | info | warn | error | silent (default: info)
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
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got "${values.port}"`);
  const level = values['log-level'];
  if (!isLogLevel(level)) throw new UsageError(`--log-level must be debug, info, warn, error or silent, got "${level}"`);
  const logger = createLogger(level);
  const server = await startServer({ catalog: values.catalog, port, host: values.host, logger });
  process.stdout.write(`strato listening on ${server.url} (${server.registry.ids().length} datasets)\n`);
  const stop = (signal: string) => {
    logger.info('shutting down', { signal });
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return -1;
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof UsageError || error instanceof CatalogError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    process.stderr.write(`strato: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
    process.exitCode = known ? 2 : 1;
  },
);
