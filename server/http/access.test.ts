import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { DatasetRegistry } from '../../catalog/registry.js';
import { makeGridCatalog } from '../../test/helpers/grid-fixture.js';
import { createApp } from '../app.js';
import { defaultPlugins } from '../default-plugins.js';
import { createLogger, type LogLevel } from '../log.js';

let dir: string;
let registry: DatasetRegistry;
beforeAll(async () => {
  const made = await makeGridCatalog();
  dir = made.dir;
  registry = await DatasetRegistry.open(await loadCatalog(made.catalog));
});
afterAll(async () => {
  await registry?.close();
  await rm(dir, { recursive: true, force: true });
});

function appLogging(level: LogLevel, options: { slowRequestMs?: number } = {}) {
  const lines: string[] = [];
  const app = createApp({ registry, plugins: defaultPlugins, logger: createLogger(level, (line) => lines.push(line)), version: '0.0.0', ...options });
  const access = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((record) => record.msg === 'request');
  return { app, access, lines };
}

describe('access lines', () => {
  it('writes one line per request with method, path, route, status, ms and request id, at debug', async () => {
    const { app, access } = appLogging('debug');
    const response = await app.request('/datasets/grid/kerchunk/.zmetadata?token=hunter2', { headers: { 'x-request-id': 'req-1' } });
    expect(response.status).toBe(200);
    const [line, ...more] = access();
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'debug', requestId: 'req-1', method: 'GET', path: '/datasets/grid/kerchunk/.zmetadata', route: '/datasets/:id/kerchunk/*', status: 200 });
    expect(typeof line?.ms).toBe('number');
    expect(JSON.stringify(line)).not.toContain('hunter2');
  });

  it('at info, logs only 5xx and slow requests; never the Authorization header', async () => {
    const quiet = appLogging('info');
    await quiet.app.request('/health', { headers: { authorization: 'Bearer top-secret-token' } });
    await quiet.app.request('/datasets/nope/kerchunk/.zmetadata');
    expect(quiet.access()).toEqual([]);
    const slow = appLogging('info', { slowRequestMs: 0 });
    await slow.app.request('/health', { headers: { authorization: 'Bearer top-secret-token' } });
    expect(slow.access()).toHaveLength(1);
    expect(slow.access()[0]).toMatchObject({ level: 'info', route: '/health', status: 200 });
    expect(slow.lines.join('')).not.toContain('top-secret-token');
  });
});
