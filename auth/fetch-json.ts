/**
 * A JSON document from an identity provider (discovery, JWKS, introspection), bounded: a timeout
 * for the whole exchange, a size limit on the body (Content-Length checked first, then the bytes
 * as they arrive), no redirects, and only a JSON object as an answer. Failures are FetchJsonError
 * with a message for the log (never for a client).
 */
export class FetchJsonError extends Error {
  override readonly name = 'FetchJsonError';
}

export interface FetchJsonOptions {
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_BYTES = 256 * 1024;

export async function fetchJson(url: string, options: FetchJsonOptions = {}): Promise<Record<string, unknown>> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const signal = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers: { accept: 'application/json', ...options.headers },
      ...(options.body !== undefined ? { body: options.body } : {}),
      redirect: 'error',
      signal,
    });
  } catch (error) {
    throw new FetchJsonError(`${url}: ${describe(error)}`);
  }
  try {
    if (!response.ok) throw new FetchJsonError(`${url}: HTTP ${response.status}`);
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    if (length > maxBytes) throw new FetchJsonError(`${url}: ${length} bytes, more than ${maxBytes}`);
    const text = await readBounded(response, maxBytes, url);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new FetchJsonError(`${url}: not JSON`);
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new FetchJsonError(`${url}: not a JSON object`);
    return document as Record<string, unknown>;
  } finally {
    if (!response.bodyUsed) await response.body?.cancel().catch(() => undefined);
  }
}

async function readBounded(response: Response, maxBytes: number, url: string): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new FetchJsonError(`${url}: more than ${maxBytes} bytes`);
      }
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof FetchJsonError) throw error;
    throw new FetchJsonError(`${url}: ${describe(error)}`);
  }
  return Buffer.concat(parts).toString('utf8');
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
