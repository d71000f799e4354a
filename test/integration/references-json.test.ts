import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';
import { repoRoot } from '../helpers/server.js';

/**
 * `GET /datasets/{id}/references.json`: a kerchunk v1 table whose chunks point at this server's
 * raw view by absolute URL (built from the public base URL), streamed. Python reads it in
 * test/interop/references-json.test.ts.
 */
let app: InProcessApp;
beforeAll(async () => {
  app = await openApp(`${repoRoot}demo/catalog.yaml`);
});
afterAll(async () => {
  await app.close();
});

interface Table {
  version: number;
  templates?: Record<string, string>;
  refs: Record<string, string | [string] | [string, number, number]>;
}

async function table(path: string, init?: RequestInit): Promise<{ response: Response; table: Table }> {
  const response = await app.request(path, init);
  expect(response.status).toBe(200);
  return { response, table: JSON.parse(await response.text()) as Table };
}

describe('references.json', () => {
  it('lists metadata inline and every chunk as an absolute URL of the raw view', async () => {
    const { response, table: t } = await table('/datasets/tas-daily/references.json');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=60');
    expect(response.headers.get('etag')).toMatch(/^"/);
    expect(t.version).toBe(1);
    expect(t.templates).toBeUndefined();
    for (const key of ['.zgroup', '.zattrs', '.zmetadata', 'tas/.zarray', 'tas/.zattrs']) expect(typeof t.refs[key]).toBe('string');
    expect(JSON.parse(t.refs['tas/.zarray'] as string).shape).toEqual([730, 37, 72]);
    const chunk = t.refs['tas/0.0.0'];
    expect(chunk).toEqual(['http://localhost/datasets/tas-daily/kerchunk/tas/0.0.0']);
    // every URL answers the raw view's bytes
    const raw = await app.request('/datasets/tas-daily/kerchunk/tas/0.0.0');
    expect(raw.status).toBe(200);
  });

  it('builds URLs from X-Forwarded-* (behind a proxy) and names them in Vary and the ETag', async () => {
    const plain = await table('/datasets/tas-daily/references.json');
    const proxied = await table('/datasets/tas-daily/references.json', {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'data.example.org', 'x-forwarded-prefix': '/strato' },
    });
    expect(proxied.table.refs['tas/0.0.0']).toEqual(['https://data.example.org/strato/datasets/tas-daily/kerchunk/tas/0.0.0']);
    expect(proxied.response.headers.get('vary')).toContain('x-forwarded-host');
    expect(proxied.response.headers.get('etag')).not.toBe(plain.response.headers.get('etag'));
  });

  it('with missing=absent leaves missing chunks out and agrees with the raw view key by key', async () => {
    const { table: t } = await table('/datasets/pr-daily/references.json?missing=absent');
    const zarray = JSON.parse(t.refs['pr/.zarray'] as string) as { shape: number[]; chunks: number[] };
    const counts = zarray.shape.map((n, d) => Math.ceil(n / (zarray.chunks[d] as number)));
    for (let i = 0; i < (counts[0] as number); i += 7) {
      const key = `pr/${i}.0.0`;
      const raw = await app.request(`/datasets/pr-daily/kerchunk/${key}`, { method: 'HEAD' });
      expect(key in t.refs, key).toBe(raw.status === 200);
    }
  });

  it('writes URLs through a template when asked, which fsspec expands', async () => {
    const { table: t } = await table('/datasets/tas-daily/references.json?templates=true');
    expect(t.templates).toEqual({ u: 'http://localhost/datasets/tas-daily/kerchunk', b: 'http://localhost' });
    expect(t.refs['tas/0.0.0']).toEqual(['{{u}}/tas/0.0.0']);
  });

  it('answers 304 to its ETag and HEAD without a body', async () => {
    const first = await app.request('/datasets/tas-daily/references.json', { method: 'HEAD' });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('');
    const etag = first.headers.get('etag') as string;
    const again = await app.request('/datasets/tas-daily/references.json', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('refuses unknown formats and template flags with a problem, and unknown datasets with 404', async () => {
    for (const query of ['format=parquet', 'format=__proto__', 'templates=maybe', 'missing=__proto__']) {
      const response = await app.request(`/datasets/tas-daily/references.json?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
    for (const id of ['__proto__', 'constructor', 'nope']) {
      const response = await app.request(`/datasets/${id}/references.json`);
      expect([400, 404]).toContain(response.status);
      const text = await response.text();
      expect(text).not.toContain(repoRoot);
    }
  });

  it('streams: a client that stops reading ends the generation', async () => {
    const response = await app.request('/datasets/tas-daily/references.json');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
  });
});

describe('references.json of a hostile grid', () => {
  let dir: string;
  let hostile: InProcessApp;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strato-refs-'));
    const zarray = (shape: number[]) =>
      JSON.stringify({ zarr_format: 2, shape, chunks: shape.map(() => 1), dtype: '<f4', compressor: null, filters: null, fill_value: 0, order: 'C' });
    const refs = { '.zgroup': '{"zarr_format": 2}', 'v/.zarray': zarray([100_000, 1000]), 'v/.zattrs': '{"_ARRAY_DIMENSIONS": ["y", "x"]}', 'v/0.0': 'base64:AAAAAA==' };
    await writeFile(join(dir, 'huge.json'), JSON.stringify({ version: 1, refs }));
    await writeFile(join(dir, 'catalog.yaml'), 'datasets:\n  huge:\n    refs: huge.json\nsources:\n  allow: [./]\n');
    hostile = await openApp(join(dir, 'catalog.yaml'));
  });
  afterAll(async () => {
    await hostile?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a grid of 100M keys with 413 before it starts', async () => {
    const response = await hostile.request('/datasets/huge/references.json');
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.text()).not.toContain(dir);
  });
});
