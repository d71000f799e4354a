import { randomBytes } from 'node:crypto';
import { link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { type Catalog, type DatasetEntry, loadCatalog } from '../catalog/catalog-file.js';
import { addDataset, type DatasetRecord } from '../catalog/catalog-store.js';
import { checkRegistration, RegistrationError } from '../catalog/validate-registration.js';
import { type CombineInput, combineReferences, type ReferenceSet } from '../kerchunk/combine.js';
import { asciiJson, writeJsonReferences } from '../kerchunk/json-writer.js';
import { writeParquetReferences } from '../kerchunk/parquet-writer.js';
import type { ChunkReference, JsonValue } from '../kerchunk/reference.js';
import { type DimensionChange, harmonizeDimensions } from '../kerchunk/scan/harmonize-dimensions.js';
import { scanFile } from '../kerchunk/scan/index.js';
import type { ReadBudget } from '../kerchunk/sources/read-budget.js';
import { SourceForbiddenError } from '../kerchunk/sources/source-error.js';
import { Sources } from '../kerchunk/sources/sources.js';
import { stratoVersion } from '../server/version.js';
import { regenerateStaticStac } from '../static-stac/regenerate.js';

/**
 * `strato ingest`: NetCDF / HDF5 files (local, or http(s) URLs read by byte ranges) → one
 * reference table → a registered dataset.
 *
 * 1. every file must exist and lie inside the catalog's `sources.allow` (checked before scanning);
 * 2. each file is scanned (local chunk URLs written as absolute paths, which plain fsspec opens
 *    from any working directory; with `relativePaths`, relative to where the table will live: the
 *    JSON file's directory, or the parquet directory itself, as strato resolves them, so a folder
 *    of files and table can be moved together), its unlimited-dimension lengths harmonized;
 *    several files are combined along `concatDim`;
 * 3. the table is written to a staging name beside its target and validated as the admin API
 *    validates a registration (metadata sane, every reference inside `sources.allow`, the table
 *    inside the catalog's directory or an allowed root); a refusal removes it;
 * 4. the table is moved into place and the dataset added to the catalog (atomically, under the
 *    catalog's lock; running replicas reload). If that fails, the previous table is put back.
 *
 * Expected failures are IngestErrors (or the typed errors of the modules called) with messages
 * meant for the user.
 */
export type ReferenceFormat = 'json' | 'parquet';

export interface IngestOptions {
  readonly catalog: string;
  readonly id: string;
  readonly files: readonly string[];
  readonly format: ReferenceFormat;
  readonly concatDim?: string;
  /** Where the table goes (default `refs/<id>.json` / `refs/<id>.parq` beside the catalog). */
  readonly out?: string;
  readonly title?: string;
  readonly description?: string;
  readonly license?: string;
  readonly inlineThreshold: number;
  readonly recordSize: number;
  /**
   * Write local chunk paths relative to the table (movable with its files; strato resolves them
   * against the table, plain fsspec against the working directory) instead of absolute.
   */
  readonly relativePaths?: boolean;
  readonly dryRun: boolean;
  readonly replace: boolean;
  /** Bound on source bytes read at once (default: the process-wide one). */
  readonly readBudget?: ReadBudget;
}

export interface IngestProgress {
  /** A file is about to be scanned (index from 0). */
  scanning(index: number, total: number, file: string): void;
  /** A file was scanned. */
  scanned(index: number, total: number, file: string, result: FileScanSummary): void;
  /** Anything else worth a line (harmonized dimensions, combining, writing, validating). */
  note(message: string): void;
}

export interface FileScanSummary {
  readonly variables: number;
  readonly chunks: number;
  readonly seconds: number;
  readonly changes: readonly DimensionChange[];
}

export interface IngestSummary {
  readonly id: string;
  readonly files: number;
  readonly variables: number;
  readonly chunks: number;
  /** Bytes the chunk references point at (ranges) plus inline bytes. */
  readonly bytes: number;
  /** Seconds spent scanning the files. */
  readonly scanSeconds: number;
  readonly seconds: number;
  /** The table as written in the catalog (relative to the catalog's directory). */
  readonly refs: string;
  readonly format: ReferenceFormat;
  readonly dryRun: boolean;
  readonly created: boolean;
}

export class IngestError extends Error {
  override readonly name = 'IngestError';
}

export async function runIngest(options: IngestOptions, progress: IngestProgress): Promise<IngestSummary> {
  const started = performance.now();
  const catalog = await loadCatalog(options.catalog);
  const existing = catalog.datasets.find((d) => d.id === options.id) ?? catalog.problems.find((p) => p.id === options.id);
  if (existing && !options.replace) throw new IngestError(`dataset "${options.id}" is already in the catalog ${catalog.file} (use --replace to replace it)`);
  const out = resolve(options.out ?? join(catalog.dir, 'refs', `${options.id}.${options.format === 'json' ? 'json' : 'parq'}`));
  const refs = toPosix(relative(catalog.dir, out));
  await checkOutput(out, options, catalog);
  // Relative chunk URLs resolve against the JSON file's directory, or the parquet directory itself.
  const base = options.format === 'json' ? dirname(out) : out;

  const files = options.files.map((file) => (isRemote(file) ? file : resolve(file)));
  const sources = await Sources.create({
    allow: catalog.sources.allow,
    baseDir: catalog.dir,
    ...(catalog.sources.s3Endpoint ? { s3Endpoint: catalog.sources.s3Endpoint } : {}),
    ...(options.readBudget ? { readBudget: options.readBudget } : {}),
  });
  try {
    for (const file of files) await checkInput(file, sources, catalog);

    const inputs: CombineInput[] = [];
    let scanSeconds = 0;
    for (const [index, file] of files.entries()) {
      progress.scanning(index, files.length, file);
      const scanStart = performance.now();
      const url = isRemote(file) ? file : options.relativePaths ? toPosix(relative(base, file)) : toPosix(file);
      const scanned = await scanFile(file, { url, inlineThreshold: options.inlineThreshold });
      const harmonized = harmonizeDimensions(scanned);
      const seconds = (performance.now() - scanStart) / 1000;
      scanSeconds += seconds;
      progress.scanned(index, files.length, file, { variables: countArrays(harmonized.metadata), chunks: scanned.chunks.size, seconds, changes: harmonized.changes });
      inputs.push({ name: file, base, references: { metadata: harmonized.metadata, metadataText: harmonized.metadataText, chunks: scanned.chunks } });
    }

    let references = inputs[0]?.references;
    if (references === undefined) throw new IngestError('no input files');
    if (inputs.length > 1) {
      if (!options.concatDim) throw new IngestError('several files need --concat-dim DIM');
      progress.note(`combining ${inputs.length} files along "${options.concatDim}"`);
      const combined = await combineReferences(inputs, { concatDim: options.concatDim });
      references = { metadata: combined.metadata, metadataText: combined.metadataText, chunks: combined.chunks };
    }

    const summary = {
      id: options.id,
      files: files.length,
      variables: countArrays(references.metadata),
      chunks: references.chunks.size,
      bytes: referencedBytes(references.chunks.values()),
      scanSeconds,
      refs,
      format: options.format,
      dryRun: options.dryRun,
    };
    if (options.dryRun) return { ...summary, created: existing === undefined, seconds: (performance.now() - started) / 1000 };

    await mkdir(dirname(out), { recursive: true });
    const staging = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.staging`);
    progress.note(`writing ${options.format} references to ${out}`);
    try {
      if (options.format === 'json') await writeJsonReferences(staging, references);
      else await writeParquetReferences(staging, withAsciiTexts(references), { recordSize: options.recordSize });
      await validate(options.id, out, staging, sources, catalog);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }

    const created = await install(staging, out, async () => {
      const record: DatasetRecord = {
        id: options.id,
        refs,
        ...(options.title !== undefined ? { title: options.title } : {}),
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.license !== undefined ? { license: options.license } : {}),
        ingest: ingestRecord(options),
      };
      return (await addDataset(catalog.file, record, { replace: options.replace })).created;
    });
    const site = await regenerateStaticStac(catalog.file);
    if (site) progress.note(`static STAC regenerated: ${site.items} items in ${site.out}`);
    return { ...summary, created, seconds: (performance.now() - started) / 1000 };
  } finally {
    await sources.close();
  }
}

/** What the catalog keeps of this run (the ingest activity of the dataset's provenance). */
function ingestRecord(options: IngestOptions): Record<string, JsonValue> {
  return {
    tool: 'strato ingest',
    strato: stratoVersion(),
    time: new Date().toISOString(),
    files: options.files.length,
    format: options.format,
    ...(options.concatDim !== undefined ? { concat_dim: options.concatDim } : {}),
  };
}

/** The target of the table: not another dataset's table; an existing one only with --replace. */
async function checkOutput(out: string, options: IngestOptions, catalog: Catalog): Promise<void> {
  const other = catalog.datasets.find((d) => d.id !== options.id && resolve(d.refsLocation) === out);
  if (other) throw new IngestError(`${out} is the reference table of dataset "${other.id}"; choose another --out`);
  const present = await stat(out).catch(() => undefined);
  if (present && !options.replace) throw new IngestError(`${out} already exists (use --replace to overwrite it, or --out)`);
  if (present && present.isDirectory() !== (options.format === 'parquet')) {
    throw new IngestError(`${out} exists and is ${present.isDirectory() ? 'a directory' : 'a file'}; a ${options.format} table cannot replace it`);
  }
}

/** An input file exists, is a regular file and lies inside `sources.allow`. */
async function checkInput(file: string, sources: Sources, catalog: Catalog): Promise<void> {
  if (isRemote(file)) return checkAllowed(file, sources, catalog);
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IngestError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? 'error'})`}`);
  }
  if (!info.isFile()) throw new IngestError(`${file}: not a regular file`);
  await checkAllowed(file, sources, catalog);
}

/** A file or URL strato may read: inside the catalog's `sources.allow`. */
async function checkAllowed(file: string, sources: Sources, catalog: Catalog): Promise<void> {
  try {
    await sources.check(file, catalog.dir);
  } catch (error) {
    if (error instanceof SourceForbiddenError) {
      throw new IngestError(
        `${file} is outside the catalog's sources.allow (${catalog.sources.allow.join(', ') || 'empty'}): strato would refuse to read it; add its directory to sources.allow in ${catalog.file}`,
      );
    }
    throw error;
  }
}

/** An http(s) URL: scanned by byte ranges and referenced as it is. */
function isRemote(file: string): boolean {
  return /^https?:\/\//i.test(file);
}

/**
 * What the admin API checks before registering (catalog/validate-registration.ts): the table's
 * place inside the catalog's directory or an allowed root, its metadata, every reference. The
 * staged copy is what is opened; messages name `out`.
 */
async function validate(id: string, out: string, staging: string, sources: Sources, catalog: Catalog): Promise<void> {
  const entry: DatasetEntry = { id, refs: out, refsLocation: out, fields: {} };
  try {
    await checkRegistration(entry, { catalogDir: catalog.dir, sources, stagedAt: staging });
  } catch (error) {
    if (!(error instanceof RegistrationError)) throw error;
    const { refusal } = error;
    if (refusal.kind === 'table-outside') throw new IngestError(`the reference table ${out} is outside the catalog's directory and the allowed sources; choose another --out`);
    if (refusal.kind === 'references') throw new IngestError(`refused, nothing registered: ${refusal.error.message.replaceAll(staging, out)}`);
    throw new IngestError(`refused, nothing registered: ${error.message}`);
  }
}

/**
 * Moves the staged table into place and runs `register`; when registering fails, the previous
 * table (if any) is restored and the new one removed.
 */
async function install(staging: string, out: string, register: () => Promise<boolean>): Promise<boolean> {
  const backup = join(dirname(out), `.${basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.previous`);
  const previous = await stat(out).catch(() => undefined);
  if (previous?.isFile()) {
    await link(out, backup); // the file is then replaced by one atomic rename
  } else if (previous) {
    await rename(out, backup); // a parquet directory cannot be renamed over: brief gap
  }
  try {
    await rename(staging, out);
  } catch (error) {
    if (previous?.isDirectory()) await rename(backup, out).catch(() => undefined);
    else if (previous) await rm(backup, { force: true });
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  try {
    const created = await register();
    if (previous) await rm(backup, { recursive: true, force: true });
    return created;
  } catch (error) {
    if (previous?.isFile()) await rename(backup, out).catch(() => undefined);
    else {
      await rm(out, { recursive: true, force: true });
      if (previous) await rename(backup, out).catch(() => undefined);
    }
    throw error;
  }
}

/** Metadata texts with non-ASCII characters escaped, as the JSON writer writes them (Python readers). */
function withAsciiTexts(references: ReferenceSet): ReferenceSet {
  const texts = new Map<string, string>();
  for (const [key, document] of references.metadata) texts.set(key, asciiJson(references.metadataText?.get(key) ?? JSON.stringify(document)));
  return { ...references, metadataText: texts };
}

function countArrays(metadata: ReadonlyMap<string, JsonValue>): number {
  let count = 0;
  for (const key of metadata.keys()) if (key === '.zarray' || key.endsWith('/.zarray')) count++;
  return count;
}

function referencedBytes(references: Iterable<ChunkReference>): number {
  let bytes = 0;
  for (const reference of references) {
    if (reference.kind === 'range') bytes += reference.length;
    else if (reference.kind === 'inline') bytes += reference.data.byteLength;
  }
  return bytes;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
