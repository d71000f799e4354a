import type { IncomingMessage, ServerResponse } from 'node:http';
import { datasetIdProblem } from '../../catalog/catalog-file.js';
import type { Dataset } from '../../catalog/dataset.js';
import { type BudgetLimits, type LazyBudget, withBudget } from '../../kerchunk/request-budget.js';
import { keyProblem } from '../../kerchunk/zarr-keys.js';
import { type AccessOptions, accessLog } from './access.js';
import { EVERY_RESPONSE_HEADERS } from './cors.js';
import { headerOf, lazyBudget, nodeClientSignal } from './request-frame.js';
import { requestIdOf } from './request-id.js';
import { type Answer, answerOf, declaredLength, headersObject, type ServedBody } from './served-body.js';
import { SENDFILE_MIN_BYTES, STREAM_PIECE_BYTES, type StoreView, sendBodyFile } from './store-routes.js';

/** A Node request listener (what `http.createServer` takes). */
export type NodeListener = (incoming: IncomingMessage, outgoing: ServerResponse) => void;

/** A store face the fast lane answers: `/datasets/{id}/<prefix>/{key}`, served by the routes of `route`. */
export interface FastStoreFace {
  readonly prefix: string;
  /** The pattern of the route the face's answers are counted and logged under (`/datasets/:id/kerchunk/*`). */
  readonly route: string;
  readonly view: (dataset: Dataset) => StoreView;
}

/** Where a request the fast lane takes goes in the app, what it needs from it. */
export interface FastLaneOptions extends AccessOptions {
  readonly faces: readonly FastStoreFace[];
  /** Work one request may cause (the request frame's). */
  readonly budget: BudgetLimits;
  /** The dataset of an id, as the app's `/datasets/:id` resolver finds it. */
  dataset(id: string): Dataset | undefined;
  /** Whether anyone may read `dataset` without a look at the request (no `access` rule on it nor on what it is derived from). */
  isPublic(dataset: Dataset): boolean;
  /** The app's answer to an error thrown while answering (its error handler's). */
  errorAnswer(error: Error, request: { readonly requestId: string; readonly method: string; readonly path: string }): Response;
}

/** The headers every answer carries (cors.ts), as flat header fields a head starts with. */
const EVERY_FIELD: readonly string[] = EVERY_RESPONSE_HEADERS.flat();
const EVERY_HEADER: Readonly<Record<string, string>> = Object.fromEntries(EVERY_RESPONSE_HEADERS);

/** Paths the lane reads itself: no percent-escapes, no query trickery; the rest is the app's. */
const PLAIN_PATH = /^\/datasets\/[A-Za-z0-9._\-/]+$/;

/**
 * The fast lane (issue #14): GET and HEAD of a store key of a public dataset — the hottest
 * requests, a cached `.zmetadata` or a chunk — answered on the Node request itself, without
 * building a Request, routing, composing middleware or making a Response. Every guarantee of the
 * app's path is kept by the same code, not a copy of it: the answer is `answerOf` (ETag/304,
 * Range/206/416, HEAD), the access line and metrics are `accessLog`, errors are the app's own
 * answer (`errorAnswer`), the budget is the request frame's around the work (chunks), the
 * headers every answer carries are cors.ts's and the request id's.
 *
 * Anything else goes to `fallback` (the app) untouched: other methods, paths with escapes,
 * empty, `.` or `..` segments, a query other than ignored, ids and keys the app refuses, unknown
 * datasets, protected ones (their access decision is the app's), keys the view does not have
 * (404s), and answers large enough to be streamed. A request handed over after its body was
 * looked up (a 404, a large chunk) costs that lookup twice; those are not the hot ones.
 */
export function fastStoreLane(options: FastLaneOptions, fallback: NodeListener): NodeListener {
  const faces = new Map(options.faces.map((face) => [face.prefix, face]));
  const record = accessLog(options);
  const { metrics, budget: limits } = options;
  return (incoming, outgoing) => {
    const method = incoming.method;
    const url = incoming.url;
    if ((method !== 'GET' && method !== 'HEAD') || url === undefined || !url.startsWith('/datasets/')) return fallback(incoming, outgoing);
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (!PLAIN_PATH.test(path)) return fallback(incoming, outgoing);
    const segments = path.split('/');
    // ['', 'datasets', id, prefix, ...key]
    const face = faces.get(segments[3] ?? '');
    if (face === undefined || segments.length < 5 || segments.some((segment, i) => i > 0 && (segment === '' || segment === '.' || segment === '..'))) {
      return fallback(incoming, outgoing);
    }
    const id = segments[2] as string;
    const key = segments.slice(4).join('/');
    if (datasetIdProblem(id) !== undefined || keyProblem(key) !== undefined) return fallback(incoming, outgoing);
    const dataset = options.dataset(id);
    if (dataset === undefined || !options.isPublic(dataset)) return fallback(incoming, outgoing);

    const started = performance.now();
    const headers = incoming.headers;
    const requestId = requestIdOf(headerOf(headers['x-request-id']));
    const done = metrics.requestStarted();
    const finish = (status: number, bytes: number | undefined): void => {
      done();
      record({ requestId, method, path, route: face.route, status, started, bytes });
    };
    const handOver = (): void => {
      done();
      fallback(incoming, outgoing);
    };
    const fail = (error: unknown): void => {
      if (outgoing.headersSent) {
        outgoing.destroy(error instanceof Error ? error : undefined);
        return;
      }
      const response = options.errorAnswer(error instanceof Error ? error : new Error(String(error)), { requestId, method, path });
      finish(response.status, declaredLength(response));
      writeResponse(outgoing, response, requestId, method).catch((failure: unknown) => outgoing.destroy(failure instanceof Error ? failure : undefined));
    };
    /** Writes a decided answer (`bytes`: its body, none for a HEAD or a 304); `budget` is told the answer started. */
    const write = (decided: Answer, bytes: Uint8Array | string | undefined, budget: LazyBudget | undefined): undefined => {
      budget?.answered();
      // a 416 declares no length to the access log and metrics, as a Response made of text does not
      finish(decided.status, decided.status === 200 || decided.status === 206 ? decided.end - decided.start : undefined);
      outgoing.writeHead(decided.status, headFields(decided, requestId, method)).end(bytes);
      return undefined;
    };
    /**
     * Answers with `body`: at once when nothing has to be read (a HEAD, a 304, a 416, bytes in
     * memory), else once its bytes are read or its file's head sent. `budget`: the request's,
     * when it has one (a chunk).
     */
    const answer = (body: ServedBody, budget?: LazyBudget): Promise<void> | undefined => {
      const decided = answerOf(method, headerOf(headers['if-none-match']), headerOf(headers.range), body);
      if (decided.status === 304) return write(decided, undefined, budget);
      if (decided.status === 416) return write(decided, decided.problem, budget);
      if (!decided.send) return write(decided, undefined, budget);
      const { start, end } = decided;
      if (body.bytes !== undefined && end - start <= STREAM_PIECE_BYTES) return write(decided, body.bytes.subarray(start, end), budget);
      return (async () => {
        if (end - start >= SENDFILE_MIN_BYTES && budget !== undefined) {
          // a large range of a local file: sendfile(2), as the store routes send it
          const head = headersObject(headFields(decided, requestId, method));
          if (await sendBodyFile(outgoing, decided.status, head, body, start, end, budget.clientSignal)) {
            budget.answered();
            finish(decided.status, end - start);
            return;
          }
        }
        // large answers are streamed by the app (store-routes.ts), never read at once
        if (end - start > STREAM_PIECE_BYTES) return handOver();
        write(decided, await body.read(start, end), budget);
      })();
    };

    let view: StoreView;
    let metadata: ServedBody | undefined;
    try {
      view = face.view(dataset);
      metadata = view.metadata(key);
    } catch (error) {
      return fail(error);
    }
    if (metadata !== undefined) {
      try {
        answer(metadata)?.catch(fail);
      } catch (error) {
        fail(error);
      }
      return;
    }
    // a chunk: work happens, under the request's budget as on the app's path
    const budget = lazyBudget(limits, started, () => nodeClientSignal(incoming, outgoing));
    withBudget(budget, async () => {
      const body = await view.chunk(key, budget.clientSignal);
      if (body !== undefined) return answer(body, budget);
      budget.answered();
      handOver(); // the app's 404
    }).catch((error: unknown) => {
      budget.answered();
      fail(error);
    });
  };
}

/** The head of an answer as flat fields: the headers every answer carries, then its own. */
function headFields(answer: Answer, requestId: string, method: string): string[] {
  const head = [...EVERY_FIELD, 'x-request-id', requestId, ...answer.fields];
  // a text body gets its length when written (@hono/node-server does the same); a HEAD has none
  if (answer.status === 416 && method !== 'HEAD') head.push('content-length', String(Buffer.byteLength(answer.problem)));
  return head;
}

/** Writes a whole Response (an error's) as @hono/node-server would, with the headers every answer carries. */
async function writeResponse(outgoing: ServerResponse, response: Response, requestId: string, method: string): Promise<void> {
  const bytes = response.body && method !== 'HEAD' ? new Uint8Array(await response.arrayBuffer()) : undefined;
  const head: Record<string, string> = { ...EVERY_HEADER, 'x-request-id': requestId };
  response.headers.forEach((value, name) => {
    head[name] = value;
  });
  if (bytes !== undefined && head['content-length'] === undefined) head['content-length'] = String(bytes.byteLength);
  outgoing.writeHead(response.status, head).end(bytes);
}
