import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { type BudgetLimits, LazyBudget, RequestBudget, withBudget } from '../../kerchunk/request-budget.js';
import { type AccessOptions, accessRecorder } from './access.js';
import { EVERY_RESPONSE_HEADERS, preflight } from './cors.js';
import { nodeBindings } from './node-bindings.js';
import { requestIdOf } from './request-id.js';
import { trackResponse } from './response-lifetime.js';

export interface RequestFrameOptions extends AccessOptions {
  /** Work one request may cause. */
  readonly budget: BudgetLimits;
}

/**
 * Everything every request gets, in one middleware (one async frame instead of five: each cost
 * several µs on a cached answer):
 * - CORS preflights (`OPTIONS`) answered here;
 * - a request id (`c.get('requestId')`, the client's `X-Request-Id` when sane) sent back as `X-Request-Id`;
 * - CORS `*` and `X-Content-Type-Options: nosniff` on every response, errors included — set on the
 *   Node response before the answer exists (Node merges them into the head it writes; headers the
 *   answer itself sets win), so no answer is rebuilt to carry them;
 * - a budget (chunks, decoded bytes, wall time until the answer starts), made on first use and
 *   aborted when the client goes away; the readers find it through `currentBudget()`;
 * - an in-flight gauge, the request metrics and the access line (see access.ts).
 */
export function requestFrame(options: RequestFrameOptions): MiddlewareHandler {
  const record = accessRecorder(options);
  const { metrics, budget: limits } = options;
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c);
    const started = performance.now();
    const node = nodeBindings(c);
    const id = requestIdOf(node ? headerOf(node.incoming.headers['x-request-id']) : c.req.header('x-request-id'));
    c.set('requestId', id);
    if (node) {
      const { outgoing } = node;
      for (const [name, value] of EVERY_RESPONSE_HEADERS) outgoing.setHeader(name, value);
      outgoing.setHeader('x-request-id', id);
    }
    const done = metrics.requestStarted();
    const budget = lazyBudget(limits, started, () => clientSignal(c));
    try {
      await withBudget(budget, next);
    } finally {
      budget.answered();
      done();
    }
    if (!node) everyResponseHeaders(c, id);
    record(c, started, id);
    return undefined;
  };
}

/**
 * A request's budget, made on first use (most requests never use it); its wall time still counts
 * from `started`. `clientSignal`: the request's client signal, made on first use too.
 */
export function lazyBudget(limits: BudgetLimits, started: number, clientSignal: () => AbortSignal): LazyBudget {
  return new LazyBudget((signal) => new RequestBudget(limits, signal, started), clientSignal);
}

export function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Without a Node response (`app.request()`): the headers go on the answer itself. */
function everyResponseHeaders(c: Context, id: string): void {
  const headers = c.res.headers;
  for (const [name, value] of EVERY_RESPONSE_HEADERS) headers.set(name, value);
  headers.set('x-request-id', id);
  if (c.req.method === 'HEAD') {
    // hono answers HEAD with `new Response(null, getResponse)`; @hono/node-server's Response then
    // copies the headers the response was *created* with, dropping the ones set on it since.
    // Hand it a response whose headers are the final ones.
    c.res = new Response(null, { status: c.res.status, headers: new Headers(headers) });
  }
}

/**
 * A signal aborted when the client goes away, as @hono/node-server aborts the request's own: the
 * response closed before it was finished, or the request failed. Made from the Node response
 * itself, because asking for `c.req.raw.signal` makes node-server build a whole Request (about
 * 40 µs, the largest cost of a cached answer). Without a Node response (`app.request()` in
 * tests) the request's own signal is used. The signal also leads to the Node response
 * (response-lifetime.ts), so a body can learn when its bytes have left.
 */
function clientSignal(c: Context): AbortSignal {
  const node = nodeBindings(c);
  return node ? nodeClientSignal(node.incoming, node.outgoing) : c.req.raw.signal;
}

/** The controller of a response's client signal, kept on the response (one listener function for all of them). */
const CLIENT = Symbol('client signal');
type Watched = ServerResponse & { [CLIENT]?: AbortController };

/**
 * The client signal of a Node request and response (see `clientSignal`): one per response, the
 * same one when asked again (a request the fast lane hands to the app after reading has one already).
 */
export function nodeClientSignal(incoming: IncomingMessage, outgoing: ServerResponse): AbortSignal {
  const watched = outgoing as Watched;
  const made = watched[CLIENT];
  if (made !== undefined) return made.signal;
  if (outgoing.closed) {
    const reason = goneReason(incoming, outgoing);
    return reason === undefined ? new AbortController().signal : AbortSignal.abort(clientGoneError(reason));
  }
  const controller = new AbortController();
  watched[CLIENT] = controller;
  // 'close' comes once: a plain listener, shared (`once` would wrap it per response)
  outgoing.on('close', clientGone);
  trackResponse(controller.signal, outgoing);
  return controller.signal;
}

/** Aborts a response's client signal when it closed before it was finished, or its request failed. */
function clientGone(this: Watched): void {
  const reason = goneReason(this.req, this);
  if (reason !== undefined) this[CLIENT]?.abort(clientGoneError(reason));
}

/**
 * The abort reason of a client that left: an AbortError, so that whatever rethrows the signal's
 * reason (a source read, a codec job) ends the request as cancelled (a 503 nobody reads, logged
 * as a warning), not as an unexpected error (a string reason was wrapped into a 500 and logged
 * with a stack for every client that left mid-chunk).
 */
function clientGoneError(reason: string): DOMException {
  return new DOMException(reason, 'AbortError');
}

function goneReason(incoming: IncomingMessage, outgoing: ServerResponse): string | undefined {
  if (incoming.errored) return incoming.errored.toString();
  return outgoing.writableFinished ? undefined : 'Client connection prematurely closed.';
}
