import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { datasetIdProblem } from '../catalog/catalog-file.js';
import type { SkippedEntry } from './intake-catalog.js';

/**
 * The reference sets in a directory, as cloudify's DynamicKerchunk finds them: every `*.json`
 * file (a kerchunk table) and every fsspec parquet directory (one with `.zmetadata` and
 * `refs.*.parq` files below it; it is not walked further). The dataset id is the relative path
 * without its extension, `/` replaced by `.` (`a/b/c.json` → `a.b.c`, `a/d.parq/` → `a.d`).
 *
 * Names starting with `.` are passed over (staging files, `.zmetadata` itself). A symlink whose
 * target leaves the directory is skipped (and said so); symlinked directories are not walked.
 * Bounded: depth, directory entries looked at, sets found.
 */
export interface ReferenceSetFile {
  readonly id: string;
  /** Absolute path of the JSON file or parquet directory, inside the directory scanned. */
  readonly path: string;
  readonly format: 'json' | 'parquet';
  /** Changes when the set is rewritten (size and mtime of the file, or of `.zmetadata` and the directory). */
  readonly signature: string;
}

export interface DirLimits {
  readonly maxDepth: number;
  readonly maxEntries: number;
  readonly maxSets: number;
}

export const DEFAULT_DIR_LIMITS: DirLimits = { maxDepth: 16, maxEntries: 1_000_000, maxSets: 100_000 };

export class ReferenceDirError extends Error {
  override readonly name = 'ReferenceDirError';
}

export async function findReferenceSets(dir: string, limits: DirLimits = DEFAULT_DIR_LIMITS): Promise<{ sets: ReferenceSetFile[]; skipped: SkippedEntry[] }> {
  const root = resolve(dir);
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    if (!(await stat(realRoot)).isDirectory()) throw new ReferenceDirError(`${root} is not a directory`);
  } catch (error) {
    if (error instanceof ReferenceDirError) throw error;
    throw new ReferenceDirError(`cannot read the reference directory ${root} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const state = { sets: [] as ReferenceSetFile[], skipped: [] as SkippedEntry[], entries: 0, full: false };
  await walk(root, root, realRoot, 0, limits, state);
  state.sets.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { sets: state.sets, skipped: state.skipped };
}

interface WalkState {
  readonly sets: ReferenceSetFile[];
  readonly skipped: SkippedEntry[];
  entries: number;
  full: boolean;
}

async function walk(root: string, dir: string, realRoot: string, depth: number, limits: DirLimits, state: WalkState): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // removed while we walk, or unreadable: nothing there to register
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (state.full) return;
    if (entry.name.startsWith('.')) continue;
    if (++state.entries > limits.maxEntries) {
      state.full = true;
      state.skipped.push({ id: idOf(root, join(dir, entry.name)), reason: `more than ${limits.maxEntries} directory entries: the rest is not looked at`, kind: 'failed' });
      return;
    }
    const path = join(dir, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await realpath(path).catch(() => undefined);
      if (target === undefined) continue; // dangling: nothing to register
      if (target !== realRoot && !target.startsWith(`${realRoot}${sep}`)) {
        if (looksLikeSet(entry.name)) state.skipped.push({ id: idOf(root, path), reason: 'a symlink that leaves the reference directory: not registered', kind: 'failed' });
        continue;
      }
      const info = await stat(target).catch(() => undefined);
      isFile = info?.isFile() ?? false;
      isDirectory = info?.isDirectory() ?? false;
      if (isDirectory && !(await isParquetSet(path))) continue; // symlinked directories are not walked
    }
    if (isFile && entry.name.endsWith('.json')) {
      await found(root, path, 'json', limits, state);
    } else if (isDirectory) {
      if (await isParquetSet(path)) await found(root, path, 'parquet', limits, state);
      else if (depth + 1 < limits.maxDepth) await walk(root, path, realRoot, depth + 1, limits, state);
    }
  }
}

async function found(root: string, path: string, format: 'json' | 'parquet', limits: DirLimits, state: WalkState): Promise<void> {
  const id = idOf(root, path);
  const problem = datasetIdProblem(id);
  if (problem) {
    state.skipped.push({ id, reason: problem, kind: 'failed' });
    return;
  }
  if (state.sets.length >= limits.maxSets) {
    state.full = true;
    state.skipped.push({ id, reason: `more than ${limits.maxSets} reference sets: this one and the rest are not registered`, kind: 'failed' });
    return;
  }
  const signature = await signatureOf(path, format);
  if (signature === undefined) return; // gone meanwhile
  state.sets.push({ id, path, format, signature });
}

/** `a/b/c.json` → `a.b.c`; `a/d.parq` → `a.d`. */
function idOf(root: string, path: string): string {
  const rel = relative(root, path).split(sep).join('/');
  return rel.replace(/\.(json|parq|parquet)$/, '').replaceAll('/', '.');
}

function looksLikeSet(name: string): boolean {
  return name.endsWith('.json') || !name.includes('.') || /\.(parq|parquet)$/.test(name);
}

/** A directory with `.zmetadata` and at least one `refs.N.parq` in a folder below it. */
async function isParquetSet(dir: string): Promise<boolean> {
  const meta = await stat(join(dir, '.zmetadata')).catch(() => undefined);
  if (!meta?.isFile()) return false;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
  for (const entry of entries.slice(0, 10_000)) {
    if (!entry.isDirectory()) continue;
    const files = await readdir(join(dir, entry.name)).catch(() => [] as string[]);
    if (files.some((name) => /^refs\.\d+\.parq$/.test(name))) return true;
  }
  return false;
}

async function signatureOf(path: string, format: 'json' | 'parquet'): Promise<string | undefined> {
  try {
    if (format === 'json') {
      const info = await stat(path, { bigint: true });
      return `${info.ino}:${info.size}:${info.mtimeNs}`;
    }
    const [meta, dir] = await Promise.all([stat(join(path, '.zmetadata'), { bigint: true }), stat(path, { bigint: true })]);
    return `${meta.ino}:${meta.size}:${meta.mtimeNs}:${dir.ino}:${dir.mtimeNs}`;
  } catch {
    return undefined;
  }
}
