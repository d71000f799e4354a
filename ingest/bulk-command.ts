import { parseArgs } from 'node:util';
import { CatalogError } from '../catalog/catalog-file.js';
import { FileLockError } from '../catalog/catalog-store.js';
import { SourcesConfigError } from '../kerchunk/sources/sources.js';
import { IntakeCatalogError, readIntakeCatalog, type SkippedEntry } from './intake-catalog.js';
import { findReferenceSets, ReferenceDirError } from './reference-dir.js';
import { type Candidate, type RegisterReport, registerSets } from './register-sets.js';
import { UsageError, usageFailure } from './usage.js';

export const BULK_INGEST_HELP = `Usage:
  strato ingest --catalog catalog.yaml --from-intake CATALOG.yaml|URL [--dry-run]
  strato ingest --catalog catalog.yaml --from-dir DIR [--dry-run]

One point of ingest: registers existing kerchunk reference sets, checked against sources.allow
first, in one atomic write of the catalog. A re-run changes only what changed.

  --from-intake   an intake v1 catalog (file or http(s) URL): every "driver: zarr" entry with
                  "urlpath: reference://" and "storage_options: {fo: TABLE}", through nested
                  catalogs (yaml_file_cat); ids are the entry names joined with "." ; title,
                  description and metadata carry over
  --from-dir      every *.json table and fsspec parquet directory under DIR; ids from relative
                  paths (a/b/c.json → a.b.c); entries whose table was in DIR and is gone are removed
  --dry-run       validate and report; write nothing

One line per dataset: added, updated, removed, skipped (and why), ignored (not a reference set).
Exit code 1 when any entry was skipped.
`;

export interface BulkIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** `strato ingest --from-intake|--from-dir`: 0 done, 1 something skipped or failed, 2 usage error. */
export async function bulkIngest(args: string[], io: BulkIo): Promise<number> {
  let options: { catalog: string; intake?: string; dir?: string; dryRun: boolean };
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        catalog: { type: 'string' },
        'from-intake': { type: 'string' },
        'from-dir': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.stdout.write(BULK_INGEST_HELP);
      return 0;
    }
    if (!values.catalog) throw new UsageError('--catalog is required');
    if ((values['from-intake'] === undefined) === (values['from-dir'] === undefined)) throw new UsageError('give one of --from-intake or --from-dir');
    if (positionals.length > 0) throw new UsageError(`--from-intake and --from-dir take no input files (got ${positionals.length})`);
    options = {
      catalog: values.catalog,
      ...(values['from-intake'] !== undefined ? { intake: values['from-intake'] } : {}),
      ...(values['from-dir'] !== undefined ? { dir: values['from-dir'] } : {}),
      dryRun: values['dry-run'],
    };
  } catch (error) {
    return usageFailure(error, io.stderr, BULK_INGEST_HELP);
  }
  try {
    let candidates: Candidate[];
    let found: SkippedEntry[];
    if (options.intake !== undefined) {
      const read = await readIntakeCatalog(options.intake);
      candidates = read.datasets;
      found = read.skipped;
    } else {
      const read = await findReferenceSets(options.dir as string);
      candidates = read.sets.map((set) => ({ id: set.id, table: set.path }));
      found = read.skipped;
    }
    const ingest = options.intake !== undefined ? { tool: 'strato ingest --from-intake', from: options.intake } : { tool: 'strato ingest --from-dir', from: options.dir ?? '' };
    const report = await registerSets({
      catalog: options.catalog,
      candidates,
      dryRun: options.dryRun,
      ingest,
      ...(options.dir !== undefined ? { removeWithin: options.dir } : {}),
    });
    const skipped = [...found, ...report.skipped];
    io.stdout.write(reportLines(report, skipped, options.dryRun));
    return skipped.some((entry) => entry.kind === 'failed') ? 1 : 0;
  } catch (error) {
    if (
      error instanceof IntakeCatalogError ||
      error instanceof ReferenceDirError ||
      error instanceof CatalogError ||
      error instanceof FileLockError ||
      error instanceof SourcesConfigError
    ) {
      io.stderr.write(`strato ingest: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function reportLines(report: RegisterReport, skipped: readonly SkippedEntry[], dryRun: boolean): string {
  const lines: string[] = [];
  const would = dryRun ? 'would be ' : '';
  for (const id of report.added) lines.push(`${would}added ${id}`);
  for (const id of report.updated) lines.push(`${would}updated ${id}`);
  for (const id of report.removed) lines.push(`${would}removed ${id}`);
  for (const entry of skipped) lines.push(`${entry.kind === 'failed' ? 'skipped' : 'ignored'} ${oneLine(entry.id)}: ${oneLine(entry.reason)}`);
  const failed = skipped.filter((entry) => entry.kind === 'failed').length;
  const ignored = skipped.length - failed;
  const counts = `${report.added.length} added, ${report.updated.length} updated, ${report.unchanged.length} unchanged, ${report.removed.length} removed, ${failed} skipped${ignored ? `, ${ignored} ignored` : ''}`;
  const what = dryRun ? 'dry run, nothing written' : report.written ? 'catalog written' : 'no change, catalog not written';
  lines.push(`strato ingest: ${counts}; ${what}`);
  return `${lines.join('\n')}\n`;
}

function oneLine(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\u0000-\u001f\u007f]/g, '?')
    .slice(0, 500);
}
