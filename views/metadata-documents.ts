import { asciiJson } from '../kerchunk/ascii-json.js';
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
  const members: string[] = [];
  for (const [key, text] of v2Texts) {
    members.push(`${JSON.stringify(key)}: ${text}`);
    rendered.set(key, jsonBody(text));
  }
  rendered.set('.zmetadata', jsonBody(`{"metadata": {\n${members.join(',\n')}\n}, "zarr_consolidated_format": 1}`));
  for (const [key, text] of v3MetadataTexts(v2Texts)) rendered.set(key, jsonBody(text));
  return rendered;
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
