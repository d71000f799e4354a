import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { CatalogError, datasetIdProblem } from '../catalog/catalog-file.js';
import { DatasetExistsError, FileLockError } from '../catalog/catalog-store.js';
import { DatasetError } from '../catalog/dataset.js';
import { CombineError } from '../kerchunk/combine.js';
import { ReferenceFormatError } from '../kerchunk/reference.js';
import { ReadBudget } from '../kerchunk/sources/read-budget.js';
import { SourceError, SourceForbiddenError } from '../kerchunk/sources/source-error.js';
import { SourcesConfigError } from '../kerchunk/sources/sources.js';
import type { StratoConfig } from '../server/config.js';
import { bulkIngest } from './bulk-command.js';
import { type FileScanSummary, IngestError, type IngestOptions, type IngestProgress, type IngestSummary, type ReferenceFormat, runIngest } from './run-ingest.js';
import { UsageError, usageFailure } from './usage.js';

export const INGEST_HELP = `Usage:
  strato ingest --catalog catalog.yaml --id ID [--format json|parquet] [--concat-dim DIM] FILES...

Scans NetCDF-4 / HDF5 / NetCDF-3 files into kerchunk references (combined along --concat-dim
when there are several), writes them beside the catalog, checks them against sources.allow and
registers the dataset in the catalog (atomically; running servers reload it).

  --catalog           catalog file (required; its sources.allow must cover the files)
  --id                dataset id, [A-Za-z0-9][A-Za-z0-9._-]* (required)
  --format            json (fsspec JSON v1, default) or parquet (fsspec parquet directory)
  --concat-dim        dimension to concatenate several files along (required for several files)
  --out               where the references go (default: refs/<id>.json or refs/<id>.parq beside the catalog)
  --title, --description, --license   catalog fields of the dataset
  --inline-threshold  chunks smaller than this many bytes are stored in the table (default 500)
  --record-size       rows per parquet record file (default 100000)
  --relative-paths    write local file paths relative to the table (a folder of files and table
                      can then move together; plain fsspec resolves them against its working
                      directory) instead of absolute paths (the default: opens from anywhere)
  --dry-run           scan and report; write nothing
  --replace           replace an existing dataset of the same id (and its table)

  strato ingest --catalog catalog.yaml --from-intake CATALOG|URL   (see --from-intake --help)
  strato ingest --catalog catalog.yaml --from-dir DIR              registers existing reference sets
`;

export interface IngestIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/**
 * `strato ingest ARGS`: exit code 0 done, 1 failed, 2 usage error. Expected errors print one line, no stack.
 * `config.readBudget` (STRATO_MAX_READ_MB, STRATO_READ_WAIT_SECONDS) bounds the source bytes read at once.
 */
export async function ingest(args: string[], io: IngestIo = { stdout: process.stdout, stderr: process.stderr }, config?: Pick<StratoConfig, 'readBudget'>): Promise<number> {
  if (args.some((arg) => /^--from-(intake|dir)(=|$)/.test(arg))) return bulkIngest(args, io);
  let options: IngestOptions;
  try {
    const parsed = parseOptions(args);
    if (parsed === 'help') {
      io.stdout.write(INGEST_HELP);
      return 0;
    }
    options = parsed;
  } catch (error) {
    return usageFailure(error, io.stderr, INGEST_HELP);
  }
  const progress = createProgress(io.stderr);
  try {
    const readBudget = config ? { readBudget: new ReadBudget(config.readBudget.maxBytes, config.readBudget.maxWaitMs) } : {};
    const summary = await runIngest({ ...options, ...readBudget }, progress);
    progress.done();
    io.stdout.write(`${summaryLine(summary)}\n`);
    return 0;
  } catch (error) {
    progress.done();
    if (!isExpected(error)) throw error;
    io.stderr.write(`strato ingest: ${(error as Error).message}\n`);
    return 1;
  }
}

function parseOptions(args: string[]): IngestOptions | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      catalog: { type: 'string' },
      id: { type: 'string' },
      format: { type: 'string', default: 'json' },
      'concat-dim': { type: 'string' },
      out: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      license: { type: 'string' },
      'inline-threshold': { type: 'string', default: '500' },
      'record-size': { type: 'string', default: '100000' },
      'dry-run': { type: 'boolean', default: false },
      replace: { type: 'boolean', default: false },
      'relative-paths': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (!values.catalog) throw new UsageError('--catalog is required');
  if (values.id === undefined) throw new UsageError('--id is required');
  const idProblem = datasetIdProblem(values.id);
  if (idProblem) throw new UsageError(`--id: ${idProblem}`);
  const format = values.format;
  if (format !== 'json' && format !== 'parquet') throw new UsageError(`--format must be json or parquet, got "${format}"`);
  if (positionals.length === 0) throw new UsageError('no input files');
  const concatDim = values['concat-dim'];
  if (concatDim !== undefined && concatDim.length === 0) throw new UsageError('--concat-dim needs a dimension name');
  if (positionals.length > 1 && concatDim === undefined) throw new UsageError(`${positionals.length} files need --concat-dim DIM (the dimension to concatenate them along)`);
  if (new Set(positionals).size !== positionals.length) throw new UsageError('a file is given twice');
  return {
    catalog: values.catalog,
    id: values.id,
    files: positionals,
    format: format satisfies ReferenceFormat,
    ...(concatDim !== undefined ? { concatDim } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.title !== undefined ? { title: values.title } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
    ...(values.license !== undefined ? { license: values.license } : {}),
    inlineThreshold: count('--inline-threshold', values['inline-threshold'], 0),
    recordSize: count('--record-size', values['record-size'], 1),
    dryRun: values['dry-run'],
    replace: values.replace,
    relativePaths: values['relative-paths'],
  };
}

function count(name: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got "${text}"`);
  return value;
}

function isExpected(error: unknown): boolean {
  return (
    error instanceof IngestError ||
    error instanceof ReferenceFormatError ||
    error instanceof CombineError ||
    error instanceof CatalogError ||
    error instanceof DatasetExistsError ||
    error instanceof FileLockError ||
    error instanceof DatasetError ||
    error instanceof SourceForbiddenError ||
    error instanceof SourceError ||
    error instanceof SourcesConfigError ||
    typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string' // fs errors: ENOSPC, EACCES, ...
  );
}

function summaryLine(summary: IngestSummary): string {
  const what = `${summary.files} file${summary.files === 1 ? '' : 's'}, ${summary.variables} variables, ${summary.chunks} chunks, ${formatBytes(summary.bytes)} referenced`;
  const time = `scan ${summary.scanSeconds.toFixed(2)} s, total ${summary.seconds.toFixed(2)} s`;
  if (summary.dryRun) return `strato ingest: dry run, nothing written: "${summary.id}" would be ${summary.refs} (${summary.format}): ${what}; ${time}`;
  return `strato ingest: ${summary.created ? 'added' : 'replaced'} "${summary.id}" → ${summary.refs} (${summary.format}): ${what}; ${time}`;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

interface Progress extends IngestProgress {
  /** Ends a pending bar line. */
  done(): void;
}

/** One line per file on stderr; a bar redrawn in place when stderr is a terminal. */
function createProgress(stderr: IngestIo['stderr']): Progress {
  const tty = stderr.isTTY === true;
  let open = false;
  const bar = (index: number, total: number) => {
    const width = 20;
    const filled = Math.round((index / total) * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round((index / total) * 100)).padStart(3)}%`;
  };
  const describe = (result: FileScanSummary) => {
    const grown = result.changes.map((c) => `${c.array}: ${c.dimension} ${c.from}→${c.to}`);
    return `${result.variables} variables, ${result.chunks} chunks, ${result.seconds.toFixed(2)} s${grown.length ? `; lengths harmonized (${grown.join(', ')})` : ''}`;
  };
  return {
    scanning(index, total, file) {
      if (!tty) return;
      stderr.write(`\r\x1b[2K${bar(index, total)} ${index + 1}/${total} scanning ${basename(file)}`);
      open = true;
    },
    scanned(index, total, file, result) {
      if (tty) {
        stderr.write(`\r\x1b[2K${bar(index + 1, total)} ${index + 1}/${total} ${basename(file)}: ${describe(result)}\n`);
        open = false;
      } else {
        stderr.write(`scanned ${index + 1}/${total} ${file}: ${describe(result)}\n`);
      }
    },
    note(message) {
      if (open) stderr.write('\n');
      open = false;
      stderr.write(`${message}\n`);
    },
    done() {
      if (open) stderr.write('\n');
      open = false;
    },
  };
}
