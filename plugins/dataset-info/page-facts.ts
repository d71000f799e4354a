import type { DatasetSchema, VariableSchema } from '../../catalog/dataset-schema.js';
import { attribute } from '../../cf/attributes.js';
import { roleOf } from '../../cf/axes.js';
import { formatDate } from '../../cf/date-query.js';
import { BITROUND_ATTRIBUTE } from '../../cf/quantize.js';
import { timeCoder } from '../../cf/time-units.js';
import type { DatasetValues } from '../../kerchunk/array-values.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import type { ServedBody } from '../../server/http/served-body.js';

/** How one array is stored in one view. */
export interface StoredArray {
  readonly chunks: readonly number[];
  /** 'blosc (cname lz4, clevel 5, shuffle 2)', 'zlib (level 4)', 'none'. */
  readonly compressor: string;
  /** 'shuffle (elementsize 4)', '' when there are none. */
  readonly filters: string;
}

/** The decoded range of a time coordinate, in its own calendar. */
export interface TimeRange {
  /** '2001-01-01', '2001-01-01 12:00' when not at midnight. */
  readonly first: string;
  readonly last: string;
  readonly calendar: string;
  readonly steps: number;
}

/** What a dataset page says beyond the schema: each view's storage, what is lossy, time ranges. */
export interface PageFacts {
  /** Arrays of the raw view (/kerchunk), by name. */
  readonly raw: ReadonlyMap<string, StoredArray>;
  /** Arrays of the processed view (/zarr), or why it cannot be served. */
  readonly processed: ReadonlyMap<string, StoredArray> | { readonly problem: string };
  /** Mantissa bits kept, for the arrays the processed view bit-rounds (from its own attributes). */
  readonly keepbits: ReadonlyMap<string, number>;
  /** Time coordinates, by name. */
  readonly times: ReadonlyMap<string, TimeRange>;
}

/** What the facts are read from: the views' metadata documents and the decoded values. */
export interface FactSources {
  readonly raw: (key: string) => ServedBody | undefined;
  /** Throws when the processed view cannot be made (its message is shown). */
  readonly processed: () => (key: string) => ServedBody | undefined;
  readonly values: DatasetValues;
}

async function documentOf(metadata: (key: string) => ServedBody | undefined, key: string): Promise<Record<string, JsonValue> | undefined> {
  const body = metadata(key);
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(await body.read(0, body.size)));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, JsonValue>) : undefined;
  } catch {
    return undefined;
  }
}

/** A codec's configuration as words: `{"id": "zlib", "level": 4}` → 'zlib (level 4)'. */
export function codecLabel(codec: JsonValue | undefined): string {
  if (codec === null || codec === undefined) return 'none';
  if (typeof codec !== 'object' || Array.isArray(codec)) return JSON.stringify(codec);
  const id = Object.hasOwn(codec, 'id') && typeof codec.id === 'string' ? codec.id : 'codec';
  const parameters = Object.entries(codec)
    .filter(([name]) => name !== 'id')
    .map(([name, value]) => `${name} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return parameters.length > 0 ? `${id} (${parameters.join(', ')})` : id;
}

async function storedArrays(metadata: (key: string) => ServedBody | undefined, schema: DatasetSchema): Promise<Map<string, StoredArray>> {
  const arrays = new Map<string, StoredArray>();
  for (const variable of schema.variables) {
    const zarray = await documentOf(metadata, `${variable.name}/.zarray`);
    if (!zarray) continue;
    const chunks = Array.isArray(zarray.chunks) ? zarray.chunks.filter((n): n is number => typeof n === 'number') : [];
    const filters = Array.isArray(zarray.filters) ? zarray.filters.map(codecLabel).join(', ') : '';
    arrays.set(variable.name, { chunks, compressor: codecLabel(zarray.compressor), filters });
  }
  return arrays;
}

async function timeRange(variable: VariableSchema, values: DatasetValues): Promise<TimeRange | undefined> {
  const steps = variable.shape[0] ?? 0;
  const coder = timeCoder(attribute(variable.attrs, 'units'), attribute(variable.attrs, 'calendar'));
  const array = values.array(variable.name);
  if (variable.dims.length !== 1 || steps === 0 || !coder || !array) return undefined;
  const at = async (index: number) => coder.date(Number((await array.read([{ start: index, stop: index + 1, step: 1 }]))[0]));
  const [first, last] = await Promise.all([at(0), at(steps - 1)]);
  if (!first || !last) return undefined;
  return { first: formatDate(first), last: formatDate(last), calendar: coder.calendar.name, steps };
}

/** Reads the facts of a page; a time axis that cannot be read is left out rather than failing the page. */
export async function pageFacts(schema: DatasetSchema, sources: FactSources): Promise<PageFacts> {
  const raw = await storedArrays(sources.raw, schema);
  let processed: PageFacts['processed'];
  const keepbits = new Map<string, number>();
  try {
    const metadata = sources.processed();
    processed = await storedArrays(metadata, schema);
    for (const variable of schema.variables) {
      const bits = (await documentOf(metadata, `${variable.name}/.zattrs`))?.[BITROUND_ATTRIBUTE];
      if (typeof bits === 'number') keepbits.set(variable.name, bits);
    }
  } catch (error) {
    processed = { problem: error instanceof Error ? error.message : 'the processed view cannot be served' };
  }
  const times = new Map<string, TimeRange>();
  for (const variable of schema.variables) {
    if (!variable.isCoordinate || roleOf(variable) !== 'time') continue;
    const range = await timeRange(variable, sources.values).catch(() => undefined);
    if (range) times.set(variable.name, range);
  }
  return { raw, processed, keepbits, times };
}
