import { stat } from 'node:fs/promises';
import { basename, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../catalog/dataset.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { localName, type ProvAttributes, ProvBuilder, type ProvDocument, qname, time, uri } from './prov-model.js';

/** One file (or object) the reference table points into. */
export interface SourceFile {
  /** As shown: a URL, a path relative to the catalog's directory, or a bare file name. */
  readonly ref: string;
  readonly size?: number;
  readonly modified?: Date;
}

/** Where a dataset's values come from, as far as strato knows. */
export interface DatasetLineage {
  readonly id: string;
  readonly title?: string;
  readonly table: { readonly ref: string; readonly format: 'json' | 'parquet'; readonly size?: number; readonly modified?: Date };
  readonly sources: readonly SourceFile[];
  /** More sources than listed (the list stops at the limit). */
  readonly sourcesTruncated: boolean;
  /** The processed view's stages, in order, with the setting each reads (undefined: left alone). */
  readonly stages: ReadonlyArray<{ readonly key: string; readonly setting: JsonValue | undefined }>;
  /** The catalog entry's `ingest` record (what `strato ingest` or an admin wrote), when present. */
  readonly ingest?: { readonly [key: string]: JsonValue };
  readonly version: string;
  /** A derived dataset (`derive:`): its spec as written and the lineage of the dataset it derives from. */
  readonly derivedFrom?: { readonly spec: JsonValue; readonly source: DatasetLineage };
}

/** Derived datasets deriving from derived datasets: the chain followed this deep at most. */
const MAX_DERIVE_DEPTH = 16;

/**
 * The lineage of a dataset and, for a derived one, of the datasets it derives from (looked up
 * with `datasetOf`; cycles are refused by the catalog, and the depth is bounded here anyway).
 */
export async function fullLineage(
  dataset: Dataset,
  datasetOf: (id: string) => Dataset | undefined,
  stageKeys: readonly string[],
  version: string,
  root: string,
  depth = 0,
): Promise<DatasetLineage> {
  const lineage = await datasetLineage(dataset, stageKeys, version, root);
  const spec = dataset.entry.fields.derive;
  const from = spec !== null && typeof spec === 'object' && !Array.isArray(spec) && typeof spec.from === 'string' ? spec.from : undefined;
  const source = from === undefined || depth >= MAX_DERIVE_DEPTH ? undefined : datasetOf(from);
  if (!source || spec === undefined) return lineage;
  return { ...lineage, derivedFrom: { spec, source: await fullLineage(source, datasetOf, stageKeys, version, root, depth + 1) } };
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** An absolute path shown without revealing the server's directories: relative to `root` when inside it, else its file name. */
export function shownPath(absolute: string, root: string): string {
  const inside = absolute.startsWith(root.endsWith(sep) ? root : root + sep);
  return inside ? relative(root, absolute).split(sep).join('/') : basename(absolute);
}

/**
 * The lineage of a dataset: its table and the files it references (stat'ed when local; shown
 * relative to `root`, the catalog's directory, or by file name), its stages.
 */
export async function datasetLineage(dataset: Dataset, stageKeys: readonly string[], version: string, root: string, maxSources = 1000): Promise<DatasetLineage> {
  const entry = dataset.entry;
  const sources: SourceFile[] = [];
  let truncated = false;
  const seen = new Set<string>();
  for await (const url of dataset.references.urls()) {
    if (seen.has(url)) continue;
    if (seen.size >= maxSources) {
      truncated = true;
      break;
    }
    seen.add(url);
    sources.push(await sourceFile(url, dataset.referenceBase, root));
  }
  const tableStat = SCHEME.test(entry.refsLocation) ? undefined : await statOf(entry.refsLocation);
  const processing = entry.processing;
  const block = typeof processing === 'object' && processing !== null && !Array.isArray(processing) ? processing : undefined;
  const ingest = entry.fields.ingest;
  return {
    id: dataset.id,
    ...(entry.title ? { title: entry.title } : {}),
    table: {
      ref: SCHEME.test(entry.refs) ? entry.refs : shownPath(entry.refsLocation, root),
      format: tableStat?.isDirectory() ? 'parquet' : 'json',
      ...(tableStat ? { size: tableStat.size, modified: tableStat.mtime } : {}),
    },
    sources,
    sourcesTruncated: truncated,
    stages: stageKeys.map((key) => ({ key, setting: block && Object.hasOwn(block, key) ? block[key] : undefined })),
    ...(typeof ingest === 'object' && ingest !== null && !Array.isArray(ingest) ? { ingest } : {}),
    version,
  };
}

async function sourceFile(url: string, base: string, root: string): Promise<SourceFile> {
  if (SCHEME.test(url) && !url.startsWith('file://')) return { ref: url };
  const path = resolve(base, url.startsWith('file://') ? fileURLToPath(url) : url);
  const found = await statOf(path);
  return { ref: shownPath(path, root), ...(found ? { size: found.size, modified: found.mtime } : {}) };
}

async function statOf(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/** The identifiers of a dataset's chain in a document. */
export interface DatasetChain {
  readonly table: string;
  readonly raw: string;
  readonly processed: string;
  readonly sources: readonly string[];
}

/**
 * Adds a dataset's chain to a document, under prefix `prefix` (declared by the caller):
 * source files → reference table (generated by the ingest when recorded, else derived) → raw view
 * (`kerchunk`) → processing activity (one attribute per stage setting) → processed view (`zarr`).
 * Derived datasets and jobs add their own activities using the returned identifiers.
 */
export function addDatasetChain(builder: ProvBuilder, lineage: DatasetLineage, prefix: string, documentOf?: (id: string) => string): DatasetChain {
  const id = (local: string): string => `${prefix}:${local}`;
  const software = builder.agent('strato:strato', [
    ['prov:type', qname('prov:SoftwareAgent')],
    ['prov:label', 'strato'],
    ['strato:version', lineage.version],
  ]);
  const sources = lineage.sources.map((source, index) =>
    builder.entity(id(`source-${index + 1}`), [
      ['prov:type', qname('strato:SourceFile')],
      ['prov:label', source.ref],
      ['prov:location', source.ref],
      ...(source.size !== undefined ? ([['strato:size', source.size]] as const) : []),
      ...(source.modified ? ([['strato:modified', time(source.modified)]] as const) : []),
    ]),
  );
  const table = builder.entity(id('references'), [
    ['prov:type', qname('strato:ReferenceTable')],
    ['prov:label', `reference table of ${lineage.id}`],
    ['prov:location', lineage.table.ref],
    ['strato:format', lineage.table.format],
    ...(lineage.table.size !== undefined ? ([['strato:size', lineage.table.size]] as const) : []),
    ...(lineage.table.modified ? ([['strato:modified', time(lineage.table.modified)]] as const) : []),
    ...(lineage.sourcesTruncated ? ([['strato:sourcesTruncated', 'true']] as const) : []),
  ]);
  let ingest: string | undefined;
  if (lineage.ingest) {
    const attributes: Array<readonly [string, ReturnType<typeof time> | string | number]> = [['prov:type', qname('strato:Ingest')]];
    for (const [key, value] of Object.entries(lineage.ingest)) {
      if (key === '__proto__') continue;
      attributes.push([`strato:${localName(key)}`, typeof value === 'string' || typeof value === 'number' ? value : JSON.stringify(value)]);
    }
    ingest = builder.activity(id('ingest'), attributes);
    builder.relate({ kind: 'wasGeneratedBy', entity: table, activity: ingest });
    builder.relate({ kind: 'wasAssociatedWith', activity: ingest, agent: software });
  }
  for (const source of sources) {
    if (ingest) builder.relate({ kind: 'used', activity: ingest, entity: source });
    builder.relate({ kind: 'wasDerivedFrom', generatedEntity: table, usedEntity: source, ...(ingest ? { activity: ingest } : {}) });
  }
  const raw = builder.entity(id('kerchunk'), [
    ['prov:type', qname('strato:RawView')],
    ['prov:label', `${lineage.id}: raw view (chunks as stored)`],
  ]);
  builder.relate({ kind: 'wasDerivedFrom', generatedEntity: raw, usedEntity: table });
  if (lineage.derivedFrom && documentOf) {
    // the source's chain under its own prefix (its provenance document's namespace)
    const sourcePrefix = `${prefix}_from`;
    builder.prefix(sourcePrefix, `${documentOf(lineage.derivedFrom.source.id)}#`);
    const source = addDatasetChain(builder, lineage.derivedFrom.source, sourcePrefix, documentOf);
    const derive = builder.activity(id('derive'), [
      ['prov:type', qname('strato:Derive')],
      ['prov:label', `${lineage.id} derived from ${lineage.derivedFrom.source.id}`],
      ['strato:derive', JSON.stringify(lineage.derivedFrom.spec)],
    ]);
    builder.relate({ kind: 'used', activity: derive, entity: source.raw });
    builder.relate({ kind: 'wasGeneratedBy', entity: table, activity: derive });
    builder.relate({ kind: 'wasDerivedFrom', generatedEntity: table, usedEntity: source.raw, activity: derive });
    builder.relate({ kind: 'wasAssociatedWith', activity: derive, agent: software });
  }
  const processing = builder.activity(id('processing'), [
    ['prov:type', qname('strato:ProcessedView')],
    ['strato:stages', lineage.stages.map((stage) => stage.key).join(' ')],
    ...lineage.stages.map(({ key, setting }) => [`strato:${localName(key)}`, setting === undefined ? 'none' : JSON.stringify(setting)] as const),
  ] satisfies ProvAttributes);
  const processed = builder.entity(id('zarr'), [
    ['prov:type', qname('strato:ProcessedView')],
    ['prov:label', `${lineage.id}: processed view`],
  ]);
  builder.relate({ kind: 'used', activity: processing, entity: raw });
  builder.relate({ kind: 'wasGeneratedBy', entity: processed, activity: processing });
  builder.relate({ kind: 'wasDerivedFrom', generatedEntity: processed, usedEntity: raw, activity: processing });
  builder.relate({ kind: 'wasAssociatedWith', activity: processing, agent: software });
  return { table, raw, processed, sources };
}

/** The provenance document of one dataset; `documentUrl` names its namespace (the provenance route's URL). */
export function datasetProvenance(lineage: DatasetLineage, documentUrl: string, documentOf?: (id: string) => string): ProvDocument {
  const builder = new ProvBuilder().prefix('ds', `${documentUrl}#`);
  const chain = addDatasetChain(builder, lineage, 'ds', documentOf);
  const dataset = builder.entity('ds:dataset', [
    ['prov:type', qname('strato:Dataset')],
    ['prov:label', lineage.title ?? lineage.id],
    ['strato:id', lineage.id],
    ['prov:location', uri(documentUrl.replace(/\/provenance$/, ''))],
  ]);
  builder.relate({ kind: 'wasDerivedFrom', generatedEntity: dataset, usedEntity: chain.processed });
  return builder.build();
}
