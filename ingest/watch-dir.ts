import { type FSWatcher, watch } from 'node:fs';
import type { Catalog } from '../catalog/catalog-file.js';
import { CatalogError, resolveLocation } from '../catalog/catalog-file.js';
import type { RegistryLogger } from '../catalog/registry.js';
import { DEFAULT_DIR_LIMITS, type DirLimits, findReferenceSets, type ReferenceSetFile } from './reference-dir.js';
import { registerSets } from './register-sets.js';

/**
 * `catalog: {watch_dir: DIR}` in the catalog file: strato serve keeps the catalog in step with a
 * directory of reference sets, as cloudify's DynamicKerchunk does. A set copied in is registered
 * (validated as `strato ingest --from-dir` validates it), a set removed is dropped from the
 * catalog; the catalog watcher (catalog-watch.ts) then applies the catalog as for any other edit.
 *
 * Triggers: fs.watch on DIR (recursive), debounced; and a rescan every `rescanMs` as a fallback for
 * file systems without events. A set that does not validate (a JSON file still being written does
 * not parse) is retried on every rescan while it changes or until `retries` failures of the same
 * version; then it is logged once and left out until it changes again. Sets are registered
 * without validating them again while their size and mtime stay the same.
 */
export interface WatchDirSettings {
  /** Absolute path of the watched directory. */
  readonly dir: string;
}

/** The `catalog:` block of a catalog file (settings of the catalog itself); undefined when absent. */
export function watchDirSettings(catalog: Catalog): WatchDirSettings | undefined {
  const block = catalog.fields.catalog;
  if (block === undefined || block === null) return undefined;
  const problem = `catalog ${catalog.file}: "catalog" must be {watch_dir: DIRECTORY}`;
  if (typeof block !== 'object' || Array.isArray(block)) throw new CatalogError(problem);
  const unknown = Object.keys(block).filter((key) => key !== 'watch_dir');
  if (unknown.length > 0) throw new CatalogError(`${problem}; unknown key(s) ${unknown.map((key) => JSON.stringify(key.slice(0, 64))).join(', ')}`);
  const dir = block.watch_dir;
  if (dir === undefined || dir === null) return undefined;
  if (typeof dir !== 'string' || dir.length === 0 || /^[a-z][a-z0-9+.-]*:\/\//i.test(dir)) throw new CatalogError(problem);
  return { dir: resolveLocation(dir, catalog.dir) };
}

export interface WatchDirOptions {
  readonly logger?: RegistryLogger;
  readonly debounceMs?: number;
  readonly rescanMs?: number;
  /** Failed validations of one version of a set before it is reported (default 5). */
  readonly retries?: number;
  readonly limits?: DirLimits;
  /**
   * Re-applies the catalog (serve: reloadCatalog of its registry), called when a registered set
   * was rewritten in place: the catalog file does not change, the table does.
   */
  readonly reload?: () => Promise<unknown>;
  /** Called after every pass that wrote the catalog or skipped something (tests). */
  readonly onSync?: (result: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly updated: readonly string[] }) => void;
}

export interface DirWatcher {
  close(): Promise<void>;
}

export function watchReferenceDir(catalogFile: string, settings: WatchDirSettings, options: WatchDirOptions = {}): DirWatcher {
  const debounceMs = options.debounceMs ?? 100;
  const rescanMs = options.rescanMs ?? 1000;
  const retries = options.retries ?? 5;
  const limits = options.limits ?? { ...DEFAULT_DIR_LIMITS, maxSets: 10_000 };
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let lastScan = '';
  let unreadable: string | undefined;
  /** path → signature of the version registered (validated) last. */
  const good = new Map<string, string>();
  /** path → signature and failures of a version that did not validate. */
  const failing = new Map<string, { signature: string; failures: number; reported: boolean }>();

  const pass = async (force: boolean): Promise<void> => {
    let found: { sets: ReferenceSetFile[] };
    try {
      found = await findReferenceSets(settings.dir, limits);
    } catch (error) {
      const message = (error as Error).message;
      if (message !== unreadable) options.logger?.warn('watched reference directory cannot be read', { dir: settings.dir, error: message });
      unreadable = message; // logged once, not on every rescan
      return;
    }
    unreadable = undefined;
    const scan = found.sets.map((set) => `${set.path}\0${set.signature}`).join('\n');
    const retrying = [...failing.values()].some((f) => f.failures < retries);
    if (!force && scan === lastScan && !retrying) return;
    lastScan = scan;
    // a version that failed `retries` times is left out until it changes
    const candidates = found.sets.filter((set) => {
      const failed = failing.get(set.path);
      return !(failed && failed.signature === set.signature && failed.failures >= retries);
    });
    const signatures = new Map(found.sets.map((set) => [set.path, set.signature]));
    const report = await registerSets({
      catalog: catalogFile,
      candidates: candidates.map((set) => ({ id: set.id, table: set.path })),
      removeWithin: settings.dir,
      trusted: (candidate) => good.get(candidate.table) === signatures.get(candidate.table),
      ingest: { tool: 'strato serve (catalog.watch_dir)', from: settings.dir },
    });
    const byId = new Map(candidates.map((set) => [set.id, set]));
    const skippedIds = new Set(report.skipped.map((entry) => entry.id));
    let rewritten = false;
    for (const set of candidates) {
      if (skippedIds.has(set.id)) continue;
      const before = good.get(set.path);
      if (before !== undefined && before !== set.signature) rewritten = true;
      good.set(set.path, set.signature);
      failing.delete(set.path);
    }
    for (const entry of report.skipped) {
      const set = byId.get(entry.id);
      if (!set) continue;
      good.delete(set.path);
      const previous = failing.get(set.path);
      const state = previous && previous.signature === set.signature ? previous : { signature: set.signature, failures: 0, reported: false };
      state.failures++;
      failing.set(set.path, state);
      if (state.failures >= retries && !state.reported) {
        state.reported = true;
        options.logger?.warn('reference set not registered', { dir: settings.dir, id: entry.id, reason: entry.reason });
      }
    }
    for (const path of [...good.keys(), ...failing.keys()]) {
      if (!signatures.has(path)) {
        good.delete(path);
        failing.delete(path);
      }
    }
    if (report.added.length + report.updated.length + report.removed.length > 0) {
      options.logger?.info('watched reference directory applied', { dir: settings.dir, added: report.added, updated: report.updated, removed: report.removed });
    }
    if (rewritten && !report.written) await options.reload?.();
    options.onSync?.(report);
  };

  const run = (force: boolean) => {
    timer = undefined;
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = pass(force)
      .catch((error: unknown) => options.logger?.warn('watched reference directory: pass failed', { dir: settings.dir, error: (error as Error).message }))
      .finally(() => {
        running = undefined;
        if (again && !closed) {
          again = false;
          schedule();
        }
      });
  };
  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => run(true), debounceMs);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(settings.dir, { persistent: false, recursive: true }, () => schedule());
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch (error) {
    options.logger?.warn('cannot watch the reference directory; rescanning only', { dir: settings.dir, error: (error as Error).message });
  }
  const poller = setInterval(() => {
    if (!timer && !running) run(false);
  }, rescanMs);
  poller.unref();
  schedule();

  return {
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(poller);
      watcher?.close();
      await running;
    },
  };
}
