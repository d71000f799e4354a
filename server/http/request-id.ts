import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

declare module 'hono' {
  interface ContextVariableMap {
    /** This request's id: the client's or proxy's `X-Request-Id` when sane, else a new UUID. */
    requestId: string;
  }
}

/** An incoming id is used only when it is short and of a safe charset (it ends up in logs and headers). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:+=/@-]{1,128}$/;

export function requestIdOf(header: string | undefined): string {
  return header !== undefined && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/** Gives every request an id (`c.get('requestId')`) and returns it as `X-Request-Id`, errors included. */
export const requestId = (): MiddlewareHandler => async (c, next) => {
  const id = requestIdOf(c.req.header('x-request-id'));
  c.set('requestId', id);
  await next();
  c.res.headers.set('x-request-id', id);
};
