import type { ServerResponse } from 'node:http';

/**
 * The Node response behind a request's client signal (request-frame.ts), kept on the signal
 * itself: a WeakMap entry per request cost a write barrier and ephemeron work in every scavenge.
 */
const RESPONSE = Symbol('node response');
type Tracked = AbortSignal & { [RESPONSE]?: ServerResponse };

export function trackResponse(signal: AbortSignal, outgoing: ServerResponse): void {
  (signal as Tracked)[RESPONSE] = outgoing;
}

/**
 * Calls `done` once the response of the request whose client signal is `signal` is over: all
 * its bytes handed to the kernel, or the connection gone. Returns false (and never calls `done`)
 * when the signal belongs to no Node response (tests through `app.request()`, work outside a
 * request): then whoever handed out bytes cannot know when they are no longer used.
 */
export function whenResponseOver(signal: AbortSignal | undefined, done: () => void): boolean {
  const outgoing = signal && (signal as Tracked)[RESPONSE];
  if (!outgoing) return false;
  if (outgoing.closed) {
    queueMicrotask(done);
    return true;
  }
  // 'close' follows 'finish' on a finished response, and comes alone when the connection breaks
  outgoing.once('close', done);
  return true;
}
