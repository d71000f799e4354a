import { provJson } from './prov-json.js';
import type { ProvDocument } from './prov-model.js';
import { provN } from './prov-n.js';
import { provTurtle } from './prov-turtle.js';

export type ProvFormat = 'json' | 'provn' | 'turtle';

const BY_QUERY: Readonly<Record<string, ProvFormat>> = { json: 'json', provn: 'provn', 'prov-n': 'provn', ttl: 'turtle', turtle: 'turtle' };

const BY_TYPE: ReadonlyArray<readonly [string, ProvFormat]> = [
  ['application/json', 'json'],
  ['application/prov+json', 'json'],
  ['text/provenance-notation', 'provn'],
  ['text/turtle', 'turtle'],
];

/**
 * The format asked for: `?format=` first (json, provn, ttl), else the Accept header's most
 * preferred type strato writes; PROV-JSON when nothing is asked. Undefined: nothing acceptable.
 */
export function provFormat(query: string | undefined, accept: string | undefined): ProvFormat | undefined {
  if (query !== undefined) return Object.hasOwn(BY_QUERY, query.toLowerCase()) ? BY_QUERY[query.toLowerCase()] : undefined;
  if (!accept || accept.trim() === '') return 'json';
  const ranges = accept
    .slice(0, 2000)
    .split(',')
    .map((part, index) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { type, weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((range) => range.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const range of ranges) {
    if (range.type === '*/*' || range.type === 'application/*') return 'json';
    const found = BY_TYPE.find(([type]) => type === range.type);
    if (found) return found[1];
    if (range.type === 'text/*') return 'turtle';
  }
  return undefined;
}

export function renderProv(document: ProvDocument, format: ProvFormat): { body: string; type: string } {
  if (format === 'provn') return { body: provN(document), type: 'text/provenance-notation; charset=utf-8' };
  if (format === 'turtle') return { body: provTurtle(document), type: 'text/turtle; charset=utf-8' };
  return { body: `${JSON.stringify(provJson(document), null, 1)}\n`, type: 'application/json' };
}
