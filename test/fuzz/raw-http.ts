import { request } from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Sent exactly as given (no URL normalisation: `..`, `%2F`, `%00` reach the server). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/**
 * One request over a fresh loopback connection with node:http, which (unlike fetch) leaves the
 * path alone, so the server sees dot segments and encoded slashes as a hostile client sends them.
 * Rejects when the server does not answer within `timeoutMs` (a hang is a failure, not a wait).
 */
export function rawRequest(baseUrl: string, req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers: { connection: 'close', ...req.headers },
        agent: false,
      },
      (incoming) => {
        const parts: Buffer[] = [];
        incoming.on('data', (part: Buffer) => parts.push(part));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(parts) }));
        incoming.on('error', reject);
      },
    );
    outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms: ${req.method} ${req.path}`)));
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/** Percent-encodes what node:http refuses in a request path (controls, spaces, non-ASCII), nothing else. */
export function pathSafe(text: string): string {
  return text.replace(/[^\x21-\x7e]/gu, (ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: what a browser sends for it
    }
  });
}
