import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminPlugin } from '../../plugins/admin/index.js';
import { createMetricsPlugin } from '../../plugins/metrics/index.js';
import { createVersionsPlugin } from '../../plugins/versions/index.js';
import { defaultPlugins } from '../../server/default-plugins.js';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';
import { ADMIN_TOKEN, adminFetch, zarray } from '../helpers/admin-fixture.js';

/**
 * Issue #13 F9: what strato tells the public and the admin about its files. `/health` names
 * left-out datasets and a reason class, never paths, resolved targets or the allow list (those
 * are in the log, and in `/health` for the admin token); admin refusals never quote the bytes of
 * a file and answer alike whether a path outside the roots exists or not.
 * Issue #13 F12(b): a `processing` block the processed view cannot use is refused at registration.
 */
const INTERNAL = 'http://archive.internal.example:8080/bucket/';
const SECRET_BYTES = 'TOPSECRET-7f3a-not-a-reference-table';
const UNLIMITED = { ratePerSecond: 10_000, burst: 10_000 };

let dir: string;
let catalog: string;
let server: RunningServer;
const logLines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-leaks-'));
  for (const sub of ['data', 'refs', 'outside']) await mkdir(join(dir, sub));
  await writeFile(
    join(dir, 'data', 'bytes.bin'),
    Uint8Array.from({ length: 256 }, (_, i) => i),
  );
  await writeFile(join(dir, 'outside', 'secret.bin'), 'secret');
  await symlink(join(dir, 'outside', 'secret.bin'), join(dir, 'data', 'link-to-existing.bin'));
  await symlink(join(dir, 'outside', 'no-such.bin'), join(dir, 'data', 'link-to-missing.bin'));
  const table = (url: string) =>
    JSON.stringify({ 'v/.zarray': zarray([8], [4]), 'v/.zattrs': '{"_ARRAY_DIMENSIONS": ["x"]}', 'v/0': ['../data/bytes.bin', 0, 4], 'v/1': [url, 0, 4] });
  await writeFile(join(dir, 'refs', 'good.json'), table('../data/bytes.bin'));
  await writeFile(join(dir, 'refs', 'escape.json'), table(join(dir, 'outside', 'secret.bin')));
  await writeFile(join(dir, 'refs', 'to-passwd.json'), table('/etc/passwd'));
  await writeFile(join(dir, 'refs', 'to-nothing.json'), table('/no/such/file'));
  await writeFile(join(dir, 'refs', 'link-existing.json'), table('../data/link-to-existing.bin'));
  await writeFile(join(dir, 'refs', 'link-missing.json'), table('../data/link-to-missing.bin'));
  // not reference tables: a secret next to the catalog, and JSON with secret text where a reference belongs
  await writeFile(join(dir, 'refs', 'garbage.json'), `${SECRET_BYTES}\n${'x'.repeat(100)}`);
  await writeFile(join(dir, 'refs', 'json-secret.json'), JSON.stringify({ 'v/.zarray': zarray([8], [4]), 'v/0': { password: SECRET_BYTES } }));
  await writeFile(join(dir, 'refs', 'bad-metadata-secret.json'), JSON.stringify({ 'v/.zarray': [SECRET_BYTES] }));
  await mkdir(join(dir, 'refs', 'garbage.parq'));
  await writeFile(join(dir, 'refs', 'garbage.parq', '.zmetadata'), SECRET_BYTES);
  catalog = join(dir, 'catalog.yaml');
  await writeFile(
    catalog,
    `datasets:
  good: {refs: refs/good.json}
  missing: {refs: refs/missing.json}
  escape: {refs: refs/escape.json}
sources:
  allow: [data/, "${INTERNAL}"]
`,
  );
  const plugins = [
    ...defaultPlugins.filter((p) => !['admin', 'versions', 'metrics'].includes(p.name)),
    createVersionsPlugin({ adminToken: ADMIN_TOKEN, rateLimit: UNLIMITED }),
    createAdminPlugin({ token: ADMIN_TOKEN, rateLimit: UNLIMITED }),
    createMetricsPlugin({ access: 'token', token: 'metrics-token-1234' }),
  ];
  server = await startServer({ catalog, port: 0, host: '127.0.0.1', logger: createLogger('info', (line) => logLines.push(line)), plugins });
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const admin = (path: string, init: Parameters<typeof adminFetch>[1]) => adminFetch(`${server.url}${path}`, init);
const register = async (refs: string, extra: Record<string, unknown> = {}) => {
  const response = await admin('/admin/datasets', { method: 'POST', body: { id: 'probe', refs, ...extra } });
  const text = await response.text();
  return { status: response.status, text, detail: (JSON.parse(text) as { detail?: string }).detail ?? '' };
};

describe('F9: /health and admin refusals leak no paths, targets, allow list or file bytes', () => {
  it('public /health: dataset ids and reason classes only', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      status: 'degraded',
      datasets: 1,
      problems: [
        { id: 'missing', reason: 'references-unreadable' },
        { id: 'escape', reason: 'source-forbidden' },
      ],
    });
    // no absolute path (no "/" at all), no allow-list entry, no resolved target
    expect(text).not.toContain('/');
    expect(text).not.toContain('internal');
    expect(text).not.toContain('secret');
  });

  it('/health with the admin token has the full messages; the log has them too', async () => {
    const response = await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { problems: Array<{ id: string; reason: string; message: string }> };
    const byId = Object.fromEntries(body.problems.map((p) => [p.id, p.message]));
    expect(byId.missing).toContain(join(dir, 'refs', 'missing.json'));
    expect(byId.escape).toContain(join(dir, 'outside', 'secret.bin'));
    expect(byId.escape).toContain('archive.internal.example');
    const logged = logLines.join('\n');
    expect(logged).toContain(join(dir, 'refs', 'missing.json'));
    expect(logged).toMatch(/"reasonClass":"source-forbidden"/);
  });

  it('/health with a wrong token is a 401, not the public view (no guessing around the admin limit)', async () => {
    const response = await fetch(`${server.url}/health`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('problems');
  });

  it('admin: a refs file of garbage bytes is refused without quoting them', async () => {
    for (const refs of ['refs/garbage.json', 'refs/json-secret.json', 'refs/bad-metadata-secret.json', 'refs/garbage.parq']) {
      const answer = await register(refs);
      expect(answer.status, answer.text).toBe(422);
      expect(answer.text).not.toContain('TOPSECRET');
      expect(answer.text).not.toContain(dir); // the table is named as sent, not by its absolute path
      expect(answer.detail).toContain(refs);
    }
    expect((await register('refs/garbage.json')).detail).toMatch(/is not valid JSON/);
    // not even the one character V8 names ("Unexpected token 'T'")
    for (const refs of ['refs/garbage.json', 'refs/garbage.parq']) expect((await register(refs)).detail).not.toMatch(/'T'|"T/);
  });

  it('admin: "refs" outside the roots answers alike whether the file exists or not', async () => {
    const passwd = await register('/etc/passwd');
    const nothing = await register('/no/such/file');
    const nothingBelowAFile = await register('/etc/passwd/x');
    expect(passwd.status).toBe(422);
    expect(passwd.detail).toBe(nothing.detail);
    expect(nothingBelowAFile.detail).toBe(nothing.detail);
    expect(passwd.detail).toMatch(/outside the catalog's directory and the allowed sources/);
    // through the catalog directory: a path that exists there and one that does not, both escaping
    expect((await register('../../../../../../../etc/passwd')).detail).toBe(nothing.detail);
    expect((await register('../../../../../../../no/such/file')).detail).toBe(nothing.detail);
  });

  it('admin: chunk references to /etc/passwd and /no/such/file (and symlinks to existing and missing targets) answer alike', async () => {
    const passwd = await register('refs/to-passwd.json');
    const nothing = await register('refs/to-nothing.json');
    expect(passwd.status).toBe(422);
    expect(passwd.detail.replace('/etc/passwd', 'X').replace('to-passwd', 'T')).toBe(nothing.detail.replace('/no/such/file', 'X').replace('to-nothing', 'T'));
    const existing = await register('refs/link-existing.json');
    const missing = await register('refs/link-missing.json');
    expect(existing.status).toBe(422);
    expect(existing.detail.replace('existing', 'E')).toBe(missing.detail.replace('missing', 'E'));
    expect(existing.detail).not.toContain('secret');
    expect(existing.detail).toMatch(/it resolves outside the allowed sources/);
    // the full reason (where the symlink leads) is in the log
    expect(logLines.join('\n')).toContain(join(dir, 'outside', 'secret.bin'));
  });

  it('/metrics answers only with its token when STRATO_METRICS=token', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-1234' } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('strato_http_requests_total');
  });
});

describe('F12: the admin API refuses a processing block the processed view cannot use', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['an unknown setting', { chunkz: { x: 2 } }, /unknown processing setting\(s\) "chunkz"/],
    ['a chunk length of 0', { chunks: { x: 0 } }, /"processing\.chunks\.x" must be a positive integer/],
    ['chunks that are not a mapping', { chunks: [2] }, /"processing\.chunks" must map/],
    ['keepbits of text', { keepbits: 'ten' }, /"processing\.keepbits" must be a number/],
    ['keepbits over 52', { keepbits: { v: 99 } }, /"processing\.keepbits\.v" must be an integer from 0 to 52/],
    ['an unknown compressor', { compressor: { id: 'nonesuch' } }, /"processing\.compressor"/],
    ['a compressor without id', { compressor: { level: 1 } }, /"processing\.compressor" must be a numcodecs config/],
  ];
  for (const [what, processing, detail] of bad) {
    it(`F12: refuses ${what} with 422 naming the field, catalog untouched`, async () => {
      const before = await readFile(catalog, 'utf8');
      const answer = await register('refs/good.json', { processing });
      expect(answer.status, answer.text).toBe(422);
      expect(answer.detail).toMatch(detail);
      expect(await readFile(catalog, 'utf8')).toBe(before);
    });
  }

  it('F12: accepts a usable processing block, and its /zarr keys answer', async () => {
    const response = await admin('/admin/datasets/processed', {
      method: 'PUT',
      body: { refs: 'refs/good.json', processing: { chunks: { x: 8 }, compressor: { id: 'zlib', level: 1 } } },
    });
    expect(response.status).toBe(201);
    expect((await fetch(`${server.url}/datasets/processed/zarr/.zmetadata`)).status).toBe(200);
    const chunk = await fetch(`${server.url}/datasets/processed/zarr/v/0`);
    expect(chunk.status).toBe(200);
  });
});
