import type { JsonValue } from '../kerchunk/reference.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../server/http/json-depth.js';
import { badRequest, HttpProblem } from '../server/http/problem.js';
import { readBodyLimited } from '../server/http/request-body.js';

/** Largest execute request body read. */
const MAX_BODY_BYTES = 1 << 20;
/** Most inputs one request may name. */
const MAX_INPUTS = 64;

/** An OGC execute request, checked: the inputs by name (a Map: no prototype names), the response mode. */
export interface ExecuteRequest {
  readonly inputs: ReadonlyMap<string, JsonValue>;
  readonly response: 'raw' | 'document';
  /** The media type asked for each output named in `outputs`. */
  readonly formats: ReadonlyMap<string, string>;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

export async function parseExecute(request: Request): Promise<ExecuteRequest> {
  const type = request.headers.get('content-type') ?? 'application/json';
  if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(type)) throw new HttpProblem(415, 'Unsupported Media Type', 'the execute request is JSON (application/json)');
  const bytes = await readBodyLimited(request, MAX_BODY_BYTES, () => new HttpProblem(413, 'Content Too Large', `the execute request is larger than ${MAX_BODY_BYTES} bytes`));
  let body: unknown;
  try {
    body = bytes.byteLength === 0 ? {} : JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw badRequest('the execute request is no JSON');
  }
  if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) throw badRequest(`the execute request nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (!isObject(body)) throw badRequest('the execute request is a JSON object {"inputs": {...}}');
  const response = body.response ?? 'raw';
  if (response !== 'raw' && response !== 'document') throw badRequest('"response" is "raw" or "document"');
  const inputs = new Map<string, JsonValue>();
  const given = body.inputs ?? {};
  if (!isObject(given)) throw badRequest('"inputs" is an object of input name → value');
  const names = Object.keys(given);
  if (names.length > MAX_INPUTS) throw badRequest(`at most ${MAX_INPUTS} inputs`);
  for (const name of names) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name)) throw badRequest(`bad input name "${name.slice(0, 64)}"`);
    let value = given[name] as JsonValue;
    if (isObject(value) && Object.hasOwn(value, 'href')) throw badRequest(`input "${name}": inputs by reference (href) are not supported`);
    if (isObject(value) && Object.hasOwn(value, 'value')) value = value.value as JsonValue; // qualifiedValue
    inputs.set(name, value);
  }
  const formats = new Map<string, string>();
  const outputs = body.outputs ?? {};
  if (!isObject(outputs)) throw badRequest('"outputs" is an object of output name → {format: {mediaType}}');
  for (const name of Object.keys(outputs).slice(0, MAX_INPUTS)) {
    const output = outputs[name];
    const format = isObject(output) && isObject(output.format) ? output.format.mediaType : undefined;
    if (format !== undefined && typeof format !== 'string') throw badRequest(`output "${name.slice(0, 64)}": format.mediaType is a string`);
    if (typeof format === 'string') formats.set(name, format.slice(0, 200));
  }
  return { inputs, response, formats };
}
