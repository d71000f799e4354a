import { etagOf } from './etag.js';
import { bytesBody, type ServedBody } from './served-body.js';

/** What a listing needs of a store view: its metadata documents by key. */
export interface ListableStore {
  metadata(key: string): ServedBody | undefined;
}

/** Root documents a listing names when the view has them. */
const ROOT_DOCUMENTS = ['.zgroup', '.zattrs', '.zarray', '.zmetadata', 'zarr.json'];

/** Listings kept per view (one per request path spelling, bounded). */
const MAX_PATHS_PER_VIEW = 8;
const listings = new WeakMap<ListableStore, Map<string, ServedBody>>();

/**
 * The store root as a web server's directory index (nginx `autoindex` layout, which GDAL's
 * /vsicurl/ and other directory-listing clients parse): the root's metadata documents with their
 * sizes, and the top-level groups and arrays as sub-directories. Chunks are never listed, so a
 * client that trusts the listing never takes a present chunk for a missing one. Undefined when
 * the view has no consolidated metadata.
 */
export async function storeListing(view: ListableStore, path: string): Promise<ServedBody | undefined> {
  let byPath = listings.get(view);
  const cached = byPath?.get(path);
  if (cached) return cached;
  const consolidated = view.metadata('.zmetadata');
  if (!consolidated) return undefined;
  const text = new TextDecoder().decode(await consolidated.read(0, consolidated.size));
  const body = listingBody(path, view, topLevelNames(text));
  if (!byPath) {
    byPath = new Map();
    listings.set(view, byPath);
  }
  if (byPath.size >= MAX_PATHS_PER_VIEW) byPath.clear();
  byPath.set(path, body);
  return body;
}

/** The first path segment of every key of a `.zmetadata` document that lies below the root. */
export function topLevelNames(consolidatedText: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(consolidatedText);
  } catch {
    return [];
  }
  const metadata = (parsed as { metadata?: unknown } | null)?.metadata;
  if (typeof metadata !== 'object' || metadata === null) return [];
  const names = new Set<string>();
  for (const key of Object.keys(metadata)) {
    const slash = key.indexOf('/');
    if (slash > 0) names.add(key.slice(0, slash));
  }
  return [...names].sort();
}

function listingBody(path: string, view: ListableStore, directories: readonly string[]): ServedBody {
  const title = `Index of ${escapeText(path)}`;
  const date = '01-Jan-1970 00:00';
  const line = (name: string, size: string): string => {
    const href = escapeText(encodeURIComponent(name.replace(/\/$/, '')) + (name.endsWith('/') ? '/' : ''));
    const shown = escapeText(name);
    return `<a href="${href}">${shown}</a>${' '.repeat(Math.max(1, 51 - name.length))}${date}${size.padStart(20)}`;
  };
  const lines = ['<a href="../">../</a>'];
  for (const name of directories) lines.push(line(`${name}/`, '-'));
  for (const name of ROOT_DOCUMENTS) {
    const document = view.metadata(name);
    if (document) lines.push(line(name, String(document.size)));
  }
  const html = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<h1>${title}</h1><hr><pre>${lines.join('\r\n')}\r\n</pre><hr></body>\r\n</html>\r\n`;
  const bytes = new TextEncoder().encode(html);
  return bytesBody(bytes, etagOf(bytes), 'text/html; charset=utf-8', 'public, max-age=60');
}

function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
