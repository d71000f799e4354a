import type { IncomingMessage, ServerResponse } from 'node:http';
import { datasetIdProblem } from '../../catalog/catalog-file.js';
import type { Dataset } from '../../catalog/dataset.js';
import { type BudgetLimits, type LazyBudget, withBudget } from '../../kerchunk/request-budget.js';
import { keyProblem } from '../../kerchunk/zarr-keys.js';
import { type AccessOptions, type AccessSample, accessLog } from './access.js';
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
  const lane: Lane = { record: accessLog(options), errorAnswer: options.errorAnswer, fallback };
  const { metrics, budget: limits } = options;
  return (incoming, outgoing) => {
    const method = incoming.method;
    const url = incoming.url;
    if ((method !== 'GET' && method !== 'HEAD') || url === undefined || !url.startsWith(DATASETS)) return fallback(incoming, outgoing);
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (!PLAIN_PATH.test(path)) return fallback(incoming, outgoing);
    // /datasets/{id}/{prefix}/{key}: the id and the key are checked by the app's own rules below
    // (no empty, `.` or `..` segment passes them), the prefix by being a face's
    const idEnd = path.indexOf('/', DATASETS.length);
    const prefixEnd = idEnd < 0 ? -1 : path.indexOf('/', idEnd + 1);
    if (prefixEnd < 0) return fallback(incoming, outgoing);
    const face = faces.get(path.slice(idEnd + 1, prefixEnd));
    if (face === undefined) return fallback(incoming, outgoing);
    const id = path.slice(DATASETS.length, idEnd);
    const key = path.slice(prefixEnd + 1);
    if (datasetIdProblem(id) !== undefined || keyProblem(key) !== undefined) return fallback(incoming, outgoing);
    const dataset = options.dataset(id);
    if (dataset === undefined || !options.isPublic(dataset)) return fallback(incoming, outgoing);

    const started = performance.now();
    const request = new LaneRequest(lane, incoming, outgoing, method, path, face.route, started, metrics.requestStarted());
    let view: StoreView;
    let metadata: ServedBody | undefined;
    try {
      view = face.view(dataset);
      metadata = view.metadata(key);
    } catch (error) {
      return request.fail(error);
    }
    if (metadata !== undefined) {
      try {
        request.answer(metadata, undefined)?.catch((error: unknown) => request.fail(error));
      } catch (error) {
        request.fail(error);
      }
      return;
    }
    // a chunk: work happens, under the request's budget as on the app's path
    const budget = lazyBudget(limits, started, () => nodeClientSignal(incoming, outgoing));
    withBudget(budget, () => request.chunk(view, key, budget)).catch((error: unknown) => {
      budget.answered();
      request.fail(error);
    });
  };
}

const DATASETS = '/datasets/';

/** What every request of a lane shares. */
interface Lane {
  readonly record: (sample: AccessSample) => void;
  readonly errorAnswer: FastLaneOptions['errorAnswer'];
  readonly fallback: NodeListener;
}

/**
 * One request the lane took: a single object instead of a closure per step (a cached answer is
 * a few µs of JavaScript; each closure and its context is garbage).
 */
class LaneRequest {
  readonly requestId: string;

  constructor(
    private readonly lane: Lane,
    private readonly incoming: IncomingMessage,
    private readonly outgoing: ServerResponse,
    private readonly method: string,
    private readonly path: string,
    private readonly route: string,
    private readonly started: number,
    /** Ends the in-flight count (metrics). */
    private readonly done: () => void,
  ) {
    this.requestId = requestIdOf(headerOf(incoming.headers['x-request-id']));
  }

  /** Counts and logs the answer (`bytes`: its declared length). */
  finish(status: number, bytes: number | undefined): void {
    this.done();
    const { requestId, method, path, route, started } = this;
    this.lane.record({ requestId, method, path, route, status, started, bytes });
  }

  /** Leaves the request to the app. */
  handOver(): void {
    this.done();
    this.lane.fallback(this.incoming, this.outgoing);
  }

  /** Answers an error thrown while answering as the app does (or cuts the connection once the head is out). */
  fail(error: unknown): void {
    const { outgoing, requestId, method, path } = this;
    if (outgoing.headersSent) {
      outgoing.destroy(error instanceof Error ? error : undefined);
      return;
    }
    const response = this.lane.errorAnswer(error instanceof Error ? error : new Error(String(error)), { requestId, method, path });
    this.finish(response.status, declaredLength(response));
    writeResponse(outgoing, response, requestId, method).catch((failure: unknown) => outgoing.destroy(failure instanceof Error ? failure : undefined));
  }

  /** The chunk `key` of `view`, or the app's 404. */
  async chunk(view: StoreView, key: string, budget: LazyBudget): Promise<void> {
    const body = await view.chunk(key, budget.clientSignal);
    if (body !== undefined) return this.answer(body, budget);
    budget.answered();
    this.handOver(); // the app's 404
  }

  /**
   * Answers with `body`: at once when nothing has to be read (a HEAD, a 304, a 416, bytes in
   * memory), else once its bytes are read or its file's head sent. `budget`: the request's,
   * when it has one (a chunk).
   */
  answer(body: ServedBody, budget: LazyBudget | undefined): Promise<void> | undefined {
    const headers = this.incoming.headers;
    // the headers every answer carries lead the answer's own
    const head = EVERY_FIELD.slice();
    head.push('x-request-id', this.requestId);
    const decided = answerOf(this.method, headerOf(headers['if-none-match']), headerOf(headers.range), body, head);
    if (decided.status === 304) return this.write(decided, undefined, budget);
    if (decided.status === 416) return this.write(decided, decided.problem, budget);
    if (!decided.send) return this.write(decided, undefined, budget);
    const { start, end } = decided;
    const bytes = body.bytes;
    if (bytes !== undefined && end - start <= STREAM_PIECE_BYTES) {
      return this.write(decided, start === 0 && end === bytes.byteLength ? bytes : bytes.subarray(start, end), budget);
    }
    return this.read(decided, body, budget);
  }

  /** Answers with bytes [start, end) of `body` read (or sent from its file). */
  private async read(decided: Answer & { readonly status: 200 | 206 }, body: ServedBody, budget: LazyBudget | undefined): Promise<void> {
    const { start, end } = decided;
    if (end - start >= SENDFILE_MIN_BYTES && budget !== undefined) {
      // a large range of a local file: sendfile(2), as the store routes send it
      const head = headersObject(headFields(decided, this.method));
      if (await sendBodyFile(this.outgoing, decided.status, head, body, start, end, budget.clientSignal)) {
        budget.answered();
        this.finish(decided.status, end - start);
        return;
      }
    }
    // large answers are streamed by the app (store-routes.ts), never read at once
    if (end - start > STREAM_PIECE_BYTES) return this.handOver();
    this.write(decided, await body.read(start, end), budget);
  }

  /** Writes a decided answer (`bytes`: its body, none for a HEAD or a 304); `budget` is told the answer started. */
  private write(decided: Answer, bytes: Uint8Array | string | undefined, budget: LazyBudget | undefined): undefined {
    budget?.answered();
    // a 416 declares no length to the access log and metrics, as a Response made of text does not
    this.finish(decided.status, decided.status === 200 || decided.status === 206 ? decided.end - decided.start : undefined);
    this.outgoing.writeHead(decided.status, headFields(decided, this.method)).end(bytes);
    return undefined;
  }
}

/** The head of an answer as flat fields (its `fields` lead with the headers every answer carries). */
function headFields(answer: Answer, method: string): string[] {
  // a text body gets its length when written (@hono/node-server does the same); a HEAD has none
  if (answer.status === 416 && method !== 'HEAD') answer.fields.push('content-length', String(Buffer.byteLength(answer.problem)));
  return answer.fields;
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
