import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { repoRoot, startInProcess } from '../helpers/server.js';

/**
 * The processed view says what it did in the root `history` (CF: newest line first), the same
 * text on every request (no clock time); the raw view serves the source's attributes untouched.
 */
let server: RunningServer;
beforeAll(async () => {
  server = await startInProcess(join(repoRoot, 'demo', 'catalog.yaml'));
});
afterAll(async () => {
  await server?.close();
});

describe('history note of the processed view', () => {
  it('xarray on /zarr sees the note first in history; /kerchunk sees the source history', async () => {
    const zarr = `${server.url}/datasets/tas-daily/zarr`;
    const kerchunk = `${server.url}/datasets/tas-daily/kerchunk`;
    const result = await runPython('test/interop/check_history.py', [zarr, kerchunk]);
    expect(result.code, result.stderr).toBe(0);
    const history = lastJsonLine<Record<string, string | null>>(result.stdout);
    const processed = history[zarr] as string;
    const raw = history[kerchunk];
    const [first, ...rest] = processed.split('\n');
    expect(first).toMatch(/^strato \S+ processed view: /);
    expect(first).toContain('tas bit-rounded to 10 mantissa bits (BitRound)');
    expect(first).toContain('tas rechunked to time: 30');
    expect(first).toContain('re-compressed with blosc lz4');
    // the source's history follows, unchanged; the raw view has no note
    expect(rest.join('\n')).toBe(raw ?? '');
    expect(raw ?? '').not.toContain('strato');
  });

  it('is the same bytes on every request (the metadata ETag is stable)', async () => {
    const a = await fetch(`${server.url}/datasets/tas-daily/zarr/.zattrs`);
    const b = await fetch(`${server.url}/datasets/tas-daily/zarr/.zattrs`);
    expect(await a.text()).toBe(await b.text());
    expect(a.headers.get('etag')).toBe(b.headers.get('etag'));
    const untouched = await fetch(`${server.url}/datasets/pr-daily/zarr/.zattrs`);
    const source = await fetch(`${server.url}/datasets/pr-daily/kerchunk/.zattrs`);
    // pr-daily has no processing block: only its encoding may differ, and the note says so
    const text = await untouched.text();
    if (!text.includes('strato')) expect(text).toBe(await source.text());
  });
});
