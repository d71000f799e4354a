import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JsonValue } from '../kerchunk/reference.js';
import type { StratoPlugin } from './plugin.js';

/** A plugin module named in the catalog cannot be loaded or exports no plugin. */
export class PluginLoadError extends Error {
  override readonly name = 'PluginLoadError';
}

/**
 * The third-party plugins a catalog lists under `plugins:` (module paths relative to the
 * catalog's directory, or package names). Every export that looks like a plugin is loaded.
 */
export async function loadListedPlugins(listed: JsonValue | undefined, catalogDir: string): Promise<StratoPlugin[]> {
  if (listed === undefined || listed === null) return [];
  if (!Array.isArray(listed) || !listed.every((entry) => typeof entry === 'string')) {
    throw new PluginLoadError('"plugins" in the catalog must be a list of module paths or package names');
  }
  const plugins: StratoPlugin[] = [];
  for (const specifier of listed as string[]) {
    const target = specifier.startsWith('.') || isAbsolute(specifier) ? pathToFileURL(resolve(catalogDir, specifier)).href : specifier;
    let module: Record<string, unknown>;
    try {
      module = (await import(target)) as Record<string, unknown>;
    } catch (error) {
      throw new PluginLoadError(`cannot load plugin module "${specifier}": ${(error as Error).message}`);
    }
    const found = Object.values(module).filter(isPlugin);
    if (found.length === 0) throw new PluginLoadError(`plugin module "${specifier}" exports no plugin ({name, version, ...routes or stage})`);
    plugins.push(...found);
  }
  return plugins;
}

function isPlugin(value: unknown): value is StratoPlugin {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<StratoPlugin>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.version === 'string' &&
    (typeof candidate.appRoutes === 'function' || typeof candidate.datasetRoutes === 'function' || typeof candidate.stage === 'object')
  );
}
