import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { startInProcess } from '../helpers/server.js';

const zarray = (shape: number[], chunks: number[]) => JSON.stringify({ zarr_format: 2, shape, chunks, dtype: '<u1', compressor: null, filters: null, fill_value: 0, order: 'C' });

/** A source file of 256 bytes 0..255 and tables that point into it, inside and outside the allowed root. */
async function makeCatalog(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-http-'));
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'refs'));
  await mkdir(join(dir, 'outside'));
  await writeFile(
    join(dir, 'data', 'bytes.bin'),
    Uint8Array.from({ length: 256 }, (_, i) => i),
  );
  await writeFile(
    join(dir, 'data', 'doomed.bin'),
    Uint8Array.from({ length: 16 }, (_, i) => i),
  );
  await writeFile(join(dir, 'outside', 'secret.bin'), 'secret');
  await symlink(join(dir, 'outside', 'secret.bin'), join(dir, 'data', 'link.bin'));
  const good = {
    version: 1,
    templates: { u: '../data/bytes.bin' },
    refs: {
      '.zattrs': JSON.stringify({ title: 'bytes' }),
      'v/.zarray': zarray([40], [10]),
      'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'], units: '1' }),
      'v/0': ['{{u}}', 0, 10],
      'v/1': ['{{u}}', 10, 10],
      'v/2': 'base64:' + Buffer.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]).toString('base64'),
      'gone/.zarray': zarray([10], [10]),
      'gone/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['y'] }),
      'gone/0': ['../data/doomed.bin', 0, 10],
    },
  };
  await writeFile(join(dir, 'refs', 'good.json'), JSON.stringify(good));
  const escape = (url: string) => JSON.stringify({ 'v/.zarray': zarray([4], [4]), 'v/0': [url, 0, 4] });
  await writeFile(join(dir, 'refs', 'dotdot.json'), escape('../outside/secret.bin'));
  await writeFile(join(dir, 'refs', 'absolute.json'), escape(join(dir, 'outside', 'secret.bin')));
  await writeFile(join(dir, 'refs', 'symlink.json'), escape('../data/link.bin'));
  await writeFile(join(dir, 'refs', 'file-url.json'), escape('file:///etc/passwd'));
  await writeFile(join(dir, 'refs', 'host.json'), escape('http://elsewhere.example/x.nc'));
  await writeFile(join(dir, 'refs', 'broken.json'), '{"v/.zarray": ');
  await writeFile(
    join(dir, 'catalog.yaml'),
    `datasets:
  good: {refs: refs/good.json, title: Bytes}
  dotdot: {refs: refs/dotdot.json}
  absolute: {refs: refs/absolute.json}
  symlink: {refs: refs/symlink.json}
  file-url: {refs: refs/file-url.json}
  host: {refs: refs/host.json}
  broken: {refs: refs/broken.json}
  missing: {refs: refs/missing.json}
  "bad id!": {refs: refs/good.json}
sources:
  allow: [data/]
`,
  );
  return dir;
}

let dir: string;
let server: RunningServer;
const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

/** GET with the path sent exactly as written (fetch would resolve `%2e%2e` segments itself). */
function getRaw(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method: 'GET', path }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = await makeCatalog();
  server = await startInProcess(join(dir, 'catalog.yaml'));
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('catalog loading', () => {
  it('serves the good dataset and leaves out every broken or escaping one', async () => {
    expect(await (await get('/datasets')).json()).toEqual(['good']);
  });
  it('reports each left-out dataset in /health by reason class only (issue #13 F9)', async () => {
    const response = await get('/health');
    const text = await response.text();
    const health = JSON.parse(text) as { status: string; problems: Array<{ id: string; reason: string; message?: string }> };
    expect(health.status).toBe('degraded');
    expect(Object.fromEntries(health.problems.map((p) => [p.id, p.reason]))).toEqual({
      dotdot: 'source-forbidden',
      absolute: 'source-forbidden',
      symlink: 'source-forbidden',
      'file-url': 'source-forbidden',
      host: 'source-forbidden',
      broken: 'references-invalid',
      missing: 'references-unreadable',
      'bad id!': 'entry-invalid',
    });
    expect(health.problems.every((p) => p.message === undefined)).toBe(true);
    expect(text).not.toContain(dir);
    expect(text).not.toMatch(/secret|passwd|elsewhere|data\//);
  });
  it('keeps the full reasons, naming the offending reference, for the log (and /health with the admin token)', async () => {
    const byId = Object.fromEntries(server.registry.problems().map((p) => [p.id, p.message]));
    expect(byId.dotdot).toMatch(/outside\/secret\.bin/);
    expect(byId.absolute).toMatch(/secret\.bin/);
    expect(byId.symlink).toMatch(/link\.bin/);
    expect(byId['file-url']).toMatch(/file:\/\/\/etc\/passwd/);
    expect(byId.host).toMatch(/elsewhere\.example/);
    expect(byId.broken).toMatch(/not valid JSON/);
    expect(byId.missing).toMatch(/cannot read reference file/);
    expect(byId['bad id!']).toMatch(/must match/);
  });
});

describe('raw view', () => {
  it('serves consolidated metadata with defaults filled in', async () => {
    const response = await get('/datasets/good/kerchunk/.zmetadata');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await response.json()) as { zarr_consolidated_format: number; metadata: Record<string, unknown> };
    expect(body.zarr_consolidated_format).toBe(1);
    expect(body.metadata['.zgroup']).toEqual({ zarr_format: 2 });
    expect(body.metadata['.zattrs']).toEqual({ title: 'bytes' });
    expect(body.metadata['v/.zattrs']).toEqual({ _ARRAY_DIMENSIONS: ['x'], units: '1' });
  });
  it('serves single metadata documents', async () => {
    expect(((await (await get('/datasets/good/kerchunk/v/.zarray')).json()) as { shape: number[] }).shape).toEqual([40]);
    expect(await (await get('/datasets/good/kerchunk/.zgroup')).json()).toEqual({ zarr_format: 2 });
  });
  it('passes chunk bytes through untouched', async () => {
    const response = await get('/datasets/good/kerchunk/v/1');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const inline = await get('/datasets/good/kerchunk/v/2');
    expect([...new Uint8Array(await inline.arrayBuffer())]).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });
  it('answers 404 for a missing chunk, so clients use the fill value', async () => {
    const response = await get('/datasets/good/kerchunk/v/3');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
  it('answers HEAD with the length and no body', async () => {
    const response = await get('/datasets/good/kerchunk/v/0', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('10');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect((await response.arrayBuffer()).byteLength).toBe(0);
    const metadata = await get('/datasets/good/kerchunk/.zmetadata', { method: 'HEAD' });
    expect(Number(metadata.headers.get('content-length'))).toBeGreaterThan(100);
  });
  it('serves single ranges of chunks and metadata, 416 when unsatisfiable', async () => {
    const partial = await get('/datasets/good/kerchunk/v/1', { headers: { range: 'bytes=2-4' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe('bytes 2-4/10');
    expect([...new Uint8Array(await partial.arrayBuffer())]).toEqual([12, 13, 14]);
    const suffix = await get('/datasets/good/kerchunk/v/1', { headers: { range: 'bytes=-3' } });
    expect([...new Uint8Array(await suffix.arrayBuffer())]).toEqual([17, 18, 19]);
    const open = await get('/datasets/good/kerchunk/v/1', { headers: { range: 'bytes=8-' } });
    expect([...new Uint8Array(await open.arrayBuffer())]).toEqual([18, 19]);
    const beyond = await get('/datasets/good/kerchunk/v/1', { headers: { range: 'bytes=10-20' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */10');
    expect(beyond.headers.get('access-control-allow-origin')).toBe('*');
    const multi = await get('/datasets/good/kerchunk/v/1', { headers: { range: 'bytes=0-1,4-5' } });
    expect(multi.status).toBe(200);
  });
  it('gives ETags and answers If-None-Match with 304', async () => {
    for (const key of ['v/0', 'v/2', '.zmetadata']) {
      const first = await get(`/datasets/good/kerchunk/${key}`);
      const etag = first.headers.get('etag');
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(first.headers.get('cache-control')).toMatch(/max-age=\d+/);
      const again = await get(`/datasets/good/kerchunk/${key}`, { headers: { 'if-none-match': etag as string } });
      expect(again.status).toBe(304);
      expect(again.headers.get('etag')).toBe(etag);
    }
    const other = await get('/datasets/good/kerchunk/v/1');
    expect(other.headers.get('etag')).not.toBe((await get('/datasets/good/kerchunk/v/0')).headers.get('etag'));
  });
  it('puts CORS on every response and answers preflight', async () => {
    for (const path of ['/datasets', '/datasets/good/kerchunk/v/0', '/datasets/nope/kerchunk/.zmetadata', '/nowhere']) {
      expect((await get(path)).headers.get('access-control-allow-origin')).toBe('*');
    }
    const preflight = await get('/datasets/good/kerchunk/v/0', { method: 'OPTIONS', headers: { 'access-control-request-headers': 'range' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('range');
  });
});

describe('bad requests', () => {
  const cases: Array<[string, number]> = [
    ['/datasets/nope/kerchunk/.zmetadata', 404],
    ['/datasets/.hidden/kerchunk/.zmetadata', 400],
    ['/datasets/good/kerchunk/nope/0', 404],
    ['/datasets/good/kerchunk/v/0.0', 404],
    ['/datasets/good/kerchunk/v/99999999999999999999', 404],
    ['/datasets/good/kerchunk/v/..%2F..%2Fcatalog.yaml', 400],
    // the server's URL parser resolves %2e%2e segments before routing: the path leaves the store
    ['/datasets/good/kerchunk/v/%2e%2e/%2e%2e/%2e%2e/catalog.yaml', 404],
    ['/datasets/good/kerchunk/v%2F0', 400],
    ['/datasets/good/kerchunk/v/%00', 400],
    ['/datasets/good/kerchunk/v/%E0%A4%A', 400],
    [`/datasets/good/kerchunk/${'a'.repeat(2000)}`, 400],
  ];
  for (const [path, status] of cases) {
    it(`answers ${status} with a problem body for ${path.slice(0, 60)}`, async () => {
      const response = await getRaw(path);
      expect(response.status).toBe(status);
      const body = JSON.parse(response.body) as { status: number; title: string };
      expect(body.status).toBe(status);
    });
  }
});

describe('unreadable sources', () => {
  it('answers 502 when a referenced file disappears, and keeps serving the rest', async () => {
    await rm(join(dir, 'data', 'doomed.bin'));
    const response = await get('/datasets/good/kerchunk/gone/0');
    expect(response.status).toBe(502);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/not-found/);
    expect((await get('/datasets/good/kerchunk/v/0')).status).toBe(200);
  });
});

describe('dataset info routes', () => {
  it('serves /keys, /info, /dict and the HTML view', async () => {
    expect(await (await get('/datasets/good/keys')).json()).toEqual(['v', 'gone']);
    const info = (await (await get('/datasets/good/info')).json()) as Record<string, unknown>;
    expect(info).toEqual({
      dimensions: { x: 40, y: 10 },
      variables: {
        v: { type: 'uint8', dimensions: ['x'], attributes: { units: '1' } },
        gone: { type: 'uint8', dimensions: ['y'], attributes: {} },
      },
      global_attributes: { title: 'bytes' },
    });
    const dict = (await (await get('/datasets/good/dict')).json()) as { data_vars: Record<string, unknown>; dims: unknown };
    expect(Object.keys(dict.data_vars)).toEqual(['v', 'gone']);
    const html = await get('/datasets/good/');
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(await html.text()).toContain('<h1>Bytes</h1>');
  });
  it('lists plugins and versions', async () => {
    expect(Object.keys((await (await get('/plugins')).json()) as object)).toEqual(expect.arrayContaining(['versions', 'dataset_info', 'kerchunk', 'zarr']));
    expect(((await (await get('/versions')).json()) as { strato: string }).strato).toMatch(/^\d+\.\d+\.\d+/);
  });
});
