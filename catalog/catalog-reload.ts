import { type Catalog, loadCatalog } from './catalog-file.js';
import type { DatasetRegistry, RegistryLogger } from './registry.js';

export type ReloadResult = { readonly ok: true; readonly catalog: Catalog } | { readonly ok: false; readonly error: Error };

export interface ReloadOptions {
  readonly logger?: RegistryLogger;
}

/**
 * The reloads of one registry, one at a time (each registry owns one: `registry.reloads`): a
 * reload asked for while one runs waits for it, and every call made meanwhile shares that one.
 */
export class ReloadQueue {
  private running: Promise<ReloadResult> | undefined;
  private queued: Promise<ReloadResult> | undefined;

  /** Runs `reload` now, or after the running one; a reload already waiting is shared instead. */
  run(reload: () => Promise<ReloadResult>): Promise<ReloadResult> {
    if (this.queued) return this.queued;
    const start = (): Promise<ReloadResult> => {
      const run = reload().finally(() => {
        if (this.running === run) this.running = undefined;
      });
      this.running = run;
      return run;
    };
    if (!this.running) return start();
    const queued = this.running.then(() => {
      this.queued = undefined;
      return start();
    });
    this.queued = queued;
    return queued;
  }
}

/**
 * Re-reads a registry's catalog file and applies it, one reload at a time per registry (its
 * `reloads` queue holds the state, so nothing is kept at module level).
 *
 * Reloads are serialised and coalesced: a call made while a reload runs waits for one that starts
 * after it (and so reads the file as it is after the call), and calls made meanwhile share that
 * one. Without this an older read could be applied after a newer one (the watcher and the admin
 * API both reload), and a dataset just registered would vanish until the next change.
 *
 * A catalog that fails to load keeps the previous one served; the result says why.
 */
export function reloadCatalog(registry: DatasetRegistry, options: ReloadOptions = {}): Promise<ReloadResult> {
  return registry.reloads.run(() => reloadOnce(registry, options));
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
