import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../server/http/json-depth.js';
import { HttpProblem } from '../../server/http/problem.js';
import { readBodyLimited } from '../../server/http/request-body.js';

/**
 * The JSON body of a request, read with a size limit: a declared Content-Length over the limit is
 * refused before reading (413), and so is a body that grows past it while streaming (chunked
 * uploads declare nothing). Only `application/json` (and `+json` types) are accepted (415); the
 * text must be UTF-8, parse, and nest no deeper than MAX_JSON_DEPTH (400).
 */
export async function readJsonBody(request: Request, limitBytes: number): Promise<unknown> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new HttpProblem(415, 'Unsupported Media Type', 'send the dataset as application/json');
  }
  const bytes = await readBodyLimited(request, limitBytes, () => tooLarge(limitBytes));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpProblem(400, 'Bad Request', 'the body is not UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpProblem(400, 'Bad Request', `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (jsonDepthExceeds(value, MAX_JSON_DEPTH)) throw new HttpProblem(400, 'Bad Request', `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

function tooLarge(limitBytes: number): HttpProblem {
  return new HttpProblem(413, 'Content Too Large', `the body is larger than ${limitBytes} bytes`);
}
