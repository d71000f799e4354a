import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkCodecs, inlineCodecs } from '../kerchunk/codecs/codec-pool.js';
import { makeGridCatalog } from '../test/helpers/grid-fixture.js';
import { startInProcess } from '../test/helpers/server.js';
import { readConfig } from './config.js';
import { defaultPlugins } from './default-plugins.js';
import { createLogger } from './log.js';
import type { RunningServer } from './serve.js';
import { stratoVersion } from './version.js';
import { warmRoutes, warmServingPath } from './warm-start.js';

const warmDirs = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('strato-warm-')).length;

function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger('debug', (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) };
}

const options = (codecs: ChunkCodecs, diskCache: boolean) => ({ codecs, plugins: defaultPlugins, config: readConfig({}), version: stratoVersion(), diskCache });

describe('warmServingPath', () => {
  it('serves every warm-up request of its made-up dataset (200s), with and without a disk tier, and removes its directory', async () => {
    for (const diskCache of [false, true]) {
      const before = await warmDirs();
      const { lines, logger } = capture();
      const ms = await warmServingPath({ ...options(inlineCodecs, diskCache), logger });
      // "warmed" is only logged when every request answered 200: a route or view change that
      // breaks the warm-up shows here instead of silently leaving the first request cold
      expect(lines.map((line) => line.msg)).toEqual(['request path warmed']);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(await warmDirs()).toBeLessThanOrEqual(before);
    }
  });

  it('never fails start-up: codecs that throw leave it cold, said at debug, directory removed', async () => {
    const broken: ChunkCodecs = {
      encode: async () => {
        throw new Error('no such codec');
      },
      decode: async () => {
        throw new Error('no such codec');
      },
      transcode: async () => {
        throw new Error('no such codec');
      },
      close: async () => undefined,
    };
    const before = await warmDirs();
    const { lines, logger } = capture();
    await expect(warmServingPath({ ...options(broken, true), logger })).resolves.toBeTypeOf('number');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toBe('request path not warmed');
    expect(String(lines[0]?.error)).toContain('no such codec');
    expect(await warmDirs()).toBeLessThanOrEqual(before);
  });
});

describe('warmRoutes', () => {
  it('builds the matchers without answering anything; routes still match afterwards', async () => {
    const app = new Hono();
    let calls = 0;
    app.get('/datasets/:id/zarr/*', (c) => {
      calls++;
      return c.text(c.req.param('id'));
    });
    warmRoutes(app);
    expect(calls).toBe(0);
    expect(await (await app.request('/datasets/__proto__/zarr/.zmetadata')).text()).toBe('__proto__');
    expect(calls).toBe(1);
  });
});

describe('a started server', () => {
  let grid: { dir: string; catalog: string };
  let server: RunningServer;
  beforeAll(async () => {
    grid = await makeGridCatalog();
    server = await startInProcess(grid.catalog);
  });
  afterAll(async () => {
    await server?.close();
    await rm(grid.dir, { recursive: true, force: true });
  });

  it('counts none of the warm-up requests and lists none of its dataset', async () => {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const requests = metrics.split('\n').filter((line) => line.startsWith('strato_http_requests_total{'));
    // the only request counted so far is this one, which is counted when it ends
    expect(requests).toEqual([]);
    expect(metrics.split('\n').filter((line) => /^strato_(source_reads|cache_hits|cache_misses)_total\{/.test(line) && !line.endsWith(' 0'))).toEqual([]);
    expect(server.registry.ids().sort()).toEqual(['grid', 'sea-ice']);
    expect((await fetch(`${server.url}/datasets/warm/zarr/.zmetadata`)).status).toBe(404);
  });
});
