import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { makeGridCatalog } from '../helpers/grid-fixture.js';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';
import { repoRoot, startInProcess } from '../helpers/server.js';

/**
 * The shipped nginx.conf and its chunk cache in front of a protected dataset (issue #18): a
 * member's answer is never served from the cache to anyone else — an unauthenticated request
 * after an authenticated one gets 401, not the cached chunk — while public chunks are still
 * cached. Two real strato replicas (in this process), real nginx, tokens of a real OpenID Provider.
 */
let dir: string;
let op: TestIdentityProvider;
let replicas: RunningServer[] = [];
let nginx: ChildProcess | undefined;
let front: string;
let member: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The shipped config, rewritten only where an operator would edit it (each rewrite must match). */
function rewriteConfig(shipped: string, port: number): string {
  const rewrites: Array<[string, string]> = [
    ['server 127.0.0.1:8001 ', `server 127.0.0.1:${new URL(replicas[0]?.url ?? '').port} `],
    ['server 127.0.0.1:8002 ', `server 127.0.0.1:${new URL(replicas[1]?.url ?? '').port} `],
    ['listen 8080;', `listen 127.0.0.1:${port};`],
    ['/var/cache/nginx/strato', join(dir, 'cache')],
    ['pid /run/nginx-strato.pid;', `pid ${join(dir, 'nginx.pid')};`],
    ['error_log /var/log/nginx/strato-error.log', `error_log ${join(dir, 'error.log')}`],
    ['access_log /var/log/nginx/strato-access.log', `access_log ${join(dir, 'access.log')}`],
  ];
  let config = shipped;
  for (const [from, to] of rewrites) {
    if (!config.includes(from)) throw new Error(`nginx.conf no longer contains ${JSON.stringify(from)}: update the test's rewrites`);
    config = config.split(from).join(to);
  }
  return config;
}

beforeAll(async () => {
  op = await startIdentityProvider();
  const made = await makeGridCatalog();
  dir = made.dir;
  await chmod(dir, 0o755); // nginx workers may run as www-data and read the cache below
  const catalog = (await readFile(made.catalog, 'utf8')).replace(
    'datasets:\n  grid: {refs: refs/grid.json,',
    `auth:\n  issuers: [{issuer: "${op.issuer}", audience: ${op.audience}}]\ndatasets:\n  twin: {refs: refs/grid.json}\n  grid: {access: {roles: [eerie-members]}, refs: refs/grid.json,`,
  );
  await writeFile(made.catalog, catalog);
  replicas = await Promise.all([startInProcess(made.catalog), startInProcess(made.catalog)]);
  member = await op.token('member');
  await mkdir(join(dir, 'cache', 'tmp'), { recursive: true });
  const port = await freePort();
  front = `http://127.0.0.1:${port}`;
  const config = join(dir, 'nginx.conf');
  await writeFile(config, rewriteConfig(await readFile(join(repoRoot, 'nginx.conf'), 'utf8'), port));
  const child = spawn('nginx', ['-c', config, '-p', dir, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  nginx = child;
  let output = '';
  child.stderr?.on('data', (part: Buffer) => (output += part.toString()));
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${output}`);
    const status = await fetch(`${front}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() - started > 10_000) throw new Error(`nginx did not answer in 10 s (last status ${status}):\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 60_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((resolve) => nginx?.once('exit', resolve));
    nginx.kill('SIGTERM');
    await exited;
  }
  await Promise.all(replicas.map((replica) => replica.close()));
  await op?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const get = (path: string, token?: string) => fetch(`${front}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('nginx.conf and protected datasets', () => {
  for (const path of ['/datasets/grid/zarr/t/0.0.0', '/datasets/grid/kerchunk/.zmetadata', '/datasets/grid/zarr/zarr.json']) {
    it(`${path}: an anonymous request after a member's gets 401, not the cached answer`, async () => {
      const first = await get(path, member);
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-control')).toMatch(/^private/);
      const bytes = Buffer.from(await first.arrayBuffer());
      expect(bytes.length).toBeGreaterThan(0);
      for (let i = 0; i < 2; i++) {
        const anonymous = await get(path);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(Buffer.from(await anonymous.arrayBuffer()).equals(bytes)).toBe(false);
        const stranger = await get(path, 'not.a.token');
        expect(stranger.status).toBe(401);
      }
      const again = await get(path, member);
      expect(again.status).toBe(200);
      expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
    });
  }

  it('public chunks beside it are still cached', async () => {
    const path = '/datasets/twin/zarr/t/0.0.0';
    await (await get(path)).arrayBuffer();
    const second = await get(path);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-cache-status')).toBe('HIT');
  });
});
