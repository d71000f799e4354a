import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { openJsonReferences } from '../kerchunk/json-references.js';
import { openParquetReferences } from '../kerchunk/parquet-references.js';
import { ReferenceFormatError, type ReferenceStore } from '../kerchunk/reference.js';
import { SourceForbiddenError } from '../kerchunk/sources/source-error.js';
import type { Sources } from '../kerchunk/sources/sources.js';
import { zarrMetadataProblem } from '../kerchunk/zarr-metadata.js';
import type { DatasetEntry } from './catalog-file.js';

/** One served dataset: its catalog entry and its opened reference table. */
export interface Dataset {
  readonly id: string;
  readonly entry: DatasetEntry;
  readonly references: ReferenceStore;
  /** Directory that relative source paths in the references resolve against. */
  readonly referenceBase: string;
  /** The table's version when it was opened (tableVersion): a table rewritten in place is reopened. */
  readonly tableVersion?: string;
}

/** A dataset that cannot be served; the message says why, naming the offending reference. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

export interface OpenDatasetOptions {
  /** Check every referenced URL against the allow list now (parquet tables read all records). */
  readonly checkAllSources?: boolean;
  /** Bytes of parquet records kept in memory per dataset. */
  readonly referenceCacheBytes?: number;
}

/**
 * Opens a dataset's references and validates them: metadata sane, and references inside the
 * allowed sources (every reference of a JSON table; for parquet tables, all of them when
 * `checkAllSources`, else the first record of each array — reads are checked again anyway).
 */
export async function openDataset(entry: DatasetEntry, sources: Sources, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const version = await tableVersion(entry.refsLocation);
  const references = await openReferences(entry, options);
  try {
    const referenceBase = (await isDirectory(entry.refsLocation)) ? entry.refsLocation : dirname(entry.refsLocation);
    const problem = zarrMetadataProblem(references.metadata);
    if (problem) throw new DatasetError(`dataset "${entry.id}": ${problem}`);
    const checkAll = options.checkAllSources ?? !(await isDirectory(entry.refsLocation));
    await checkSources(entry.id, references, referenceBase, sources, checkAll);
    return { id: entry.id, entry, references, referenceBase, ...(version !== undefined ? { tableVersion: version } : {}) };
  } catch (error) {
    await references.close();
    throw error;
  }
}

async function openReferences(entry: DatasetEntry, options: OpenDatasetOptions): Promise<ReferenceStore> {
  try {
    if (await isDirectory(entry.refsLocation)) {
      return await openParquetReferences(entry.refsLocation, {
        ...(options.referenceCacheBytes ? { cacheBytes: options.referenceCacheBytes } : {}),
      });
    }
    return await openJsonReferences(entry.refsLocation);
  } catch (error) {
    if (error instanceof ReferenceFormatError) throw new DatasetError(`dataset "${entry.id}": ${error.message}`);
    throw error;
  }
}

async function checkSources(id: string, references: ReferenceStore, base: string, sources: Sources, all: boolean): Promise<void> {
  const sampled = new Set<string>();
  try {
    if (all) {
      for await (const url of references.urls()) await sources.check(url, base);
      return;
    }
    for (const key of references.metadata.keys()) {
      if (!key.endsWith('/.zarray')) continue;
      const array = key.slice(0, -'/.zarray'.length);
      const first = await references.chunk(`${array}/${firstChunkName(references, key)}`);
      if (first && first.kind !== 'inline' && !sampled.has(first.url)) {
        sampled.add(first.url);
        await sources.check(first.url, base);
      }
    }
  } catch (error) {
    if (error instanceof SourceForbiddenError) throw new DatasetError(`dataset "${id}": ${error.message}`);
    if (error instanceof ReferenceFormatError) throw new DatasetError(`dataset "${id}": ${error.message}`);
    throw error;
  }
}

function firstChunkName(references: ReferenceStore, zarrayKey: string): string {
  const zarray = references.metadata.get(zarrayKey) as { shape?: unknown[]; dimension_separator?: string } | undefined;
  const rank = Math.max(1, zarray?.shape?.length ?? 1);
  return Array.from({ length: rank }, () => '0').join(zarray?.dimension_separator ?? '.');
}

/**
 * What changes when a reference table is rewritten: inode, size and mtime of a JSON file; of a
 * parquet directory's `.zmetadata` and of the directory itself. Undefined when it cannot be read.
 */
export async function tableVersion(location: string): Promise<string | undefined> {
  if (location === '') return undefined;
  try {
    const info = await stat(location, { bigint: true });
    if (!info.isDirectory()) return `${info.ino}:${info.size}:${info.mtimeNs}`;
    const meta = await stat(join(location, '.zmetadata'), { bigint: true }).catch(() => undefined);
    return `${info.ino}:${info.mtimeNs}:${meta?.ino ?? ''}:${meta?.size ?? ''}:${meta?.mtimeNs ?? ''}`;
  } catch {
    return undefined;
  }
}

async function isDirectory(location: string): Promise<boolean> {
  try {
    return (await stat(location)).isDirectory();
  } catch {
    return false;
  }
}
