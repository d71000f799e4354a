import { LRUCache } from 'lru-cache';
import { asciiJson } from '../kerchunk/ascii-json.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { isMetadataKey } from '../kerchunk/zarr-keys.js';
import { v3MetadataTexts } from '../kerchunk/zarr-v3.js';
import { etagOf } from '../server/http/etag.js';
import { bytesBody, type ServedBody } from '../server/http/served-body.js';

export const METADATA_CACHE_CONTROL = 'public, max-age=60';

/**
 * Every metadata key of a view, rendered once: the v2 documents as given (text, never
 * re-serialised), `.zmetadata` spliced from them, and the v3 face's `zarr.json` documents.
 */
export function renderMetadata(v2Texts: ReadonlyMap<string, string>): Map<string, ServedBody> {
  const rendered = new Map<string, ServedBody>();
  for (const [key, text] of v2Texts) rendered.set(key, jsonBody(text));
  rendered.set('.zmetadata', jsonBody(consolidatedText(v2Texts)));
  for (const [key, text] of v3MetadataTexts(v2Texts)) rendered.set(key, jsonBody(text));
  return rendered;
}

/** Bytes of rendered metadata documents kept for all views together, by default. */
export const DEFAULT_METADATA_CACHE_BYTES = 32 * 1024 * 1024;

/** What one rendered document costs besides its bytes (the body object, its ETag, the map entry). */
const BODY_OVERHEAD_BYTES = 256;

/**
 * Rendered metadata documents of many views in one cache bounded by bytes (least recently used
 * go first), so that what stays on the heap does not grow with the number of datasets opened.
 */
export class MetadataDocumentCache {
  private readonly rendered: LRUCache<object, ReadonlyMap<string, ServedBody>>;

  constructor(readonly maxBytes: number = DEFAULT_METADATA_CACHE_BYTES) {
    this.rendered = new LRUCache<object, ReadonlyMap<string, ServedBody>>({ maxSize: Math.max(1, maxBytes), sizeCalculation: documentsBytes });
  }

  /** The documents kept for `owner`, or undefined. */
  get(owner: object): ReadonlyMap<string, ServedBody> | undefined {
    return this.rendered.get(owner);
  }

  /** Keeps `documents` for `owner`; false when they alone are larger than the cache. */
  set(owner: object, documents: ReadonlyMap<string, ServedBody>): boolean {
    if (documentsBytes(documents) > this.maxBytes) return false;
    this.rendered.set(owner, documents);
    return true;
  }

  /** Bytes held now (tests, metrics). */
  get bytes(): number {
    return this.rendered.calculatedSize;
  }
}

function documentsBytes(documents: ReadonlyMap<string, ServedBody>): number {
  let bytes = 0;
  for (const [key, body] of documents) bytes += key.length + body.size + body.etag.length + BODY_OVERHEAD_BYTES;
  return Math.max(1, bytes);
}

/**
 * The metadata documents of one view, rendered when first asked for (`renderMetadata` of its v2
 * texts, the same bytes and ETags) and kept in a shared MetadataDocumentCache, rendered again
 * after being dropped from it. Without a cache, or when they alone exceed it, the view keeps them.
 * A key that cannot name a document (a chunk key) is answered without rendering anything.
 */
export class LazyMetadataDocuments {
  /** This view's key in the shared cache (never the view itself: a dropped view is not kept). */
  private readonly token = {};
  private own: ReadonlyMap<string, ServedBody> | undefined;

  constructor(
    /** The v2 texts as given (a map the view holds anyway: nothing is copied until rendering). */
    private readonly given: ReadonlyMap<string, string>,
    /** The complete v2 texts the documents are rendered from (called at each rendering). */
    private readonly complete: () => ReadonlyMap<string, string>,
    private readonly cache?: MetadataDocumentCache,
  ) {}

  get(key: string): ServedBody | undefined {
    if (!isDocumentName(key) && !this.given.has(key)) return undefined;
    return this.documents().get(key);
  }

  /** Every document (rendered now when not kept). */
  documents(): ReadonlyMap<string, ServedBody> {
    const kept = this.own ?? this.cache?.get(this.token);
    if (kept) return kept;
    const rendered = renderMetadata(this.complete());
    if (!this.cache?.set(this.token, rendered)) this.own = rendered;
    return rendered;
  }
}

/** Whether `key` is named like a metadata document (v2 `.zarray`/`.zattrs`/`.zgroup`/`.zmetadata`, v3 `zarr.json`). */
function isDocumentName(key: string): boolean {
  return isMetadataKey(key) || key === 'zarr.json' || key.endsWith('/zarr.json');
}

/** The `.zmetadata` document (consolidated metadata) spliced from the v2 documents' texts. */
export function consolidatedText(v2Texts: ReadonlyMap<string, string>): string {
  const members: string[] = [];
  for (const [key, text] of v2Texts) members.push(`${JSON.stringify(key)}: ${text}`);
  return `{"metadata": {\n${members.join(',\n')}\n}, "zarr_consolidated_format": 1}`;
}

/** The v2 dimension separator of every array of a view (for mapping v3 chunk keys). */
export function dimensionSeparators(v2Texts: ReadonlyMap<string, string>): Map<string, string> {
  const separators = new Map<string, string>();
  for (const [key, text] of v2Texts) {
    if (!key.endsWith('/.zarray')) continue;
    const { dimension_separator: separator } = JSON.parse(text) as { dimension_separator?: string };
    separators.set(key.slice(0, -'/.zarray'.length), separator ?? '.');
  }
  return separators;
}

export { asciiJson };

function jsonBody(text: string): ServedBody {
  const bytes = new TextEncoder().encode(asciiJson(text));
  return bytesBody(bytes, etagOf(bytes), 'application/json', METADATA_CACHE_CONTROL);
}

/**
 * A `.zattrs` text with the members of `set` added, replacing members of the same names; every
 * other member is kept exactly as written (its text, not re-serialised: `150.0` stays a float).
 * A text that is not a JSON object is answered with `set` alone.
 */
export function withAttributes(text: string, set: Readonly<Record<string, JsonValue>>): string {
  const names = new Set(Object.keys(set));
  if (names.size === 0) return text;
  const members = objectMembers(text) ?? [];
  const kept = members.filter((member) => !names.has(member.name)).map((member) => member.text);
  const added = Object.entries(set).map(([name, value]) => `${JSON.stringify(name)}: ${JSON.stringify(value)}`);
  return `{${[...kept, ...added].join(', ')}}`;
}

/** The top-level members of a JSON object text (name decoded, member text as written), or undefined. */
export function objectMembers(text: string): Array<{ name: string; text: string }> | undefined {
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
  };
  const skipString = (): boolean => {
    if (text[i] !== '"') return false;
    for (i++; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') {
        i++;
        return true;
      }
    }
    return false;
  };
  const skipValue = (): boolean => {
    let depth = 0;
    const start = i;
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '"') {
        if (!skipString()) return false;
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        if (depth === 0) break;
        depth--;
      } else if (ch === ',' && depth === 0) break;
      i++;
    }
    return depth === 0 && i > start;
  };
  try {
    if (typeof JSON.parse(text) !== 'object') return undefined;
  } catch {
    return undefined;
  }
  skipSpace();
  if (text[i] !== '{') return undefined;
  i++;
  const members: Array<{ name: string; text: string }> = [];
  skipSpace();
  if (text[i] === '}') return members;
  while (i < text.length) {
    skipSpace();
    const start = i;
    if (!skipString()) return undefined;
    const name = JSON.parse(text.slice(start, i)) as string;
    skipSpace();
    if (text[i] !== ':') return undefined;
    i++;
    skipSpace();
    if (!skipValue()) return undefined;
    members.push({ name, text: text.slice(start, i).trimEnd() });
    skipSpace();
    if (text[i] === ',') i++;
    else if (text[i] === '}') return members;
    else return undefined;
  }
  return undefined;
}
