import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricsAccessFromEnv } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import { startServer } from '../../server/serve.js';
import { repoRoot } from '../../test/helpers/server.js';
import { isLoopback } from './index.js';

describe('F9: who may read /metrics', () => {
  it('defaults to loopback clients; on, token and off are the other settings', () => {
    expect(metricsAccessFromEnv({})).toEqual({ access: 'loopback' });
    expect(metricsAccessFromEnv({ STRATO_METRICS: 'on' })).toEqual({ access: 'on' });
    expect(metricsAccessFromEnv({ STRATO_METRICS: 'token', STRATO_METRICS_TOKEN: 't0k3n' })).toEqual({ access: 'token', token: 't0k3n' });
    expect(metricsAccessFromEnv({ STRATO_METRICS: 'off' })).toEqual({ access: 'off' });
    expect(() => metricsAccessFromEnv({ STRATO_METRICS: 'public' })).toThrow(/STRATO_METRICS must be one of/);
  });
  it('counts 127.0.0.0/8, its IPv4-mapped form and ::1 as loopback, nothing else', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::ffff:127.0.0.1', '::1']) expect(isLoopback(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', 'fe80::1', 'unknown', '', '127.0.0.1.example']) expect(isLoopback(address), address).toBe(false);
  });
});

const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i !== undefined && !i.internal && i.family === 'IPv4')?.address;

describe.skipIf(external === undefined)('F9: /metrics over HTTP with the default setting', () => {
  it('answers a loopback client and 404s a client from another address', async () => {
    const server = await startServer({ catalog: join(repoRoot, 'demo', 'catalog.yaml'), port: 0, host: '0.0.0.0', logger: createLogger('silent') });
    try {
      const port = new URL(server.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      const remote = await fetch(`http://${external}:${port}/metrics`);
      expect(remote.status).toBe(404);
      expect(await remote.text()).not.toContain('strato_');
      expect((await fetch(`http://${external}:${port}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
