import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { catalogFileHash } from './catalog-file.js';
import { type ReloadResult, reloadCatalog } from './catalog-reload.js';
import type { DatasetRegistry, RegistryLogger } from './registry.js';

/**
 * Keeps a registry in step with its catalog file, which other processes (replicas, `strato
 * ingest`, an editor) replace at any time.
 *
 * Two triggers, both debounced into one reload: `fs.watch` on the catalog's directory (a watch on
 * the file itself would follow the old inode after an atomic rename), filtered to the catalog's
 * name; and a cheap poll of the file's inode, size, mtime and ctime for file systems where
 * fs.watch says nothing (network mounts, some containers). A catalog that fails to parse keeps
 * the previous one served and is logged (see catalog-reload.ts).
 *
 * At the start, the file is compared with the catalog the registry serves (`Catalog.textHash`):
 * changed between the registry's opening and the watch, it is reloaded at once; unchanged, it is
 * not parsed again (at 10,000 datasets a parse holds up the first requests for seconds). The
 * directory is watched before that comparison, and the poll starts from the file's state taken
 * before it, so a change made at any moment is applied.
 */
export interface CatalogWatchOptions {
  readonly logger?: RegistryLogger;
  /** Quiet time after the last change before reloading (default 50 ms). */
  readonly debounceMs?: number;
  /** Interval of the stat poll (default 500 ms; 0 = no poll). */
  readonly pollMs?: number;
  /** Use fs.watch (default true; false = poll only, as on file systems without change events). */
  readonly fsWatch?: boolean;
  /** Called after every reload (tests, metrics). */
  readonly onReload?: (result: ReloadResult) => void;
  /** Called once the start's comparison is done: whether the file had changed (and was reloaded). */
  readonly onStart?: (reloaded: boolean) => void;
}

export interface CatalogWatcher {
  /** Stops watching; waits for a reload in progress. */
  close(): Promise<void>;
}

const DEFAULT_DEBOUNCE_MS = 50;
const DEFAULT_POLL_MS = 500;

export function watchCatalog(registry: DatasetRegistry, options: CatalogWatchOptions = {}): CatalogWatcher {
  const file = registry.current.file;
  const name = basename(file);
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();
  let lastSignature: string | undefined;

  const reload = () => {
    timer = undefined;
    if (closed) return;
    const run = (async () => {
      lastSignature = await signature(file);
      const result = await reloadCatalog(registry, options.logger ? { logger: options.logger } : {});
      options.onReload?.(result);
    })();
    inFlight = run.catch((error: unknown) => options.logger?.warn('catalog watch failed', { catalog: file, error: String(error) }));
  };
  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  };

  let watcher: FSWatcher | undefined;
  if (options.fsWatch !== false) {
    try {
      watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed.toString() === name) schedule();
      });
      watcher.on('error', (error) => {
        options.logger?.warn('catalog directory watch failed; polling only', { catalog: file, error: error.message });
        watcher?.close();
        watcher = undefined;
      });
    } catch (error) {
      options.logger?.warn('cannot watch the catalog directory; polling only', { catalog: file, error: (error as Error).message });
    }
  }

  let poller: NodeJS.Timeout | undefined;
  let polling = false;
  const startPolling = () => {
    if (pollMs <= 0 || closed) return;
    poller = setInterval(() => {
      if (polling || closed) return;
      polling = true;
      signature(file)
        .then((now) => {
          if (now !== lastSignature && timer === undefined) schedule();
        })
        .finally(() => (polling = false));
    }, pollMs);
    poller.unref();
  };

  // The file may have changed between loading it and now (the watch only tells what comes
  // next): its state is taken first, then its text compared with what the registry serves.
  const loadedHash = registry.current.textHash;
  const started = (async () => {
    const before = await signature(file);
    const unchanged = loadedHash !== undefined && (await catalogFileHash(file)) === loadedHash;
    if (closed) return;
    if (unchanged) lastSignature ??= before;
    else {
      // one reload now reads the file as it is (a change the watch saw meanwhile included)
      if (timer) clearTimeout(timer);
      reload();
      await inFlight;
    }
    startPolling();
    options.onStart?.(!unchanged);
  })();
  const starting = started.catch((error: unknown) => options.logger?.warn('catalog watch failed', { catalog: file, error: String(error) }));

  return {
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      if (poller) clearInterval(poller);
      watcher?.close();
      await starting;
      await inFlight;
    },
  };
}

/** What changes when the file is replaced or edited: inode, size, mtime, ctime ('' when missing). */
async function signature(file: string): Promise<string> {
  try {
    const stats = await stat(file, { bigint: true });
    return `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
  } catch {
    return '';
  }
}
