import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { type IncomingHttpHeaders, request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminFetch, zarray } from '../helpers/admin-fixture.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * The shipped nginx.conf in front of two real strato replicas sharing one catalog file: xarray
 * reads through it, chunks and metadata are cached, JSON is gzipped and chunk bytes never are,
 * CORS survives caching, /metrics stays private, admin requests pass with their token, a client
 * address over the rate limit gets 429, and a replica killed mid-load costs no request.
 *
 * The test runs the shipped file, rewritten only where an operator would edit it (see `rewrites`:
 * the two upstream `server` lines, `listen 8080`, `/var/cache/nginx/strato`, `pid`, `error_log`,
 * `access_log`); each rewrite must match, so a changed config fails here instead of being skipped.
 */

interface CheckReport {
  ok: boolean;
  problems: string[];
  variables: number;
  values: number;
}

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One request with node:http: no automatic decompression, headers and path sent as given (no dot-segment removal). */
function raw(url: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<RawResponse> {
  const parts = /^http:\/\/([^/:]+):(\d+)(\/.*)?$/.exec(url);
  if (!parts) throw new Error(`not a loopback http URL: ${url}`);
  return new Promise((resolve, reject) => {
    const req = request({ host: parts[1], port: Number(parts[2]), path: parts[3] ?? '/', method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const portOf = (url: string) => new URL(url).port;

/** The shipped config with the operator's lines pointed at this test's ports and directory. */
function rewriteConfig(shipped: string, dir: string, nginxPort: number, replicas: readonly SpawnedServer[]): string {
  const rewrites: Array<[string, string]> = [
    ['server 127.0.0.1:8001 ', `server 127.0.0.1:${portOf(replicas[0]!.url)} `],
    ['server 127.0.0.1:8002 ', `server 127.0.0.1:${portOf(replicas[1]!.url)} `],
    ['listen 8080;', `listen 127.0.0.1:${nginxPort};`],
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

/** nginx in the foreground; resolves once it answers through to a replica. */
async function startNginx(config: string, dir: string, url: string): Promise<{ process: ChildProcess; output: () => string }> {
  const child = spawn('nginx', ['-c', config, '-p', dir, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (part: Buffer) => (output += part.toString()));
  child.stderr?.on('data', (part: Buffer) => (output += part.toString()));
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${output}`);
    const status = await raw(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return { process: child, output: () => output };
    if (Date.now() - started > 10_000) throw new Error(`nginx did not answer in 10 s (last status ${status}):\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface AccessLine {
  readonly request: string;
  readonly status: number;
  readonly cache: string;
  readonly upstreams: string[];
}

/** The lines of the shipped `strato` log_format (`... "GET /x HTTP/1.1" 200 ... cache=HIT upstream=A, B upstream_status=...`). */
function parseAccessLog(text: string): AccessLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const match = /"([^"]*)" (\d{3}) .* cache=(\S+) upstream=(.*) upstream_status=/.exec(line);
      if (!match) throw new Error(`access log line not in the strato format: ${line}`);
      const upstreams = match[4] === '-' ? [] : match[4]!.split(/, | : /);
      return { request: match[1]!, status: Number(match[2]), cache: match[3]!, upstreams };
    });
}

let dir: string;
let catalog: string;
let replicas: SpawnedServer[] = [];
let nginx: { process: ChildProcess; output: () => string } | undefined;
let front: string;
const killed = new Set<SpawnedServer>();
const accessLog = async () => parseAccessLog(await readFile(join(dir, 'access.log'), 'utf8'));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-nginx-'));
  await chmod(dir, 0o755); // nginx workers run as www-data and read the cache below
  await cp(join(repoRoot, 'demo'), join(dir, 'demo'), { recursive: true });
  catalog = join(dir, 'demo', 'catalog.yaml');
  // A dataset whose source goes missing once the replicas serve it: strato answers 502 for it.
  await writeFile(
    join(dir, 'demo', 'data', 'doomed.bin'),
    Uint8Array.from({ length: 20 }, (_, i) => i),
  );
  await writeFile(
    join(dir, 'demo', 'refs', 'doomed.json'),
    JSON.stringify({
      'v/.zarray': zarray([20], [10]),
      'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
      'v/0': ['../data/doomed.bin', 0, 10],
      'v/1': ['../data/doomed.bin', 10, 10],
    }),
  );
  const text = await readFile(catalog, 'utf8');
  await writeFile(catalog, text.replace('datasets:\n', 'datasets:\n  doomed: {refs: refs/doomed.json}\n'));
  await mkdir(join(dir, 'cache', 'tmp'), { recursive: true });
  const env = { STRATO_ADMIN_TOKEN: ADMIN_TOKEN };
  replicas = await Promise.all([spawnServer(catalog, ['--log-level', 'warn'], env), spawnServer(catalog, ['--log-level', 'warn'], env)]);
  await unlink(join(dir, 'demo', 'data', 'doomed.bin'));
  const port = await freePort();
  front = `http://127.0.0.1:${port}`;
  const config = join(dir, 'nginx.conf');
  await writeFile(config, rewriteConfig(await readFile(join(repoRoot, 'nginx.conf'), 'utf8'), dir, port, replicas));
  nginx = await startNginx(config, dir, front);
}, 60_000);

afterAll(async () => {
  if (nginx && nginx.process.exitCode === null) {
    const exited = new Promise((resolve) => nginx?.process.once('exit', resolve));
    nginx.process.kill('SIGTERM');
    await exited;
  }
  await Promise.all(replicas.filter((r) => !killed.has(r)).map((r) => r.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('nginx.conf in front of two replicas', () => {
  const demoFiles: Record<string, string[]> = {
    'tas-daily': ['tas_day_2001.nc', 'tas_day_2002.nc'],
    'pr-daily': ['pr_day_2001-2002.nc'],
  };
  const readWithXarray = async (id: string) => {
    const files = demoFiles[id]!.map((file) => join(dir, 'demo', 'data', file));
    const args = ['--url', `${front}/datasets/${id}/kerchunk`, '--files', ...files];
    if (files.length > 1) args.push('--combine-dim', 'time');
    const result = await runPython('test/interop/check_xarray.py', args);
    const report = lastJsonLine<CheckReport>(result.stdout || '{}');
    expect(report.problems, result.stderr).toEqual([]);
    expect(report.ok).toBe(true);
    return report;
  };

  for (const id of Object.keys(demoFiles)) {
    it(`xarray reads ${id} through nginx exactly as its NetCDF files, and a second read comes from the cache`, async () => {
      const before = (await accessLog()).length;
      const first = await readWithXarray(id);
      const firstRead = (await accessLog()).slice(before).filter((l) => l.request.includes(`/datasets/${id}/kerchunk/`));
      const middle = (await accessLog()).length;
      await readWithXarray(id);
      const secondRead = (await accessLog()).slice(middle).filter((l) => l.request.includes(`/datasets/${id}/kerchunk/`));
      const upstreamFirst = firstRead.filter((l) => l.upstreams.length > 0).length;
      const hits = secondRead.filter((l) => l.cache === 'HIT').length;
      console.log(
        `${id}: ${first.variables} variables, ${first.values} values equal; first read ${firstRead.length} requests (${upstreamFirst} to replicas), ` +
          `second read ${secondRead.length} requests, ${hits} cache hits, ${secondRead.filter((l) => l.upstreams.length > 0).length} to replicas`,
      );
      expect(upstreamFirst).toBeGreaterThan(0);
      expect(secondRead.length).toBeGreaterThan(0);
      // Chunks (max-age 3600) come from the cache; metadata (max-age 60) too, or after a 304
      // from a replica (REVALIDATED) on a machine slow enough to take a minute between reads.
      const metadataKey = (l: AccessLine) => /\/\.z\w+ /.test(l.request);
      expect(secondRead.filter((l) => !metadataKey(l)).every((l) => l.cache === 'HIT' && l.upstreams.length === 0 && l.status === 200)).toBe(true);
      expect(secondRead.filter(metadataKey).every((l) => ['HIT', 'REVALIDATED'].includes(l.cache) && l.status === 200)).toBe(true);
    });
  }

  it('caches a chunk once and answers Range and If-None-Match from the cache, CORS on every answer', async () => {
    const key = '/datasets/tas-daily/zarr/tas/1.0.0'; // the processed view: nothing has read it yet
    const direct = await raw(`${replicas[0]!.url}${key}`);
    expect(direct.status).toBe(200);
    const first = await raw(`${front}${key}`);
    const second = await raw(`${front}${key}`);
    expect([first.headers['x-cache-status'], second.headers['x-cache-status']]).toEqual(['MISS', 'HIT']);
    // each answer has the front's own request id, the cached one too (never the first request's, replayed)
    expect(first.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(second.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    for (const answer of [first, second]) {
      expect(answer.status).toBe(200);
      expect(answer.body.equals(direct.body)).toBe(true);
      expect(answer.headers.etag).toBe(direct.headers.etag);
      expect(answer.headers['access-control-allow-origin']).toBe('*');
    }
    const range = await raw(`${front}${key}`, { range: 'bytes=100-199' });
    expect(range.status).toBe(206);
    expect(range.headers['x-cache-status']).toBe('HIT');
    expect(range.headers['content-range']).toBe(`bytes 100-199/${direct.body.length}`);
    expect(range.body.equals(direct.body.subarray(100, 200))).toBe(true);
    expect(range.headers['access-control-allow-origin']).toBe('*');
    const head = await raw(`${front}${key}`, {}, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(direct.body.length), 0]);
    const preflight = await raw(
      `${front}${key}`,
      { origin: 'https://viewer.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
      'OPTIONS',
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/range/i);
    const notModified = await raw(`${front}${key}`, { 'if-none-match': String(direct.headers.etag) });
    expect(notModified.status).toBe(304);
    expect(notModified.headers['access-control-allow-origin']).toBe('*');
    const upstream = (await accessLog()).filter((l) => l.request.startsWith(`GET ${key} `) && l.upstreams.length > 0);
    expect(upstream).toHaveLength(1); // the replicas were asked once, by the first request
  });

  it('gzips JSON and YAML when asked, never chunk bytes', async () => {
    const compressed: string[] = [];
    for (const path of ['/datasets/tas-daily/kerchunk/.zmetadata', '/datasets', '/intake.yaml', '/stac', '/datasets/tas-daily/']) {
      const zipped = await raw(`${front}${path}`, { 'accept-encoding': 'gzip' });
      const plain = await raw(`${front}${path}`);
      expect([zipped.status, plain.status], path).toEqual([200, 200]);
      expect(plain.headers['content-encoding'], path).toBeUndefined();
      if (plain.body.length < 1024) continue; // gzip_min_length: tiny bodies are sent as they are
      expect(zipped.headers['content-encoding'], path).toBe('gzip');
      expect(zipped.headers.vary, path).toMatch(/Accept-Encoding/i);
      expect(gunzipSync(zipped.body).equals(plain.body), path).toBe(true);
      compressed.push(`${path} ${plain.headers['content-type']} ${plain.body.length} -> ${zipped.body.length} B`);
    }
    console.log(`gzipped: ${compressed.join('; ')}`);
    expect(compressed.map((line) => line.split(' ')[0])).toEqual(expect.arrayContaining(['/datasets/tas-daily/kerchunk/.zmetadata', '/intake.yaml', '/datasets/tas-daily/']));
    // Links in documents point at the front, not at the replica that wrote them.
    const intake = (await raw(`${front}/intake.yaml`)).body.toString();
    expect(intake).toContain(`${front}/datasets/tas-daily`);
    for (const replica of replicas) expect(intake).not.toContain(replica.url);
    for (const key of ['/datasets/tas-daily/kerchunk/tas/2.0.0', '/datasets/tas-daily/zarr/tas/2.0.0', '/datasets/pr-daily/kerchunk/pr/2.0.0']) {
      const direct = await raw(`${replicas[0]!.url}${key}`);
      for (let i = 0; i < 2; i++) {
        const answer = await raw(`${front}${key}`, { 'accept-encoding': 'gzip, deflate, br' });
        expect(answer.status, key).toBe(200);
        expect(answer.headers['content-encoding'], key).toBeUndefined();
        expect(answer.headers['content-type'], key).toBe('application/octet-stream');
        expect(answer.body.equals(direct.body), key).toBe(true);
      }
    }
  });

  it('passes strato errors through with CORS, and a broken source does not take the other datasets down', async () => {
    const missing = await raw(`${front}/datasets/tas-daily/kerchunk/tas/99.0.0`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect(missing.headers['access-control-allow-origin']).toBe('*');
    // 20 reads of a chunk whose file is gone: strato's 502 each time (nginx must not count it
    // against the replicas), while another dataset keeps answering 200.
    const broken: number[] = [];
    const healthy: number[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await raw(`${front}/datasets/doomed/kerchunk/v/1?attempt=${i}`);
      expect(answer.headers['access-control-allow-origin']).toBe('*');
      broken.push(answer.status);
      healthy.push((await raw(`${front}/datasets/tas-daily/kerchunk/lat/0?attempt=${i}`)).status);
    }
    expect(broken).toEqual(broken.map(() => 502));
    expect(healthy).toEqual(healthy.map(() => 200));
    const problem = JSON.parse((await raw(`${front}/datasets/doomed/kerchunk/v/0`)).body.toString()) as { status: number; detail: string };
    expect(problem.status).toBe(502); // strato's problem document, not nginx's page
    // An error nginx makes itself (a body over the admin limit) carries CORS too.
    const tooLarge = await raw(
      `${front}/admin/datasets`,
      { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      'POST',
      JSON.stringify({ id: 'big', refs: 'x', description: 'x'.repeat(70_000) }),
    );
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers['access-control-allow-origin']).toBe('*');
    expect(tooLarge.headers['content-type']).toBe('application/problem+json');
  });

  it('does not expose /metrics, whatever a replica answers there', async () => {
    const direct = await raw(`${replicas[0]!.url}/metrics`);
    const statuses: Record<string, number> = {};
    for (const path of ['/metrics', '/metrics?format=text', '//metrics', '/%6Detrics', '/./metrics', '/datasets/../metrics']) {
      const answer = await raw(`${front}${path}`);
      statuses[path] = answer.status;
      expect([403, 404], path).toContain(answer.status);
      if (direct.status === 200) expect(answer.body.equals(direct.body), path).toBe(false);
    }
    console.log(`/metrics directly on a replica: ${direct.status}; through nginx: ${JSON.stringify(statuses)}`);
  });

  it('passes admin requests with their Authorization; a registration is served by both replicas within 1 s', async () => {
    const refused = await adminFetch(`${front}/admin/datasets`, { method: 'POST', body: { id: 'via-front', refs: 'refs/tas-daily.json' }, token: 'wrong' });
    expect(refused.status).toBe(401);
    const registered = await adminFetch(`${front}/admin/datasets`, { method: 'POST', body: { id: 'via-front', refs: 'refs/tas-daily.json', title: 'Registered through nginx' } });
    expect(registered.status).toBe(201);
    const answeredAt = Date.now();
    const latencies = await Promise.all(
      replicas.map(async (replica) => {
        for (;;) {
          const status = (await fetch(`${replica.url}/datasets/via-front/kerchunk/.zmetadata`)).status;
          const elapsed = Date.now() - answeredAt;
          if (status === 200) return elapsed;
          if (elapsed > 1000) throw new Error(`via-front not served by ${replica.url} after ${elapsed} ms (status ${status})`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }),
    );
    console.log(`registered through nginx; served by replica 1 after ${latencies[0]} ms, replica 2 after ${latencies[1]} ms`);
    for (const latency of latencies) expect(latency).toBeLessThan(1000);
    expect((await raw(`${front}/datasets/via-front/kerchunk/tas/0.0.0`)).status).toBe(200);
  });

  it('rate limits a client address: a burst beyond 400 requests gets 429 problem+json with Retry-After; the host itself is exempt', async () => {
    // From 127.0.0.2 (another loopback address, so not the exempt 127.0.0.1): 700 GETs of a
    // cached key, 16 in flight, far faster than 100 requests/s.
    const key = '/datasets/tas-daily/kerchunk/lat/0';
    const { port } = new URL(front);
    const fromOther = () =>
      new Promise<RawResponse>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(port), path: key, localAddress: '127.0.0.2' }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    const total = 700;
    let next = 0;
    const answers: RawResponse[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          next++;
          answers.push(await fromOther());
        }
      }),
    );
    const elapsed = Date.now() - started;
    const statuses: Record<number, number> = {};
    for (const { status } of answers) statuses[status] = (statuses[status] ?? 0) + 1;
    console.log(`rate limit: ${total} requests from 127.0.0.2 in ${elapsed} ms: ${JSON.stringify(statuses)}`);
    expect(Object.keys(statuses).sort()).toEqual(['200', '429']);
    // the burst (400) plus what 100 requests/s refilled meanwhile passed, nothing else
    expect(statuses[200]).toBeGreaterThanOrEqual(400);
    expect(statuses[200]).toBeLessThanOrEqual(401 + Math.ceil((elapsed / 1000) * 100));
    const limited = answers.find((a) => a.status === 429)!;
    expect(limited.headers['content-type']).toBe('application/problem+json');
    expect(limited.headers['access-control-allow-origin']).toBe('*');
    expect(limited.headers['retry-after']).toBe('1');
    expect((JSON.parse(limited.body.toString()) as { status: number }).status).toBe(429);
    // the host itself is not limited, however hard 127.0.0.2 pushed
    expect((await raw(`${front}${key}`)).status).toBe(200);
  });

  it('loses no request when a replica is killed (SIGKILL) during 500 chunk GETs, 8 in flight', async () => {
    const total = 500;
    const inFlight = 8;
    const victim = replicas[1]!;
    const key = '/datasets/tas-daily/kerchunk/lon/0';
    const expected = await raw(`${replicas[0]!.url}${key}`);
    const before = (await accessLog()).length;
    let next = 0;
    let done = 0;
    const failures: string[] = [];
    const killedAfter = { requests: -1 };
    let victimExited: Promise<unknown> = Promise.resolve();
    const worker = async () => {
      while (next < total) {
        const n = next++;
        // A distinct query per request: every one misses the cache and reaches a replica.
        const answer = await raw(`${front}${key}?n=${n}`).catch((error: Error) => ({ status: 0, body: Buffer.from(error.message), headers: {} }));
        if (answer.status !== 200 || !answer.body.equals(expected.body)) failures.push(`#${n}: ${answer.status} ${answer.body.subarray(0, 120).toString()}`);
        done++;
        if (done === 100 && killedAfter.requests < 0) {
          killedAfter.requests = done;
          killed.add(victim);
          victimExited = new Promise((resolve) => victim.process.once('exit', resolve));
          victim.process.kill('SIGKILL');
        }
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: inFlight }, worker));
    const elapsed = Date.now() - started;
    await victimExited;
    const lines = (await accessLog()).slice(before).filter((l) => l.request.includes(`${key}?n=`));
    const victimAddress = `127.0.0.1:${portOf(victim.url)}`;
    const retried = lines.filter((l) => l.upstreams.length > 1).length;
    const byVictim = lines.filter((l) => l.upstreams.at(-1) === victimAddress).length;
    console.log(
      `failover: ${total} requests, ${failures.length} failed, killed replica 2 after ${killedAfter.requests}; ` +
        `${retried} retried on the other replica, ${byVictim} answered by replica 2, ${lines.length - byVictim} by replica 1; ${elapsed} ms`,
    );
    expect(failures).toEqual([]);
    expect(done).toBe(total);
    expect(victim.process.signalCode).toBe('SIGKILL');
    expect(lines).toHaveLength(total);
    expect(byVictim).toBeGreaterThan(0); // both replicas served before the kill
  });
});
