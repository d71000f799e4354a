import { readFile, stat } from 'node:fs/promises';
import { request } from 'undici';

/**
 * Reads a small text document (an intake catalog, a JSON reference table) from a local path or
 * an http(s) URL, bounded in size and, for URLs, in time (undici: headers and body timeouts, the
 * body read until `maxBytes` and then abandoned). Redirects are not followed. Failures are
 * LocationErrors whose message is one line for the operator.
 */
export interface ReadLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = { maxBytes: 16 * 1024 * 1024, timeoutMs: 10_000 };

export class LocationError extends Error {
  override readonly name = 'LocationError';
}

export function isHttpUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

export async function readLocation(location: string, limits: ReadLimits = DEFAULT_READ_LIMITS): Promise<string> {
  return isHttpUrl(location) ? readUrl(location, limits) : readLocal(location, limits);
}

async function readLocal(path: string, limits: ReadLimits): Promise<string> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new LocationError(`${path}: not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof LocationError) throw error;
    throw new LocationError(
      `${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`}`,
    );
  }
  if (size > limits.maxBytes) throw new LocationError(`${path}: ${size} bytes, more than the ${limits.maxBytes} read at most`);
  const bytes = await readFile(path);
  if (bytes.byteLength > limits.maxBytes) throw new LocationError(`${path}: more than the ${limits.maxBytes} bytes read at most`);
  return decode(bytes, path);
}

async function readUrl(url: string, limits: ReadLimits): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    const response = await request(url, { method: 'GET', headersTimeout: limits.timeoutMs, bodyTimeout: limits.timeoutMs, signal: controller.signal });
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined);
      throw new LocationError(`${url}: HTTP ${response.statusCode}`);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      controller.abort();
      throw new LocationError(`${url}: ${declared} bytes, more than the ${limits.maxBytes} read at most`);
    }
    const parts: Buffer[] = [];
    let total = 0;
    for await (const part of response.body) {
      const chunk = part as Buffer;
      total += chunk.byteLength;
      if (total > limits.maxBytes) {
        controller.abort();
        throw new LocationError(`${url}: more than the ${limits.maxBytes} bytes read at most`);
      }
      parts.push(chunk);
    }
    return decode(Buffer.concat(parts), url);
  } catch (error) {
    if (error instanceof LocationError) throw error;
    if (controller.signal.aborted) throw new LocationError(`${url}: no complete answer within ${limits.timeoutMs} ms`);
    throw new LocationError(`${url}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

function decode(bytes: Buffer, where: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LocationError(`${where}: not UTF-8 text`);
  }
}
