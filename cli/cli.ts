#!/usr/bin/env node
import { CatalogError } from '../catalog/catalog-file.js';
import { ingest } from '../ingest/ingest-command.js';
import { RouteConflictError } from '../server/app.js';
import { ConfigError, readConfig } from '../server/config.js';
import { disableProtoAccessor } from '../server/harden-process.js';
import { PluginLoadError } from '../server/plugin-loader.js';
import { stratoVersion } from '../server/version.js';
import { HELP, UsageError } from './help.js';
import { serve } from './serve-command.js';
import { staticStac } from './stac-command.js';

/**
 * The `strato` command: `serve` (serve-command.ts), `stac` (stac-command.ts), `ingest`
 * (ingest/ingest-command.ts). The settings from the environment are read once, here
 * (server/config.ts), and passed down.
 */
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
  if (command !== 'serve' && command !== 'stac' && command !== 'ingest') {
    process.stderr.write(`strato: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  // checked before anything opens: a bad setting stops start-up with one line
  const config = readConfig(process.env);
  if (command === 'serve') return serve(rest, config);
  if (command === 'stac') return staticStac(rest, config);
  return ingest(rest, undefined, config);
}

// the process serves requests: `obj['__proto__'] = v` must never reach a prototype
disableProtoAccessor();
main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const code = (error as { code?: string }).code;
    const known =
      error instanceof ConfigError ||
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
