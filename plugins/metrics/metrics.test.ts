import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { repoRoot, startInProcess } from '../../test/helpers/server.js';

/** The value of one sample line of the exposition text (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    const have = labelText.split(',').filter(Boolean);
    if (wanted.every((label) => have.includes(label))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

let server: RunningServer;
beforeAll(async () => {
  server = await startInProcess(join(repoRoot, 'demo', 'catalog.yaml'));
});
afterAll(async () => server?.close());

const scrape = async () => {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
};

describe('GET /metrics', () => {
  it('counts requests under the matched route pattern, never the raw path', async () => {
    const before = sample(await scrape(), 'strato_http_requests_total', { route: '/datasets/:id/kerchunk/*', method: 'GET', status: '200' }) ?? 0;
    for (const key of ['tas/0.0.0', 'tas/1.0.0', 'tas/2.0.0']) {
      const response = await fetch(`${server.url}/datasets/tas-daily/kerchunk/${key}`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    expect((await fetch(`${server.url}/datasets/tas-daily/kerchunk/tas/99.0.0`)).status).toBe(404);
    expect((await fetch(`${server.url}/no/such/route`)).status).toBe(404);

    const text = await scrape();
    expect(sample(text, 'strato_http_requests_total', { route: '/datasets/:id/kerchunk/*', method: 'GET', status: '200' })).toBe(before + 3);
    expect(sample(text, 'strato_http_requests_total', { route: '/datasets/:id/kerchunk/*', method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'strato_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'strato_http_request_duration_seconds_count', { route: '/datasets/:id/kerchunk/*', method: 'GET' })).toBeGreaterThanOrEqual(4);
    expect(text).not.toContain('tas-daily/kerchunk');
    expect(text).not.toContain('/no/such/route');
    expect(sample(text, 'strato_http_requests_in_flight', {})).toBe(1); // the scrape itself
    expect(sample(text, 'strato_catalog_datasets', {})).toBe(2);
  });

  it('reports source reads by kind and the bytes they returned', async () => {
    const response = await fetch(`${server.url}/datasets/tas-daily/kerchunk/tas/3.0.0`);
    const body = new Uint8Array(await response.arrayBuffer());
    const text = await scrape();
    expect(sample(text, 'strato_source_reads_total', { kind: 'file', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'strato_source_read_bytes_total', { kind: 'file' })).toBeGreaterThanOrEqual(body.byteLength);
    expect(sample(text, 'strato_source_read_duration_seconds_count', { kind: 'file' })).toBeGreaterThanOrEqual(1);
  });

  it('reports hits, misses and bytes of the processed view and decoded chunk caches', async () => {
    const url = `${server.url}/datasets/tas-daily/zarr/tas/1.0.0`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const before = sample(await scrape(), 'strato_cache_hits_total', { cache: 'encoded' }) ?? 0;
    await (await fetch(url)).arrayBuffer();
    const text = await scrape();
    expect(sample(text, 'strato_cache_hits_total', { cache: 'encoded' })).toBe(before + 1);
    expect(sample(text, 'strato_cache_misses_total', { cache: 'encoded' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'strato_cache_bytes', { cache: 'encoded' })).toBeGreaterThan(0);
    expect(sample(text, 'strato_cache_misses_total', { cache: 'decoded' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'strato_cache_bytes', { cache: 'decoded' })).toBeGreaterThan(0);
  });

  it('includes the codec pool and the default process metrics', async () => {
    const text = await scrape();
    expect(sample(text, 'strato_codec_threads', {})).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'strato_codec_jobs_pending', {})).toBe(0);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});

describe('X-Request-Id', () => {
  it('echoes a sane incoming id and replaces an unsafe one with a fresh UUID', async () => {
    const sane = await fetch(`${server.url}/health`, { headers: { 'x-request-id': 'lb-7f3a:42' } });
    expect(sane.headers.get('x-request-id')).toBe('lb-7f3a:42');
    // browsers (STAC Browser, zarr viewers) may read it, to quote it in a bug report
    expect(sane.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/);
    for (const bad of ['x'.repeat(129), 'a b', 'id"<script>']) {
      const response = await fetch(`${server.url}/health`, { headers: { 'x-request-id': bad } });
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });

  it('gives every response an id, errors included, different each time, with nosniff', async () => {
    const a = await fetch(`${server.url}/datasets/nope/kerchunk/.zmetadata`);
    const b = await fetch(`${server.url}/datasets/nope/kerchunk/.zmetadata`);
    expect(a.status).toBe(404);
    expect(a.headers.get('x-request-id')).toBeTruthy();
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    expect(a.headers.get('x-content-type-options')).toBe('nosniff');
    const head = await fetch(`${server.url}/datasets/tas-daily/kerchunk/.zmetadata`, { method: 'HEAD' });
    expect(head.headers.get('x-request-id')).toBeTruthy();
  });
});
