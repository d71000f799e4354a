import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

/** A loopback HTTP server for folders of static files (a built web app, a static STAC tree). */
export interface StaticSite {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/**
 * Serves each folder under its URL prefix (`{'/browser/': dir}`); a path ending in `/` serves
 * its `index.html`. Only GET and HEAD; CORS `*` so a page on another origin may read the files.
 */
export async function serveFolders(mounts: Readonly<Record<string, string>>): Promise<StaticSite> {
  const server: Server = createServer((request, response) => {
    response.setHeader('Access-Control-Allow-Origin', '*');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405).end();
      return;
    }
    void resolveFile(mounts, new URL(request.url ?? '/', 'http://site').pathname).then((file) => {
      if (!file) {
        response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      response.writeHead(200, { 'Content-Type': TYPES[extname(file.path)] ?? 'application/octet-stream', 'Content-Length': file.size });
      if (request.method === 'HEAD') response.end();
      else createReadStream(file.path).pipe(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

async function resolveFile(mounts: Readonly<Record<string, string>>, pathname: string): Promise<{ path: string; size: number } | undefined> {
  // The longest matching prefix wins (`/static/` before `/`).
  const mount = Object.entries(mounts)
    .filter(([prefix]) => pathname.startsWith(prefix))
    .sort(([a], [b]) => b.length - a.length)[0];
  if (mount === undefined) return undefined;
  const [prefix, folder] = mount;
  const root = normalize(folder);
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(prefix.length));
  } catch {
    return undefined;
  }
  if (relative === '' || relative.endsWith('/')) relative += 'index.html';
  const path = normalize(join(root, relative));
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    const info = await stat(path);
    return info.isFile() ? { path, size: info.size } : undefined;
  } catch {
    return undefined;
  }
}
