import { loadCatalog, type Catalog } from './catalog-file.js';
import type { DatasetRegistry, RegistryLogger } from './registry.js';

/**
 * Re-reads a registry's catalog file and applies it, one reload at a time per registry.
 *
 * Reloads are serialised and coalesced: a call made while a reload runs waits for one that starts
 * after it (and so reads the file as it is after the call), and calls made meanwhile share that
 * one. Without this an older read could be applied after a newer one (the watcher and the admin
 * API both reload), and a dataset just registered would vanish until the next change.
 *
 * A catalog that fails to load keeps the previous one served; the result says why.
 */
export type ReloadResult = { readonly ok: true; readonly catalog: Catalog } | { readonly ok: false; readonly error: Error };

export interface ReloadOptions {
  readonly logger?: RegistryLogger;
}

interface ReloadState {
  running: Promise<ReloadResult> | undefined;
  queued: Promise<ReloadResult> | undefined;
}

const states = new WeakMap<DatasetRegistry, ReloadState>();

export function reloadCatalog(registry: DatasetRegistry, options: ReloadOptions = {}): Promise<ReloadResult> {
  let state = states.get(registry);
  if (!state) {
    state = { running: undefined, queued: undefined };
    states.set(registry, state);
  }
  if (state.queued) return state.queued;
  const current = state;
  const start = (): Promise<ReloadResult> => {
    const run = reloadOnce(registry, options).finally(() => {
      if (current.running === run) current.running = undefined;
    });
    current.running = run;
    return run;
  };
  if (!current.running) return start();
  const queued = current.running.then(() => {
    current.queued = undefined;
    return start();
  });
  current.queued = queued;
  return queued;
}

async function reloadOnce(registry: DatasetRegistry, options: ReloadOptions): Promise<ReloadResult> {
  const file = registry.current.file;
  let catalog: Catalog;
  try {
    catalog = await loadCatalog(file);
  } catch (error) {
    options.logger?.warn('catalog reload failed; the previous catalog stays served', { catalog: file, error: (error as Error).message });
    return { ok: false, error: error as Error };
  }
  try {
    const before = new Set(registry.ids());
    await registry.apply(catalog);
    const after = registry.ids();
    const added = after.filter((id) => !before.has(id));
    const removed = [...before].filter((id) => !after.includes(id));
    if (added.length > 0 || removed.length > 0) options.logger?.info('catalog reloaded', { catalog: file, added, removed, datasets: after.length });
    return { ok: true, catalog };
  } catch (error) {
    options.logger?.warn('catalog reload failed; the previous catalog stays served', { catalog: file, error: (error as Error).message });
    return { ok: false, error: error as Error };
  }
}
