import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

/** The per-request budget as an operator sets it: environment variables of `strato serve`. */
function serveExit(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_PATH, 'serve', '--catalog', 'demo/catalog.yaml', '--port', '0'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('budget settings', () => {
  it.each([
    ['STRATO_MAX_CHUNKS', 'abc'],
    ['STRATO_MAX_DECODED_MB', '-1'],
    ['STRATO_MAX_REQUEST_SECONDS', '0'],
    ['STRATO_DECODED_CACHE_MB', 'lots'],
  ])('a bad %s=%s stops start-up with one line and exit 2 (it used to hang after the error)', async (name, value) => {
    const { code, stderr } = await serveExit({ [name]: value });
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining(`strato: ${name} must be`)]);
  });

  describe('a small budget', () => {
    // demo tas: source chunks of 73 × 37 × 72 float32 (778 KB decoded); processed chunks of 30 steps
    let server: SpawnedServer;
    beforeAll(async () => {
      // no disk tier: a processed chunk another run left there would be served without decoding anything
      server = await spawnServer('demo/catalog.yaml', ['--log-level', 'error'], { STRATO_MAX_CHUNKS: '5', STRATO_MAX_DECODED_MB: '1.2', STRATO_DISK_CACHE_MB: '0' });
    });
    afterAll(async () => server?.stop());

    it('answers a request over the chunk limit with 413 naming the setting (a DAP error for OPeNDAP)', async () => {
      const dap = await fetch(`${server.url}/datasets/tas-daily/opendap.dods?tas`);
      expect(dap.status).toBe(413);
      expect(await dap.text()).toMatch(/^Error \{[\s\S]*more than 5 chunks \(STRATO_MAX_CHUNKS\)/);
    });

    it('answers a request over the decoded-bytes limit with 413 problem+json', async () => {
      // processed chunk 2 (steps 60–89) needs source chunks 0 and 1
      const zarr = await fetch(`${server.url}/datasets/tas-daily/zarr/tas/2.0.0`);
      expect(zarr.status).toBe(413);
      expect(zarr.headers.get('content-type')).toBe('application/problem+json');
      expect(((await zarr.json()) as { detail: string }).detail).toMatch(/STRATO_MAX_DECODED_MB/);
    });

    it('serves what fits', async () => {
      expect((await fetch(`${server.url}/datasets/tas-daily/opendap.dods?tas[0][0:1:3][0:1:3]`)).status).toBe(200);
      expect((await fetch(`${server.url}/datasets/tas-daily/zarr/tas/0.0.0`)).status).toBe(200);
      expect((await fetch(`${server.url}/datasets/tas-daily/kerchunk/tas/0.0.0`)).status).toBe(200);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    });
  });
});
