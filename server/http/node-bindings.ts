import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';

/** The Node request and response behind a hono context (absent under `app.request()` in tests). */
export interface NodeBindings {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
}

export function nodeBindings(c: Context): NodeBindings | undefined {
  const env = c.env as Partial<NodeBindings> | undefined;
  return env?.incoming && env.outgoing ? (env as NodeBindings) : undefined;
}

/**
 * A request header (lower-case name), read from Node's parsed headers when there are some:
 * `c.req.header()` makes @hono/node-server build a whole Headers object from the raw headers
 * (several µs, a large part of a cached answer). Repeated headers are joined with ", " either way.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as Partial<NodeBindings> | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
