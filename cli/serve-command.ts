import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ClusterChunkPeers } from '../server/chunk-peers.js';
import type { StratoConfig } from '../server/config.js';
import { createLogger, isLogLevel } from '../server/log.js';
import { startServer } from '../server/serve.js';
import { isClusterWorker, reportListening, runPrimary } from './cluster.js';
import { HELP, UsageError } from './help.js';

/**
 * `strato serve ARGS`: the command line over `config` (read once from the environment), then one
 * server process, or the primary of `--workers N`. Resolves to -1 while serving (the process
 * exits on a signal), 0 after `--help`.
 */
export async function serve(args: string[], config: StratoConfig): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      catalog: { type: 'string', default: config.catalog },
      port: { type: 'string', default: String(config.port) },
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
    runPrimary(workers, logger, config.drainMs);
    return -1;
  }
  const drainMs = config.drainMs;
  // with several server processes, each gets its share of the cores for its codec threads
  const codecThreads = Math.max(1, Math.floor(availableParallelism() / workers));
  // workers write a processed chunk to the shared disk tier when another one asks for it
  const chunkPeers = isClusterWorker() ? new ClusterChunkPeers() : undefined;
  const server = await startServer({ catalog: values.catalog, port, host: values.host, logger, config, codecThreads, chunkPeers });
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
