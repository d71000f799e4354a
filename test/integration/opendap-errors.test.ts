import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';
import { repoRoot } from '../helpers/server.js';

/** OPeNDAP clients get DAP errors (which netCDF-C prints), not problem+json, on every opendap path. */
let strato: InProcessApp;
beforeAll(async () => {
  strato = await openApp(join(repoRoot, 'demo', 'catalog.yaml'));
});
afterAll(async () => strato?.close());

describe('DAP errors', () => {
  it('answers an unknown dataset with a DAP error body', async () => {
    const response = await strato.request(`/datasets/nope/opendap.dds`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-description')).toBe('dods_error');
    expect(await response.text()).toMatch(/^Error \{\s*code = 404;\s*message = "no dataset 'nope'";/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
  it('leaves other routes to problem+json', async () => {
    const response = await strato.request(`/datasets/nope/kerchunk/.zmetadata`);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});
