import { readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { makeGridCatalog } from '../helpers/grid-fixture.js';
import { underAttack } from '../helpers/hostile.js';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';
import { startInProcess } from '../helpers/server.js';

/**
 * Hostile `Authorization` headers against a protected dataset (issues #13 and #18): huge tokens,
 * malformed Basic base64, many headers at once, forged JWT headers (`alg: none`, a `kid` that is a
 * path or megabytes long, `__proto__` claims). Each is a 401 (or Node's own 431 for a header
 * over its limit), never a 500 or a leaked reason, never a read of the data, and `/health`
 * keeps answering while they arrive.
 */
let dir: string;
let op: TestIdentityProvider;
let server: RunningServer;
let member: string;

beforeAll(async () => {
  op = await startIdentityProvider();
  const made = await makeGridCatalog();
  dir = made.dir;
  const catalog = (await readFile(made.catalog, 'utf8')).replace(
    'datasets:\n  grid: {refs: refs/grid.json,',
    `auth:\n  issuers: [{issuer: "${op.issuer}", audience: ${op.audience}}]\ndatasets:\n  grid: {access: {roles: [eerie-members]}, refs: refs/grid.json,`,
  );
  await writeFile(made.catalog, catalog);
  server = await startInProcess(made.catalog);
  member = await op.token('member');
}, 60_000);
afterAll(async () => {
  await server?.close();
  await op?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const CHUNK = '/datasets/grid/zarr/t/0.0.0';
const jwt = (header: Record<string, unknown>, payload: Record<string, unknown>, signature = 'c2ln') =>
  `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`;

/** One request with node:http, every header line sent as given (arrays: the header repeated). */
function raw(path: string, headers: Record<string, string | string[]>): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: Number(url.port), path, headers }, (res) => {
      let body = '';
      res.on('data', (part: Buffer) => (body += part.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function hostileHeaders(): Array<[string, string | string[]]> {
  const claims = { iss: op.issuer, aud: op.audience, sub: 'x', exp: Math.floor(Date.now() / 1000) + 600, realm_access: { roles: ['eerie-members'] } };
  return [
    ['huge bearer under the header limit', `Bearer ${'A'.repeat(15_000)}`],
    ['huge three-part token', `Bearer ${'a'.repeat(5000)}.${'b'.repeat(5000)}.${'c'.repeat(4000)}`],
    ['Basic, bad base64', 'Basic !!!!****'],
    ['Basic, no colon', `Basic ${Buffer.from('tokenwithoutuser').toString('base64')}`],
    ['Basic, stray bits', 'Basic YWJjZA=='.replace('Z', 'a')],
    ['Basic, empty password', `Basic ${Buffer.from('user:').toString('base64')}`],
    ['Basic, binary garbage', `Basic ${Buffer.from(Uint8Array.from({ length: 3000 }, (_, i) => (i * 37) % 256)).toString('base64')}`],
    ['Bearer without a token', 'Bearer'],
    ['another scheme', 'Digest username="x", response="y"'],
    ['control characters', 'Bearer a\tb'],
    ['many Authorization headers', Array.from({ length: 12 }, (_, i) => (i === 0 ? 'Bearer nope' : `Bearer ${member}`))],
    ['alg none', `Bearer ${jwt({ alg: 'none', typ: 'JWT' }, claims, '')}`],
    ['kid is a path', `Bearer ${jwt({ alg: 'RS256', kid: '../../../../etc/passwd' }, claims)}`],
    ['kid of 10 000 characters', `Bearer ${jwt({ alg: 'RS256', kid: 'k'.repeat(10_000) }, claims)}`],
    ['__proto__ claims', `Bearer ${jwt({ alg: 'RS256', kid: op.keys[0]?.kid }, { ...claims, ['__proto__']: { admin: true }, constructor: { prototype: { x: 1 } } })}`],
    ['header JSON nested deep', `Bearer ${base64url.encode(`${'['.repeat(5000)}${']'.repeat(5000)}`)}.${base64url.encode('{}')}.c2ln`],
    ['not JSON', `Bearer ${base64url.encode('not json')}.${base64url.encode('{}')}.c2ln`],
  ];
}

describe('hostile Authorization headers', () => {
  it('each is refused with a 401 and no reason, the data never served', async () => {
    for (const [name, value] of hostileHeaders()) {
      const answer = await raw(CHUNK, { authorization: value });
      // Node keeps the first of repeated Authorization headers: 'Bearer nope' here
      expect(answer.status, name).toBe(401);
      expect(answer.body, name).not.toMatch(/signature|alg|kid|passwd|JWS|JWT|stack|\/home|\/tmp/i);
    }
  });

  it('over Node’s header limit: 431, and the server keeps serving', async () => {
    const answer = await raw(CHUNK, { authorization: `Bearer ${'A'.repeat(40_000)}` });
    expect(answer.status).toBe(431);
    expect((await raw(CHUNK, { authorization: `Bearer ${member}` })).status).toBe(200);
  });

  it('/health stays responsive while hundreds arrive at once', async () => {
    const headers = hostileHeaders();
    const report = await underAttack(server.url, async () => {
      const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => raw(CHUNK, { authorization: (headers[i % headers.length] as [string, string | string[]])[1] })));
      return answers.map((answer) => answer.status);
    });
    expect(new Set(report.result)).toEqual(new Set([401]));
    expect(report.healthAnswers).toBeGreaterThan(0);
    expect(report.worstHealthMs).toBeLessThan(1000);
    expect((await raw(CHUNK, { authorization: `Bearer ${member}` })).status).toBe(200);
  });
});
