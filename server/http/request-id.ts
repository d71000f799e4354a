import { randomUUID } from 'node:crypto';

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
