import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers of strato, checked on the import graph of the source files (no server: the files
 * are read and their import/export-from lines matched; test files, test/, bench/, scripts/,
 * node_modules and dist are not looked at).
 *
 * From the bottom up:
 *
 * - `kerchunk/`: reference tables, Zarr keys and metadata, codecs, sources, array values. It
 *   imports none of `catalog/`, `server/`, `views/`, `plugins/` (nor `static-stac/`).
 * - `catalog/`: the catalog file, its datasets and their reloads, on top of kerchunk/. It imports
 *   none of `server/`, `views/`, `plugins/` (nor `static-stac/`).
 * - `views/`: the raw and processed Zarr views of a dataset (DatasetViews), on top of kerchunk/
 *   and catalog/. Of `server/` it may use only the HTTP helpers (`server/http/**`: served
 *   bodies, ETags, problems, store routes) and the contracts `server/stage.ts` (processing
 *   stages) and `server/plugin.ts`; never `plugins/` (nor `static-stac/`).
 * - `cf/` (the CF conventions: calendars, time units, axes, packing) and `stac-model/` (STAC
 *   Items, Collections and catalog documents, used by the STAC API plugin and the static tree):
 *   on top of kerchunk/ and catalog/; never `server/`, `views/`, `static-stac/` (rule f).
 * - `auth/` (OpenID Connect tokens, principals, access decisions): on top of catalog/ only (its
 *   settings types); never `server/`, `views/`, `plugins/` or anything else (rule i).
 * - `server/`, `cf/`, `stac-model/`, `static-stac/`, `ingest/` and the rest of the core: never
 *   `plugins/`, except the one place that names the plugins: `server/default-plugins.ts` (the
 *   default set). The CLI (`cli/`) is above the core and reaches the plugins only through
 *   `server/default-plugins.ts` (rule g).
 * - `ingest/` (`strato ingest`: scan, combine, write, register) runs no server: it never imports
 *   `plugins/`, `views/` or `server/app.ts` (rule h).
 * - `provenance/` (W3C PROV documents) and `processes/` (OGC API – Processes jobs) are core:
 *   never `plugins/`; provenance/ never `server/`, `views/` or `processes/` (rule j).
 * - `plugins/<name>/`: each plugin may use the whole core, but never another plugin's folder.
 *   What two plugins share belongs in the core (views/, server/http/, server/html/, cf/, ...).
 *
 * KNOWN_UNTIL_MOVED would list violations being moved away; it is empty and only shrinks.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Folders whose files are not checked (dependencies, outputs, tests and tools). */
const SKIPPED = /^(node_modules|dist|\.git|\.tmp|test|bench|scripts|demo)$/;

/** The core folders: none of them may import plugins/ (rule e). */
const CORE = ['kerchunk', 'catalog', 'auth', 'views', 'server', 'cf', 'stac-model', 'static-stac', 'ingest', 'provenance', 'processes', 'derive'];

/** Core files that assemble the plugins and may therefore import them. */
const MAY_NAME_PLUGINS = new Set(['server/default-plugins.ts']);

/**
 * Imports that break a rule today and are being removed; each entry allows imports from files
 * starting with `from` of files starting with `to`. Empty: the dataset page's import of the plots
 * plugin went when axis detection moved to cf/axes.ts, the static tree's imports of the STAC
 * plugin when the STAC model moved to stac-model/.
 */
const KNOWN_UNTIL_MOVED: ReadonlyArray<{ readonly from: string; readonly to: string; readonly why: string }> = [];

interface Import {
  /** Importing file, relative to the root with '/' separators. */
  readonly from: string;
  /** Imported file, the same way ('.js' specifiers name the '.ts' source). */
  readonly to: string;
}

/** The .ts files checked (no tests), relative to the root. */
function sourceFiles(dir = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED.test(entry.name) && !entry.name.startsWith('.')) files.push(...sourceFiles(path));
    } else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
      files.push(path);
    }
  }
  return files;
}

/** `import ... from '...'` and `export ... from '...'` (also over several lines), `import '...'`, `import('...')`. */
const SPECIFIERS = [/^\s*(?:import|export)\b[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];

/** The relative imports of a file, resolved to root-relative paths. */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: Import[] = [];
  for (const pattern of SPECIFIERS) {
    for (const match of text.matchAll(pattern)) {
      const specifier = match[1] as string;
      if (!specifier.startsWith('.')) continue; // packages and node: builtins
      const target = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
      found.push({ from: file, to: target });
    }
  }
  return found;
}

const top = (path: string): string => path.split('/')[0] as string;

/** `plugins/<name>` of a path under plugins/, else undefined. */
function pluginOf(path: string): string | undefined {
  const parts = path.split('/');
  return parts[0] === 'plugins' && parts.length > 2 ? (parts[1] as string) : undefined;
}

const known = (edge: Import): boolean => KNOWN_UNTIL_MOVED.some((k) => edge.from.startsWith(k.from) && edge.to.startsWith(k.to));

/** The rule an import breaks, or undefined. */
function violation(edge: Import): string | undefined {
  const from = top(edge.from);
  const to = top(edge.to);
  const fromPlugin = pluginOf(edge.from);
  const toPlugin = pluginOf(edge.to);
  if (fromPlugin && toPlugin && fromPlugin !== toPlugin) return `(a) plugin "${fromPlugin}" imports plugin "${toPlugin}"`;
  if (from === 'auth' && !['auth', 'catalog'].includes(to)) return `(i) auth/ imports ${to}/ (it may use catalog/ only)`;
  if (from === 'kerchunk' && ['catalog', 'auth', 'server', 'views', 'plugins', 'static-stac'].includes(to)) return `(b) kerchunk/ imports ${to}/`;
  if (from === 'catalog' && ['auth', 'server', 'views', 'plugins', 'static-stac'].includes(to)) return `(c) catalog/ imports ${to}/`;
  if (from === 'views') {
    if (to === 'plugins' || to === 'static-stac') return `(d) views/ imports ${to}/`;
    if (to === 'server' && !edge.to.startsWith('server/http/') && edge.to !== 'server/stage.ts' && edge.to !== 'server/plugin.ts') {
      return '(d) views/ imports server/ beyond server/http/, server/stage.ts and server/plugin.ts';
    }
  }
  if (CORE.includes(from) && to === 'plugins' && !MAY_NAME_PLUGINS.has(edge.from)) return `(e) core folder ${from}/ imports plugins/`;
  if ((from === 'cf' || from === 'stac-model') && ['server', 'views', 'static-stac'].includes(to)) return `(f) ${from}/ imports ${to}/`;
  if (from === 'derive' && ['server', 'views', 'plugins', 'static-stac'].includes(to)) return `(k) derive/ imports ${to}/`;
  if (from === 'provenance' && ['server', 'views', 'static-stac', 'processes'].includes(to)) return `(j) provenance/ imports ${to}/`;
  if (from === 'cli' && to === 'plugins') return '(g) cli/ imports plugins/ (it names them through server/default-plugins.ts)';
  if (from === 'ingest' && (to === 'plugins' || to === 'views' || edge.to === 'server/app.ts')) return `(h) ingest/ imports ${to === 'server' ? 'server/app.ts' : `${to}/`}`;
  return undefined;
}

describe('layers', () => {
  const files = sourceFiles();
  const edges = files.flatMap(importsOf);

  it('finds the source files and their imports', () => {
    // guards the scan itself: an empty graph would pass every rule
    expect(files).toContain('views/dataset-views.ts');
    expect(files).toContain('server/app.ts');
    expect(files).toContain('cli/cli.ts');
    expect(files).toContain('ingest/run-ingest.ts');
    expect(files.some((f) => f.endsWith('.test.ts'))).toBe(false);
    expect(edges).toContainEqual({ from: 'server/app.ts', to: 'views/dataset-views.ts' });
    expect(edges).toContainEqual({ from: 'server/default-plugins.ts', to: 'plugins/zarr/index.ts' });
  });

  it('every import stays within the layer rules (see the doc comment)', () => {
    const broken = edges
      .filter((edge) => !known(edge))
      .flatMap((edge) => {
        const rule = violation(edge);
        return rule ? [`${edge.from} -> ${edge.to}: ${rule}`] : [];
      });
    expect(broken).toEqual([]);
  });

  it('the rules catch what they are meant to', () => {
    expect(violation({ from: 'plugins/zarr/index.ts', to: 'plugins/kerchunk/raw-view.ts' })).toMatch(/^\(a\)/);
    expect(violation({ from: 'kerchunk/array-reader.ts', to: 'catalog/dataset.ts' })).toMatch(/^\(b\)/);
    expect(violation({ from: 'catalog/registry.ts', to: 'server/log.ts' })).toMatch(/^\(c\)/);
    expect(violation({ from: 'views/raw-view.ts', to: 'server/log.ts' })).toMatch(/^\(d\)/);
    expect(violation({ from: 'views/raw-view.ts', to: 'server/http/etag.ts' })).toBeUndefined();
    expect(violation({ from: 'server/serve.ts', to: 'plugins/admin/index.ts' })).toMatch(/^\(e\)/);
    expect(violation({ from: 'server/default-plugins.ts', to: 'plugins/admin/index.ts' })).toBeUndefined();
    expect(violation({ from: 'plugins/zarr/index.ts', to: 'views/dataset-views.ts' })).toBeUndefined();
    expect(violation({ from: 'cli/cli.ts', to: 'plugins/admin/index.ts' })).toMatch(/^\(g\)/);
    expect(violation({ from: 'cli/serve-command.ts', to: 'server/serve.ts' })).toBeUndefined();
    expect(violation({ from: 'ingest/run-ingest.ts', to: 'plugins/admin/validate-registration.ts' })).toMatch(/^\((e|h)\)/);
    expect(violation({ from: 'ingest/run-ingest.ts', to: 'server/app.ts' })).toMatch(/^\(h\)/);
    expect(violation({ from: 'ingest/run-ingest.ts', to: 'views/raw-view.ts' })).toMatch(/^\(h\)/);
    expect(violation({ from: 'ingest/run-ingest.ts', to: 'catalog/catalog-store.ts' })).toBeUndefined();
    expect(violation({ from: 'auth/decide.ts', to: 'server/http/problem.ts' })).toMatch(/^\(i\)/);
    expect(violation({ from: 'auth/decide.ts', to: 'catalog/auth-settings.ts' })).toBeUndefined();
    expect(violation({ from: 'catalog/catalog-file.ts', to: 'auth/decide.ts' })).toMatch(/^\(c\)/);
  });
});
