import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpSource, type HttpSourceOptions } from './http-source.js';
import { SourceError } from './source-error.js';

const object = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 13) % 256);

type Handler = (request: IncomingMessage, response: ServerResponse, index: number) => void;

/** A loopback http server whose behaviour each test sets; it records requests and sockets. */
class TestServer {
  handler: Handler = serveRanges;
  requests: Array<{ method: string; url: string; range: string | undefined; encoding: string | undefined }> = [];
  sockets = 0;
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  origin = '';

  constructor() {
    this.server = createServer((request, response) => {
      this.requests.push({ method: request.method ?? '', url: request.url ?? '', range: request.headers.range, encoding: request.headers['accept-encoding'] });
      this.handler(request, response, this.requests.length - 1);
    });
    this.server.on('connection', (socket) => {
      this.sockets++;
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.handler = serveRanges;
    this.requests = [];
    this.sockets = 0;
    for (const socket of this.open) socket.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Serves `object` honouring single ranges, with an ETag. */
function serveRanges(request: IncomingMessage, response: ServerResponse): void {
  const headers = { etag: '"v1"', 'last-modified': 'Tue, 14 Nov 2023 22:13:20 GMT' };
  const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
  if (request.method === 'HEAD') {
    response.writeHead(200, { ...headers, 'content-length': object.length });
    response.end();
    return;
  }
  if (!match) {
    response.writeHead(200, { ...headers, 'content-length': object.length });
    response.end(object);
    return;
  }
  const start = Number(match[1]);
  if (start >= object.length) {
    response.writeHead(416, { 'content-range': `bytes */${object.length}` });
    response.end();
    return;
  }
  const end = Math.min(Number(match[2]), object.length - 1);
  response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${object.length}`, 'content-length': end - start + 1 });
  response.end(object.subarray(start, end + 1));
}

/** A raw TCP server for answers node:http will not produce (bodies shorter than announced). */
async function rawServer(onSocket: (socket: Socket) => void): Promise<{ origin: string; server: NetServer }> {
  const server = createNetServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const server = new TestServer();
const sources: HttpSource[] = [];
function source(options: HttpSourceOptions = {}): HttpSource {
  const created = new HttpSource({ retryDelayMs: 5, ...options });
  sources.push(created);
  return created;
}
const url = (path = '/data/object.nc') => `${server.origin}${path}`;

async function failure(promise: Promise<unknown>): Promise<SourceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
}

beforeAll(() => server.start());
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  server.reset();
});
afterAll(() => server.stop());

describe('HttpSource ranges', () => {
  it('reads a range with a Range request answered 206, asking for identity encoding', async () => {
    const bytes = await source().read(url(), 1000, 500);
    expect(bytes).toEqual(object.slice(1000, 1500));
    expect(server.requests).toEqual([{ method: 'GET', url: '/data/object.nc', range: 'bytes=1000-1499', encoding: 'identity' }]);
  });

  it('reuses keep-alive connections for sequential reads', async () => {
    const http = source();
    for (let i = 0; i < 10; i++) expect(await http.read(url(), i * 10, 10)).toEqual(object.slice(i * 10, i * 10 + 10));
    // undici may open a second socket while the first is still being marked idle; never one per read
    expect(server.sockets).toBeLessThanOrEqual(2);
  });

  it('opens at most `connections` sockets per origin', async () => {
    server.handler = (request, response) => setTimeout(() => serveRanges(request, response), 30);
    const http = source({ connections: 2 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => http.read(url(), i * 100, 100)));
    results.forEach((bytes, i) => expect(bytes).toEqual(object.slice(i * 100, i * 100 + 100)));
    expect(server.sockets).toBeLessThanOrEqual(2);
  });

  it('reads whole objects', async () => {
    expect(await source().readWhole(url())).toEqual(object);
    expect(server.requests[0]?.range).toBeUndefined();
  });

  it('reads whole objects sent without Content-Length, up to maxReadBytes', async () => {
    server.handler = (_request, response) => {
      response.writeHead(200);
      response.write(object.subarray(0, 50_000));
      response.end(object.subarray(50_000));
    };
    expect(await source().readWhole(url())).toEqual(object);
    const error = await failure(source({ maxReadBytes: 1000 }).readWhole(url()));
    expect(error.failure).toBe('bad-response');
    expect(error.message).toMatch(/read limit/);
  });

  it('slices a 200 answer with the whole body when the range ends within maxUnrangedBytes', async () => {
    server.handler = (_request, response) => {
      response.writeHead(200, { 'content-length': object.length });
      response.end(object);
    };
    expect(await source().read(url(), 5000, 100)).toEqual(object.slice(5000, 5100));
    const error = await failure(source({ maxUnrangedBytes: 1000 }).read(url(), 5000, 100));
    expect(error.failure).toBe('bad-response');
    expect(error.message).toMatch(/ignores Range/);
  });

  it('slices a chunked 200 answer too, and gives short-read when it ends first', async () => {
    server.handler = (_request, response) => {
      response.writeHead(200);
      response.write(object.subarray(0, 3000));
      response.end(object.subarray(3000, 6000));
    };
    expect(await source().read(url(), 2990, 20)).toEqual(object.slice(2990, 3010));
    expect((await failure(source({ retries: 0 }).read(url(), 5990, 20))).failure).toBe('short-read');
  });

  it('gives short-read when the object ends inside the range, or the range starts beyond it (416)', async () => {
    const http = source();
    const inside = await failure(http.read(url(), object.length - 10, 20));
    expect(inside.failure).toBe('short-read');
    expect(inside.message).toContain(String(object.length));
    expect((await failure(http.read(url(), object.length + 10, 20))).failure).toBe('short-read');
    expect(server.requests).toHaveLength(2);
  });

  it('refuses a Content-Range that does not match the request, or none at all', async () => {
    server.handler = (_request, response) => {
      response.writeHead(206, { 'content-range': 'bytes 0-9/100000', 'content-length': 10 });
      response.end(object.subarray(0, 10));
    };
    expect((await failure(source().read(url(), 50, 10))).failure).toBe('bad-response');
    server.handler = (_request, response) => {
      response.writeHead(206, { 'content-length': 10 });
      response.end(object.subarray(0, 10));
    };
    expect((await failure(source().read(url(), 0, 10))).failure).toBe('bad-response');
  });

  it('refuses a compressed answer', async () => {
    server.handler = (_request, response) => {
      response.writeHead(206, { 'content-range': 'bytes 0-9/100000', 'content-length': 10, 'content-encoding': 'gzip' });
      response.end(object.subarray(0, 10));
    };
    expect((await failure(source().read(url(), 0, 10))).failure).toBe('bad-response');
  });
});

describe('HttpSource failures and retries', () => {
  it('maps 404 and 410 to not-found without retrying', async () => {
    server.handler = (_request, response, index) => {
      response.writeHead(index === 0 ? 404 : 410);
      response.end('gone');
    };
    const http = source();
    const error = await failure(http.read(url(), 0, 10));
    expect(error.failure).toBe('not-found');
    expect(error.message).toContain(url());
    expect((await failure(http.read(url(), 0, 10))).failure).toBe('not-found');
    expect(server.requests).toHaveLength(2);
  });

  it('maps other 4xx to bad-response without retrying', async () => {
    server.handler = (_request, response) => {
      response.writeHead(403);
      response.end();
    };
    expect((await failure(source().read(url(), 0, 10))).failure).toBe('bad-response');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 5xx answer and then succeeds', async () => {
    server.handler = (request, response, index) => {
      if (index === 0) {
        response.writeHead(503);
        response.end('busy');
        return;
      }
      serveRanges(request, response);
    };
    expect(await source().read(url(), 10, 10)).toEqual(object.slice(10, 20));
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after `retries` retries with unavailable', async () => {
    server.handler = (_request, response) => {
      response.writeHead(500);
      response.end();
    };
    const error = await failure(source({ retries: 2 }).read(url(), 0, 10));
    expect(error.failure).toBe('unavailable');
    expect(server.requests).toHaveLength(3);
  });

  it('retries after the connection is reset, then succeeds', async () => {
    server.handler = (request, response, index) => {
      if (index === 0) {
        request.socket.destroy();
        return;
      }
      serveRanges(request, response);
    };
    expect(await source().read(url(), 0, 10)).toEqual(object.slice(0, 10));
    expect(server.requests).toHaveLength(2);
  });

  it('gives timeout when the server never answers', async () => {
    server.handler = () => undefined;
    const started = Date.now();
    const error = await failure(source({ timeoutMs: 200, retries: 1 }).read(url(), 0, 10));
    expect(error.failure).toBe('timeout');
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('gives timeout when the body stalls', async () => {
    server.handler = (_request, response) => {
      response.writeHead(206, { 'content-range': 'bytes 0-99/100000', 'content-length': 100 });
      response.write(object.subarray(0, 10));
    };
    const error = await failure(source({ timeoutMs: 200, retries: 0 }).read(url(), 0, 100));
    expect(error.failure).toBe('timeout');
  });

  it('bounds a whole attempt with attemptTimeoutMs against trickling servers', async () => {
    server.handler = (_request, response) => {
      response.writeHead(206, { 'content-range': 'bytes 0-99/100000', 'content-length': 100 });
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= 100 || response.destroyed) return clearInterval(timer);
        response.write(object.subarray(sent, sent + 1));
        sent++;
      }, 20);
    };
    const error = await failure(source({ attemptTimeoutMs: 300, retries: 0 }).read(url(), 0, 100));
    expect(error.failure).toBe('timeout');
  });

  it('gives short-read when the body ends before its Content-Length, after retrying', async () => {
    let connections = 0;
    const raw = await rawServer((socket) => {
      connections++;
      socket.once('data', () => {
        socket.end('HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-99/1000\r\ncontent-length: 100\r\n\r\n' + 'x'.repeat(40));
      });
    });
    try {
      const error = await failure(source({ retries: 1 }).read(`${raw.origin}/f.nc`, 0, 100));
      expect(error.failure).toBe('short-read');
      expect(connections).toBe(2);
    } finally {
      raw.server.close();
    }
  });

  it('gives unavailable when nothing listens', async () => {
    const raw = await rawServer(() => undefined);
    const origin = raw.origin;
    await new Promise((resolve) => raw.server.close(resolve));
    expect((await failure(source({ retries: 1 }).read(`${origin}/f.nc`, 0, 10))).failure).toBe('unavailable');
  });

  it('gives bad-response for a malformed answer', async () => {
    const raw = await rawServer((socket) => socket.once('data', () => socket.end('this is not http\r\n\r\n')));
    try {
      expect((await failure(source({ retries: 0 }).read(`${raw.origin}/f.nc`, 0, 10))).failure).toBe('bad-response');
    } finally {
      raw.server.close();
    }
  });

  it('rethrows the caller abort without retrying', async () => {
    server.handler = () => undefined;
    const controller = new AbortController();
    const pending = source({ timeoutMs: 5000 }).read(url(), 0, 10, controller.signal);
    setTimeout(() => controller.abort(new Error('client went away')), 50);
    await expect(pending).rejects.toThrow('client went away');
    expect(server.requests).toHaveLength(1);
  });
});

describe('HttpSource redirects', () => {
  it('does not follow redirects by default, naming the target', async () => {
    server.handler = (_request, response) => {
      response.writeHead(302, { location: 'http://elsewhere.example/secret' });
      response.end();
    };
    const error = await failure(source().read(url(), 0, 10));
    expect(error.failure).toBe('bad-response');
    expect(error.message).toContain('http://elsewhere.example/secret');
  });

  it('follows redirects the followRedirect hook approves, and only those', async () => {
    server.handler = (request, response) => {
      if (request.url === '/old/object.nc') {
        response.writeHead(301, { location: '/data/object.nc' });
        response.end();
        return;
      }
      if (request.url === '/data/private.nc') {
        response.writeHead(307, { location: '/private/object.nc' });
        response.end();
        return;
      }
      serveRanges(request, response);
    };
    const http = source({ followRedirect: (target) => target.startsWith(`${server.origin}/data/`) });
    expect(await http.read(url('/old/object.nc'), 0, 10)).toEqual(object.slice(0, 10));
    const error = await failure(http.read(url('/data/private.nc'), 0, 10));
    expect(error.message).toContain('/private/object.nc');
    expect(server.requests.map((r) => r.url)).toEqual(['/old/object.nc', '/data/object.nc', '/data/private.nc']);
  });

  it('stops after maxRedirects', async () => {
    server.handler = (_request, response) => {
      response.writeHead(302, { location: '/data/loop.nc' });
      response.end();
    };
    const error = await failure(source({ followRedirect: () => true, maxRedirects: 2 }).read(url(), 0, 10));
    expect(error.message).toMatch(/more than 2 redirects/);
    expect(server.requests).toHaveLength(3);
  });
});

describe('HttpSource version', () => {
  it('takes the ETag from HEAD and caches it', async () => {
    const http = source();
    expect(await Promise.all([http.version(url()), http.version(url())])).toEqual(['"v1"', '"v1"']);
    expect(await http.version(url())).toBe('"v1"');
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('expires the cache after versionTtlMs and falls back to Last-Modified', async () => {
    let etag = true;
    server.handler = (_request, response) => {
      response.writeHead(200, { ...(etag ? { etag: '"a"' } : {}), 'last-modified': 'Tue, 14 Nov 2023 22:13:20 GMT', 'content-length': 5 });
      response.end();
    };
    const http = source({ versionTtlMs: 50 });
    expect(await http.version(url())).toBe('"a"');
    etag = false;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await http.version(url())).toBe('Tue, 14 Nov 2023 22:13:20 GMT; 5');
  });

  it('learns the version from range reads', async () => {
    const http = source();
    await http.read(url(), 0, 10);
    expect(await http.version(url())).toBe('"v1"');
    expect(server.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('is undefined when HEAD is not supported, not-found on 404', async () => {
    server.handler = (request, response) => {
      response.writeHead(request.url === '/missing.nc' ? 404 : 405);
      response.end();
    };
    const http = source();
    expect(await http.version(url())).toBeUndefined();
    expect((await failure(http.version(url('/missing.nc')))).failure).toBe('not-found');
  });
});
