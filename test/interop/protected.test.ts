import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import type { RunningServer } from '../../server/serve.js';
import { makeGridCatalog } from '../helpers/grid-fixture.js';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { startInProcess } from '../helpers/server.js';

/**
 * Real clients on a protected dataset (issue #18) of a real server, tokens from a real OpenID
 * Provider: xarray/fsspec with `storage_options={"headers": {"Authorization": "Bearer …"}}`, and
 * netCDF-C's `ncdump` with the token as the password of HTTP Basic (`http://x:TOKEN@host/…`),
 * each reading exactly what its public twin (the same references, no `access`) serves.
 */
let dir: string;
let op: TestIdentityProvider;
let server: RunningServer;
let token: string;

beforeAll(async () => {
  op = await startIdentityProvider();
  const made = await makeGridCatalog();
  dir = made.dir;
  const catalog = (await readFile(made.catalog, 'utf8')).replace(
    'datasets:\n  grid: {refs: refs/grid.json,',
    `auth:\n  issuers: [{issuer: "${op.issuer}", audience: ${op.audience}}]\ndatasets:\n  twin: {refs: refs/grid.json}\n  grid: {access: {roles: [eerie-members]}, refs: refs/grid.json,`,
  );
  await writeFile(made.catalog, catalog);
  server = await startInProcess(made.catalog);
  token = await op.token('member');
}, 60_000);
afterAll(async () => {
  await server?.close();
  await op?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function ncdump(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ncdump', args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, HOME: dir } }, (error, stdout, stderr) => {
      resolve({ code: error ? 1 : 0, stdout, stderr });
    });
  });
}

describe('clients of a protected dataset', () => {
  it('xarray with a bearer header reads it exactly; without one it gets 401', async () => {
    const result = await runPython('test/interop/check_protected.py', [server.url, 'grid', 'twin', token]);
    expect(result.code, result.stderr).toBe(0);
    const checked = lastJsonLine<Record<string, unknown>>(result.stdout);
    expect(checked.kerchunk).toBe(true);
    expect(checked.zarr).toBe(true);
    expect(String(checked.anonymous)).toMatch(/401|Unauthorized|ClientResponseError/);
  });

  it('zarrita with the header reads it exactly (v2 and v3); without it the store cannot be opened', async () => {
    for (const [view, format] of [
      ['kerchunk', 'v2'],
      ['zarr', 'v2'],
      ['zarr', 'v3'],
    ] as const) {
      const read = async (id: string, headers?: Record<string, string>) => {
        const store = await zarr.withConsolidatedMetadata(new zarr.FetchStore(`${server.url}/datasets/${id}/${view}`, headers ? { overrides: { headers } } : {}), { format });
        const root = await zarr.open(store, { kind: 'group' });
        const array = await zarr.open(root.resolve('t'), { kind: 'array' });
        const chunk = await zarr.get(array);
        return Buffer.from((chunk.data as Int16Array | Float32Array).buffer);
      };
      const mine = await read('grid', { authorization: `Bearer ${token}` });
      expect(mine.equals(await read('twin')), `${view} ${format}`).toBe(true);
      await expect(read('grid')).rejects.toThrow();
    }
  });

  it('ncdump reads it with the token as the Basic password, and not without it', async () => {
    const host = server.url.replace(/^http:\/\//, '');
    const protectedDump = await ncdump(['-v', 't', `http://x:${token}@${host}/datasets/grid/opendap`]);
    expect(protectedDump.code, protectedDump.stderr).toBe(0);
    const twinDump = await ncdump(['-v', 't', `${server.url}/datasets/twin/opendap`]);
    expect(twinDump.code, twinDump.stderr).toBe(0);
    const body = (text: string) => text.slice(text.indexOf('{'));
    expect(body(protectedDump.stdout)).toBe(body(twinDump.stdout));
    expect(protectedDump.stdout).toContain('t =');
    expect(protectedDump.stdout).not.toContain(token);

    // a .netrc named in .ncrc (netCDF-C's run-time configuration), as cdo users do
    await writeFile(join(dir, '.netrc'), `machine 127.0.0.1 login x password ${token}\n`, { mode: 0o600 });
    await writeFile(join(dir, '.ncrc'), `HTTP.NETRC=${join(dir, '.netrc')}\n`);
    const netrcDump = await ncdump(['-v', 't', `${server.url}/datasets/grid/opendap`]);
    await rm(join(dir, '.ncrc'));
    expect(netrcDump.code, netrcDump.stderr).toBe(0);
    expect(body(netrcDump.stdout)).toBe(body(twinDump.stdout));

    const anonymous = await ncdump(['-h', `${server.url}/datasets/grid/opendap`]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stdout).not.toContain('Air temperature');
  });
});
