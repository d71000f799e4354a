import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestError } from '@hono/node-server';

const CORS = 'access-control-allow-origin: *\r\n';

function problemText(status: number, title: string, detail: string): string {
  return JSON.stringify({ type: 'about:blank', title, status, detail });
}

/**
 * Requests Node's HTTP parser refuses before any route sees them (an unknown method, a control
 * character in the path, headers over the size limit, headers or body not received within the
 * server's timeouts → 408): answered like every other error, a JSON
 * problem with CORS, instead of Node's bare `400` without a body or headers.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, title, detail] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'the request could not be parsed as HTTP/1.1']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'the request was not received in time']
          : [400, 'Bad Request', 'the request could not be parsed as HTTP/1.1'];
    const body = problemText(status, title, detail);
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json\r\ncache-control: no-store\r\n${CORS}` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

/**
 * For @hono/node-server's `errorHandler`: a request it cannot turn into a web Request (a backslash
 * in the path, a bad Host) is a 400 problem with CORS, not its empty text/plain 400.
 */
export function malformedRequestResponse(error: unknown): Response {
  const [status, title, detail] = error instanceof RequestError ? [400, 'Bad Request', error.message] : [500, 'Internal Server Error', 'unexpected error; see the server log'];
  return new Response(problemText(status, title, detail), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' },
  });
}
