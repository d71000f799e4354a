import cluster, { type Worker } from 'node:cluster';
import { ChunkDirectory } from '../server/chunk-directory.js';
import { type ChunkMessage, chunkMessage } from '../server/chunk-peers.js';
import { SERVER_PROCESSES_VARIABLE } from '../server/config.js';
import type { Logger } from '../server/log.js';

/** What a worker tells the primary once it listens. */
interface ListeningMessage {
  readonly strato: 'listening';
  readonly url: string;
  readonly datasets: number;
}

function isListening(message: unknown): message is ListeningMessage {
  return typeof message === 'object' && message !== null && (message as { strato?: unknown }).strato === 'listening';
}

/** In a worker: tells the primary this worker serves `url`. */
export function reportListening(url: string, datasets: number): void {
  process.send?.({ strato: 'listening', url, datasets } satisfies ListeningMessage);
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/**
 * The primary of `strato serve --workers N`: forks N workers that share the listening socket
 * (node:cluster), prints one "listening" line once all are up, routes the workers' messages about
 * processed chunks (server/chunk-directory.ts), replaces a worker that dies
 * (after a short pause, so a crash loop does not spin), and on SIGTERM/SIGINT stops them all:
 * each worker gets SIGTERM and drains its in-flight requests (up to `drainMs`), the primary exits
 * 0 once all have exited. A second signal kills the workers at once and exits 1.
 */
export function runPrimary(workers: number, logger: Logger, drainMs = 10_000): void {
  let stopping = false;
  let announced = false;
  const ready = new Set<number>();
  // which worker holds which processed chunk in memory only (server/chunk-directory.ts)
  const chunks = new ChunkDirectory();
  const sendTo = (id: number, message: ChunkMessage): boolean => {
    const worker = cluster.workers?.[id];
    if (!worker?.isConnected()) return false;
    try {
      // false from send() only means a backlog: the message is still sent
      worker.send(message, undefined, () => undefined);
      return true;
    } catch {
      return false;
    }
  };
  const fork = (): Worker => {
    // each worker sizes its memory caches to its share of the machine (server/config.ts)
    const worker = cluster.fork({ [SERVER_PROCESSES_VARIABLE]: String(workers) });
    worker.on('message', (message: unknown) => {
      const chunk = chunkMessage(message);
      if (chunk) return chunks.route(worker.id, chunk, sendTo);
      if (!isListening(message)) return;
      ready.add(worker.id);
      if (!announced && ready.size >= workers) {
        announced = true;
        process.stdout.write(`strato listening on ${message.url} (${workers} workers, ${message.datasets} datasets)\n`);
      }
    });
    return worker;
  };
  cluster.on('exit', (worker, code, signal) => {
    ready.delete(worker.id);
    chunks.forget(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.warn('worker exited; starting another', { pid: worker.process.pid, code, signal });
    setTimeout(fork, 500).unref();
  });
  const stop = (signal: NodeJS.Signals) => {
    const running = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    if (stopping) {
      logger.warn('second signal: killing workers', { signal });
      for (const worker of running) worker.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down workers: draining in-flight requests', { signal, drainSeconds: drainMs / 1000 });
    if (running.length === 0) process.exit(0);
    for (const worker of running) worker.process.kill('SIGTERM');
    // workers cut what is still running at their deadline; this is the backstop if one hangs
    setTimeout(() => {
      logger.warn('workers did not stop in time; killing them');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, drainMs + 5_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < workers; i++) fork();
}
