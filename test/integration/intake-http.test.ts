import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { DEFAULT_INTAKE_LIMITS, readIntakeCatalog } from '../../ingest/intake-catalog.js';
import { registerSets } from '../../ingest/register-sets.js';

/* `strato ingest --from-intake URL`: intake catalogs read over http(s), bounded in time and size. */

const ref = (fo: string) => `{driver: zarr, args: {urlpath: "reference://", storage_options: {fo: ${JSON.stringify(fo)}}}}`;

describe('readIntakeCatalog', () => {
  describe('over http', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((request, response) => {
        if (request.url === '/cat/main.yaml') {
          response.end(
            `sources:\n  rel: ${ref('refs/r.json')}\n  local: ${ref('/etc/r.json')}\n  sub: {driver: yaml_file_cat, args: {path: "{{ CATALOG_DIR }}/sub.yaml"}}\n  slow: {driver: yaml_file_cat, args: {path: slow.yaml}}\n  huge: {driver: yaml_file_cat, args: {path: huge.yaml}}\n`,
          );
        } else if (request.url === '/cat/sub.yaml') {
          response.end(`sources:\n  s: ${ref('s.json')}\n`);
        } else if (request.url === '/cat/slow.yaml') {
          setTimeout(() => response.end('sources: {}\n'), 2000).unref();
        } else if (request.url === '/cat/huge.yaml') {
          response.write('sources: {}\n');
          const more = () => {
            if (response.write(`#${'x'.repeat(65536)}\n`)) setImmediate(more);
            else response.once('drain', more);
          };
          more();
          response.on('error', () => undefined);
        } else {
          response.statusCode = 404;
          response.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('resolves relative paths against the URL; bounds time and size; a remote catalog never names local files', async () => {
      const { datasets, skipped } = await readIntakeCatalog(`${base}/cat/main.yaml`, { ...DEFAULT_INTAKE_LIMITS, read: { maxBytes: 1024 * 1024, timeoutMs: 300 } });
      expect(datasets).toEqual([
        { id: 'rel', table: `${base}/cat/refs/r.json` },
        { id: 'sub.s', table: `${base}/cat/s.json` },
      ]);
      const reasons = new Map(skipped.map((s) => [s.id, s.reason]));
      expect(reasons.get('local')).toMatch(/remote catalog cannot name local files/);
      expect(reasons.get('slow')).toMatch(/within 300 ms/);
      expect(reasons.get('huge')).toMatch(/more than the 1048576 bytes/);
    });

    it('an HTTP error of the top catalog is an error', async () => {
      await expect(readIntakeCatalog(`${base}/nothing.yaml`)).rejects.toThrow(/HTTP 404/);
    });
  });
});

describe('registerSets with remote JSON tables', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const zarray = JSON.stringify({ shape: [2], chunks: [2], dtype: '|u1', compressor: null, filters: null, fill_value: 0, order: 'C', zarr_format: 2 });
  const table = JSON.stringify({ version: 1, refs: { '.zgroup': '{"zarr_format": 2}', 'x/.zarray': zarray, 'x/.zattrs': '{"_ARRAY_DIMENSIONS": ["x"]}', 'x/0': 'base64:AQI=' } });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strato-remote-'));
    server = createServer((request, response) => {
      if (request.url === '/refs/t.json' || request.url === '/other/t.json') response.end(table);
      else if (request.url === '/refs/bad.json') response.end('{"version": 1, "refs": {');
      else {
        response.statusCode = 404;
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('fetches an allowed JSON table beside the catalog; refuses one outside sources.allow, a broken one, a missing one', async () => {
    const catalog = join(dir, 'catalog.yaml');
    await writeFile(catalog, `datasets: {}\nsources:\n  allow: ["${base}/refs/"]\n`);
    const candidates = [
      { id: 't', table: `${base}/refs/t.json` },
      { id: 'outside', table: `${base}/other/t.json` },
      { id: 'bad', table: `${base}/refs/bad.json` },
      { id: 'gone', table: `${base}/refs/gone.json` },
    ];
    const first = await registerSets({ catalog, candidates });
    expect(first.added).toEqual(['t']);
    expect(first.skipped.map((s) => s.id)).toEqual(['outside', 'bad', 'gone']);
    expect(first.skipped[0]?.reason).toMatch(/outside sources\.allow/);
    expect(first.skipped[2]?.reason).toMatch(/HTTP 404/);
    expect(await readFile(join(dir, 'refs', 'remote', 't.json'), 'utf8')).toBe(table);
    expect((await loadCatalog(catalog)).datasets.map((d) => [d.id, d.refs])).toEqual([['t', 'refs/remote/t.json']]);
    const second = await registerSets({ catalog, candidates });
    expect([second.added, second.unchanged, second.written]).toEqual([[], ['t'], false]);
    expect((await readdir(join(dir, 'refs', 'remote'))).sort()).toEqual(['t.json']); // no staging copy left
  });
});
