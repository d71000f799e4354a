import { datasetIdProblem } from '../../catalog/catalog-file.js';
import type { DatasetRecord } from '../../catalog/catalog-store.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { HttpProblem } from '../../server/http/problem.js';

/**
 * The JSON body of `POST /admin/datasets` and `PUT /admin/datasets/{id}`:
 *
 * ```json
 * {"id": "tas-daily", "refs": "refs/tas-daily.json", "title": "...", "description": "...",
 *  "license": "CC-BY-4.0", "processing": {...}, "stac": {...}}
 * ```
 *
 * `refs` is a path relative to the catalog file's directory (as in the catalog itself): a kerchunk
 * JSON file or a parquet reference directory. `id` is required by POST; PUT takes it from the URL
 * (a body `id` must then say the same). Unknown fields are refused, so typos do not vanish.
 */
const FIELDS = new Set(['id', 'refs', 'title', 'description', 'license', 'processing', 'stac']);
const MAX_REFS_LENGTH = 4096;
const MAX_TEXT_LENGTH = 16 * 1024;

export function datasetRecord(body: unknown, pathId?: string): DatasetRecord {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object');
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) throw bad(`unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${[...FIELDS].join(', ')}`);

  let id: string;
  if (pathId !== undefined) {
    if (fields.id !== undefined && fields.id !== pathId) throw bad(`"id" in the body (${JSON.stringify(fields.id)}) differs from the URL's "${pathId}"`);
    id = pathId;
  } else {
    if (typeof fields.id !== 'string') throw bad('"id" is required: the dataset id, text');
    id = fields.id;
  }
  const idProblem = datasetIdProblem(id);
  if (idProblem) throw bad(idProblem);

  const refs = fields.refs;
  if (typeof refs !== 'string' || refs.length === 0) throw bad('"refs" is required: the reference table\'s path, relative to the catalog');
  if (refs.length > MAX_REFS_LENGTH) throw bad(`"refs" is longer than ${MAX_REFS_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(refs)) throw bad('"refs" contains control characters');

  const record: { -readonly [K in keyof DatasetRecord]: DatasetRecord[K] } = { id, refs };
  for (const field of ['title', 'description', 'license'] as const) {
    const value = fields[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw bad(`"${field}" must be text`);
    if (value.length > MAX_TEXT_LENGTH) throw bad(`"${field}" is longer than ${MAX_TEXT_LENGTH} characters`);
    record[field] = value;
  }
  for (const field of ['processing', 'stac'] as const) {
    const value = fields[field];
    if (value === undefined) continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`"${field}" must be a JSON object`);
    record[field] = value as JsonValue;
  }
  return record;
}

function bad(detail: string): HttpProblem {
  return new HttpProblem(400, 'Bad Request', detail);
}
