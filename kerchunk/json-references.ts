import { readFile } from 'node:fs/promises';
import { objectMemberTexts } from './json-spans.js';
import { type ChunkReference, type JsonValue, ReferenceFormatError, type ReferenceStore } from './reference.js';
import { renderTemplate, TemplateError, type TemplateValue } from './template-expression.js';
import { isMetadataKey } from './zarr-keys.js';

/**
 * fsspec JSON reference tables, version 0 (a flat `{key: value}` object) and version 1
 * (`{"version": 1, "templates": {...}, "gen": [...], "refs": {...}}`).
 *
 * A value is an inline string (UTF-8 bytes), a `base64:` payload, `[url]` (whole file) or
 * `[url, offset, length]`. Metadata keys (`.zgroup`, `.zattrs`, `.zarray`, `.zmetadata`) must be
 * inline JSON. `gen` blocks are expanded up front, bounded by `maxGeneratedKeys`.
 */
export interface JsonReferenceOptions {
  /** Upper bound on keys a `gen` block may expand to (a table can ask for billions). */
  readonly maxGeneratedKeys?: number;
}

/**
 * A JSON table lives in memory as a whole and its `gen` blocks expand up front, synchronously:
 * measured here, 1M generated keys take ~260 MiB and ~9 s, 10M took 2.2 GiB and 150 s (a server
 * stalled that long at start-up or reload). Sets that large belong in parquet references (lazy).
 */
export const DEFAULT_MAX_GENERATED_KEYS = 1_000_000;

export async function openJsonReferences(file: string, options: JsonReferenceOptions = {}): Promise<ReferenceStore> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ReferenceFormatError(`cannot read reference file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseJsonReferences(text, file, options);
}

/** Parses the text of a JSON reference table; `name` is used in error messages. */
export function parseJsonReferences(text: string, name: string, options: JsonReferenceOptions = {}): ReferenceStore {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ReferenceFormatError(`${name} is not valid JSON (${syntaxProblem(error)})`);
  }
  if (!isObject(document)) throw new ReferenceFormatError(`${name}: a reference table must be a JSON object`);
  const table = new ReferenceTableBuilder(name, options.maxGeneratedKeys ?? DEFAULT_MAX_GENERATED_KEYS);
  if ('version' in document) {
    if (document.version !== 1) {
      throw new ReferenceFormatError(`${name}: unsupported reference version ${JSON.stringify(document.version)} (0 and 1 are supported)`);
    }
    table.readVersion1(document);
  } else {
    for (const [key, value] of Object.entries(document)) table.add(key, value, {});
  }
  return table.build();
}

type Templates = Readonly<Record<string, TemplateValue>>;

class ReferenceTableBuilder {
  private readonly metadata = new Map<string, JsonValue>();
  private readonly metadataText = new Map<string, string>();
  private readonly chunks = new Map<string, ChunkReference>();

  constructor(
    private readonly name: string,
    private readonly maxGeneratedKeys: number,
  ) {}

  readVersion1(document: Record<string, unknown>): void {
    const templates = this.readTemplates(document.templates);
    if (document.gen !== undefined) this.expandGenerators(document.gen, templates);
    const refs = document.refs;
    if (!isObject(refs)) throw new ReferenceFormatError(`${this.name}: version 1 table needs a "refs" object`);
    for (const [key, value] of Object.entries(refs)) this.add(key, value, templates);
  }

  add(key: string, value: unknown, templates: Templates): void {
    if (key.length === 0) throw new ReferenceFormatError(`${this.name}: empty key`);
    if (isMetadataKey(key)) {
      this.addMetadata(key, value);
      return;
    }
    this.chunks.set(key, this.readReference(key, value, templates));
  }

  build(): ReferenceStore {
    const consolidated = this.metadataText.get('.zmetadata');
    this.metadata.delete('.zmetadata');
    this.metadataText.delete('.zmetadata');
    if (consolidated !== undefined) this.mergeConsolidated(consolidated);
    return new JsonReferenceStore(this.metadata, this.metadataText, this.chunks);
  }

  /** Documents of an embedded `.zmetadata` that the table does not also list on their own. */
  private mergeConsolidated(text: string): void {
    let documents: Map<string, string>;
    try {
      const metadataText = objectMemberTexts(text).get('metadata');
      if (metadataText === undefined) throw new SyntaxError('no "metadata" member');
      documents = objectMemberTexts(metadataText);
    } catch (error) {
      throw new ReferenceFormatError(`${this.name}: ".zmetadata" has no usable "metadata" object (${syntaxProblem(error)})`);
    }
    for (const [key, value] of documents) {
      if (!this.metadata.has(key)) this.addMetadata(key, value.startsWith('"') ? JSON.parse(value) : value);
    }
  }

  /** A metadata document: an inline JSON string (kept verbatim) or, in embedded .zmetadata, JSON text. */
  private addMetadata(key: string, value: unknown): void {
    let text: string;
    if (typeof value === 'string') text = value.startsWith('base64:') ? Buffer.from(value.slice(7), 'base64').toString('utf8') : value;
    else if (isObject(value)) text = JSON.stringify(value);
    else throw new ReferenceFormatError(`${this.name}: metadata "${key}" must be an inline JSON object, got ${describe(value)}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ReferenceFormatError(`${this.name}: metadata "${key}" is not valid JSON (${syntaxProblem(error)})`);
    }
    if (!isObject(parsed)) {
      throw new ReferenceFormatError(`${this.name}: metadata "${key}" must be an inline JSON object, got ${describe(value)}`);
    }
    this.metadata.set(key, parsed as JsonValue);
    this.metadataText.set(key, text.trim());
  }

  private readReference(key: string, value: unknown, templates: Templates): ChunkReference {
    if (typeof value === 'string') {
      const data = value.startsWith('base64:') ? Buffer.from(value.slice(7), 'base64') : Buffer.from(value, 'utf8');
      return { kind: 'inline', data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    }
    if (!Array.isArray(value) || (value.length !== 1 && value.length !== 3)) {
      throw new ReferenceFormatError(`${this.name}: reference "${key}" must be a string, [url] or [url, offset, length], got ${describe(value)}`);
    }
    const [rawUrl, offset, length] = value as unknown[];
    if (typeof rawUrl !== 'string' || rawUrl.length === 0) {
      throw new ReferenceFormatError(`${this.name}: reference "${key}" has no url`);
    }
    const url = this.render(rawUrl, templates, key);
    if (value.length === 1) return { kind: 'whole', url };
    if (!isByteCount(offset) || !isByteCount(length)) {
      throw new ReferenceFormatError(`${this.name}: reference "${key}" needs a non-negative integer offset and length, got ${describe(offset)}, ${describe(length)}`);
    }
    return { kind: 'range', url, offset, length };
  }

  private readTemplates(value: unknown): Templates {
    if (value === undefined) return {};
    if (!isObject(value)) throw new ReferenceFormatError(`${this.name}: "templates" must be an object`);
    const templates: Record<string, TemplateValue> = Object.create(null); // names from the file: "__proto__" is a key
    for (const [name, template] of Object.entries(value)) {
      if (typeof template !== 'string' && typeof template !== 'number') {
        throw new ReferenceFormatError(`${this.name}: template "${name}" must be a string`);
      }
      templates[name] = template;
    }
    return templates;
  }

  private expandGenerators(value: unknown, templates: Templates): void {
    if (!Array.isArray(value)) throw new ReferenceFormatError(`${this.name}: "gen" must be a list`);
    let generated = 0;
    value.forEach((generator, index) => {
      const block = new GeneratorBlock(this.name, index, generator);
      generated += block.count;
      if (generated > this.maxGeneratedKeys) {
        throw new ReferenceFormatError(`${this.name}: "gen" expands to more than ${this.maxGeneratedKeys} keys (block ${index} alone: ${block.count})`);
      }
      for (const names of block.combinations()) {
        const scope = { ...templates, ...names };
        const key = this.render(block.key, scope, `gen[${index}].key`);
        const url = this.render(block.url, scope, key);
        if (block.offset === undefined || block.length === undefined) {
          this.add(key, [url], {});
          continue;
        }
        const offset = Number(this.render(block.offset, scope, key));
        const length = Number(this.render(block.length, scope, key));
        this.add(key, [url, offset, length], {});
      }
    });
  }

  private render(text: string, names: Templates, where: string): string {
    try {
      return renderTemplate(text, names);
    } catch (error) {
      if (error instanceof TemplateError) throw new ReferenceFormatError(`${this.name}: ${where}: ${error.message}`);
      throw error;
    }
  }
}

/** One entry of a v1 `gen` list: key/url/offset/length templates over the product of its dimensions. */
class GeneratorBlock {
  readonly key: string;
  readonly url: string;
  readonly offset: string | undefined;
  readonly length: string | undefined;
  readonly count: number;
  private readonly dimensions: Array<[string, TemplateValue[] | { start: number; stop: number; step: number }]>;

  constructor(name: string, index: number, block: unknown) {
    const where = `${name}: gen[${index}]`;
    if (!isObject(block)) throw new ReferenceFormatError(`${where} must be an object`);
    if (typeof block.key !== 'string' || typeof block.url !== 'string') {
      throw new ReferenceFormatError(`${where} needs string "key" and "url" templates`);
    }
    if ('offset' in block !== 'length' in block) {
      throw new ReferenceFormatError(`${where} needs both "offset" and "length", or neither`);
    }
    this.key = block.key;
    this.url = block.url;
    this.offset = 'offset' in block ? String(block.offset) : undefined;
    this.length = 'length' in block ? String(block.length) : undefined;
    if (!isObject(block.dimensions)) throw new ReferenceFormatError(`${where} needs a "dimensions" object`);
    this.dimensions = Object.entries(block.dimensions).map(([dimension, spec]) => {
      if (Array.isArray(spec)) {
        if (!spec.every((item) => typeof item === 'string' || typeof item === 'number')) {
          throw new ReferenceFormatError(`${where}: dimension "${dimension}" must list strings or numbers`);
        }
        return [dimension, spec as TemplateValue[]];
      }
      if (!isObject(spec)) throw new ReferenceFormatError(`${where}: dimension "${dimension}" must be a list or {start, stop, step}`);
      const start = spec.start ?? 0;
      const stop = spec.stop;
      const step = spec.step ?? 1;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(stop) || !Number.isSafeInteger(step) || step === 0) {
        throw new ReferenceFormatError(`${where}: dimension "${dimension}" needs integer start/stop and a non-zero step`);
      }
      return [dimension, { start: start as number, stop: stop as number, step: step as number }];
    });
    this.count = this.dimensions.reduce((product, [, spec]) => product * dimensionLength(spec), 1);
  }

  /** Every combination of dimension values, the last dimension varying fastest (itertools.product order). */
  *combinations(): Generator<Record<string, TemplateValue>> {
    if (this.count === 0) return;
    const lengths = this.dimensions.map(([, spec]) => dimensionLength(spec));
    const counters = lengths.map(() => 0);
    for (let n = 0; n < this.count; n++) {
      const names: Record<string, TemplateValue> = Object.create(null); // dimension names from the file
      this.dimensions.forEach(([dimension, spec], d) => {
        const i = counters[d] as number;
        names[dimension] = Array.isArray(spec) ? (spec[i] as TemplateValue) : spec.start + i * spec.step;
      });
      yield names;
      for (let d = counters.length - 1; d >= 0; d--) {
        counters[d] = (counters[d] as number) + 1;
        if ((counters[d] as number) < (lengths[d] as number)) break;
        counters[d] = 0;
      }
    }
  }
}

function dimensionLength(spec: TemplateValue[] | { start: number; stop: number; step: number }): number {
  if (Array.isArray(spec)) return spec.length;
  return Math.max(0, Math.ceil((spec.stop - spec.start) / spec.step));
}

class JsonReferenceStore implements ReferenceStore {
  constructor(
    readonly metadata: ReadonlyMap<string, JsonValue>,
    readonly metadataText: ReadonlyMap<string, string>,
    private readonly chunks: ReadonlyMap<string, ChunkReference>,
  ) {}

  async chunk(key: string): Promise<ChunkReference | undefined> {
    return this.chunks.get(key);
  }

  async *urls(): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const reference of this.chunks.values()) {
      if (reference.kind === 'inline' || seen.has(reference.url)) continue;
      seen.add(reference.url);
      yield reference.url;
    }
  }

  async close(): Promise<void> {}
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isByteCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * What a value is, for error messages, without quoting text: error messages reach logs and admin
 * answers, and a file that is not a reference table (a secret next to the catalog) must not be
 * read back through them. Numbers, booleans and null are shown; text and structures by kind.
 */
function describe(value: unknown): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return `text (${value.length} characters)`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/**
 * A JSON syntax error without the quoted input V8 puts into its messages (`Unexpected token 'x',
 * "<the first bytes>"... is not valid JSON`): only where it happened.
 */
function syntaxProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/end of JSON input/i.test(message)) return 'it ends too early';
  const position = /at position (\d+)/.exec(message)?.[1];
  return position === undefined ? 'a syntax error' : `a syntax error at character ${position}`;
}
