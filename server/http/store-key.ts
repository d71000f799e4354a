import type { Context } from 'hono';
import { keyProblem } from '../../kerchunk/zarr-keys.js';
import { badRequest } from './problem.js';

/**
 * The store key of a request under `/datasets/{id}/{prefix}/{key...}`: the path segments after
 * the prefix, each percent-decoded. An encoded `/` or NUL inside a segment, `.`/`..` segments,
 * malformed escapes and over-long keys are 400: keys never reach a file system, but they must
 * name exactly one thing.
 */
export function storeKey(c: Context, segmentsBeforeKey = 3): string {
  const path = new URL(c.req.url).pathname;
  const segments = path.split('/').slice(1 + segmentsBeforeKey);
  const decoded = segments.map((segment) => {
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      throw badRequest(`malformed percent-encoding in key segment "${segment.slice(0, 64)}"`);
    }
    if (text.includes('/')) throw badRequest('an encoded "/" inside a key segment is not allowed');
    return text;
  });
  const key = decoded.join('/');
  const problem = keyProblem(key);
  if (problem) throw badRequest(problem);
  return key;
}
