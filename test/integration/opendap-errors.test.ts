import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { repoRoot, startInProcess } from '../helpers/server.js';

/** OPeNDAP clients get DAP errors (which netCDF-C prints), not problem+json, on every opendap path. */
let server: RunningServer;
beforeAll(async () => {
  server = await startInProcess(join(repoRoot, 'demo', 'catalog.yaml'));
});
afterAll(async () => server?.close());

describe('DAP errors', () => {
  it('answers an unknown dataset with a DAP error body', async () => {
    const response = await fetch(`${server.url}/datasets/nope/opendap.dds`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-description')).toBe('dods_error');
    expect(await response.text()).toMatch(/^Error \{\s*code = 404;\s*message = "no dataset 'nope'";/);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
  it('leaves other routes to problem+json', async () => {
    const response = await fetch(`${server.url}/datasets/nope/kerchunk/.zmetadata`);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});
