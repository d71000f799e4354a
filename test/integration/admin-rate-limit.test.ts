import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminPlugin } from '../../plugins/admin/index.js';
import { defaultPlugins } from '../../server/default-plugins.js';
import type { RateLimitOptions } from '../../server/http/rate-limit.js';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';
import { ADMIN_TOKEN, adminFetch, makeAdminCatalog } from '../helpers/admin-fixture.js';

/** A real server on loopback whose admin API has the given rate limit. */
async function start(catalog: string, rateLimit: RateLimitOptions, logger = createLogger('silent')): Promise<RunningServer> {
  const plugins = [...defaultPlugins.filter((p) => p.name !== 'admin'), createAdminPlugin({ token: ADMIN_TOKEN, rateLimit })];
  return startServer({ catalog, port: 0, host: '127.0.0.1', logger, plugins });
}

describe('admin API rate limit (real server)', () => {
  let dir: string;
  let catalog: string;
  let server: RunningServer | undefined;
  beforeEach(async () => {
    ({ dir, catalog } = await makeAdminCatalog());
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  const removeMissing = (token: string | null = ADMIN_TOKEN) => adminFetch(`${server!.url}/admin/datasets/not-there`, { method: 'DELETE', token });

  it('allows the burst, then answers 429 problem+json with Retry-After, and recovers after it', async () => {
    // 0.5/s: the burst must be spent within 2 s, which even a loaded machine does
    server = await start(catalog, { ratePerSecond: 0.5, burst: 4 });
    for (let i = 0; i < 4; i++) expect((await removeMissing()).status).toBe(404);
    const limited = await removeMissing();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(limited.headers.get('access-control-allow-origin')).toBe('*');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(await limited.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
    // the rest of the server is not limited
    for (let i = 0; i < 10; i++) expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    expect((await removeMissing()).status).toBe(404);
  }, 15_000);

  it('makes failed authentication cost more, so guessing tokens is slow', async () => {
    server = await start(catalog, { ratePerSecond: 0.2, burst: 6, failedAuthCost: 6 });
    expect((await removeMissing('wrong-token')).status).toBe(401);
    // one failure spent the whole burst: even the right token waits now
    const limited = await removeMissing();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('logs a failed authentication with the address and request id, never the token sent', async () => {
    const lines: string[] = [];
    server = await start(
      catalog,
      { ratePerSecond: 10, burst: 10 },
      createLogger('info', (line) => lines.push(line)),
    );
    const guess = 'guessed-token-0123456789';
    const response = await adminFetch(`${server.url}/admin/datasets/not-there`, { method: 'DELETE', token: guess, headers: { 'x-request-id': 'guess-1' } });
    expect(response.status).toBe(401);
    const failed = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((record) => record.msg === 'admin authentication failed');
    expect(failed).toEqual([expect.objectContaining({ level: 'warn', requestId: 'guess-1', address: '127.0.0.1', method: 'DELETE', path: '/admin/datasets/not-there' })]);
    expect(lines.join('')).not.toContain(guess);
    expect(lines.join('')).not.toContain(ADMIN_TOKEN);
  });

  it('counts 429s in /metrics under the admin route', async () => {
    server = await start(catalog, { ratePerSecond: 0.1, burst: 1 });
    await removeMissing();
    await removeMissing();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^strato_http_requests_total\{route="\/admin\/datasets\/:id",method="DELETE",status="429"\} 1$/m);
  });
});
