import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadCatalog } from '../../catalog/catalog-reload.js';
import { createLogger } from '../../server/log.js';
import { writeStaticStac } from '../../static-stac/regenerate.js';
import { makeGridCatalog } from '../helpers/grid-fixture.js';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';
import { startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';

/**
 * Every face of a protected dataset (issue #18), through the whole app with tokens of a real
 * OpenID Provider (oidc-provider on loopback): no token → 401 with `WWW-Authenticate: Bearer`, a
 * token without the role → 403, a member's token → 200 and a private answer; a dataset derived
 * from a protected one is guarded by its source's rule; listings show it to members only.
 */
let dir: string;
let op: TestIdentityProvider;
let strato: InProcessApp;
let member: string;
let outsider: string;
const logLines: string[] = [];

beforeAll(async () => {
  op = await startIdentityProvider();
  const made = await makeGridCatalog();
  dir = made.dir;
  const catalog = (await readFile(made.catalog, 'utf8')).replace(
    'datasets:\n  grid: {refs: refs/grid.json,',
    `auth:\n  issuers: [{issuer: "${op.issuer}", audience: ${op.audience}, admin_roles: [strato-admin]}]\ndatasets:\n  grid-monthly: {derive: {from: grid, resample: {time: month}, reduce: mean}, access: {roles: [eerie-members]}}\n  embargoed-broken: {refs: refs/missing.json, access: {roles: [eerie-members]}}\n  grid: {access: {roles: [eerie-members]}, refs: refs/grid.json,`,
  );
  await writeFile(made.catalog, catalog);
  strato = await openApp(made.catalog, undefined, { logger: createLogger('info', (line) => logLines.push(line)) });
  [member, outsider] = await Promise.all([op.token('member'), op.token('outsider')]);
}, 60_000);
afterAll(async () => {
  await strato?.close();
  await op?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });
const basic = (token: string): RequestInit => ({ headers: { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` } });

const FACES = [
  '',
  '/keys',
  '/dict',
  '/info',
  '/kerchunk/.zmetadata',
  '/kerchunk/t/.zarray',
  '/kerchunk/t/0.0.0',
  '/zarr/.zmetadata',
  '/zarr/t/0.0.0',
  '/zarr/zarr.json',
  '/zarr/t/zarr.json',
  '/zarr/t/c/0/0/0',
  '/groupby/t/time.month/mean/zarr/.zmetadata',
  '/opendap.dds',
  '/opendap.das',
  '/opendap.dods?t',
  '/catalog.yaml',
  '/stac',
  '/provenance',
  '/references.json',
  '/references.parq/.zmetadata',
];

describe('a protected dataset on every face', () => {
  for (const id of ['grid', 'grid-monthly']) {
    for (const face of FACES) {
      const path = `/datasets/${id}${face}`;
      it(`${path}: 401 without a token, 403 without the role, 200 and private with it`, async () => {
        const anonymous = await strato.request(path);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm="strato"/);
        expect(anonymous.headers.get('cache-control')).toBe('private');
        const body = await anonymous.text();
        expect(body).not.toMatch(/"t"|Air temperature/);

        const forbidden = await strato.request(path, bearer(outsider));
        expect(forbidden.status).toBe(403);
        expect(forbidden.headers.get('www-authenticate')).toContain('insufficient_scope');

        const broken = await strato.request(path, bearer(`${member.slice(0, -6)}AAAAAA`));
        expect(broken.status).toBe(401);
        expect(broken.headers.get('www-authenticate')).toContain('invalid_token');
        expect(await broken.text()).not.toMatch(/signature/i);

        const allowed = await strato.request(path, bearer(member));
        expect(allowed.status, await allowed.clone().text()).toBeLessThan(300);
        expect(allowed.headers.get('cache-control')).toMatch(/^private/);
        expect(allowed.headers.get('cache-control')).not.toMatch(/public|immutable/);
        expect(allowed.headers.get('vary')).toMatch(/Authorization/);

        const password = await strato.request(path, basic(member));
        expect(password.status).toBe(allowed.status);
      });
    }
  }

  it('a 304 of a chunk is private too', async () => {
    const first = await strato.request('/datasets/grid/zarr/t/0.0.0', bearer(member));
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await strato.request('/datasets/grid/zarr/t/0.0.0', { headers: { authorization: `Bearer ${member}`, 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(again.headers.get('cache-control')).toMatch(/^private/);
    expect(again.headers.get('vary')).toMatch(/Authorization/);
    const anonymous = await strato.request('/datasets/grid/zarr/t/0.0.0', { headers: { 'if-none-match': etag ?? '' } });
    expect(anonymous.status).toBe(401);
  });

  it('a plot of the dataset needs the token', async () => {
    const html = await (await strato.request('/datasets/grid/', bearer(member))).text();
    const plot = /<figcaption>[\s\S]*?<code>(plot\/[^<]+)<\/code>/.exec(html)?.[1]?.replace(/&#38;/g, '&');
    expect(plot).toBeDefined();
    const path = `/datasets/grid/${plot}`;
    expect((await strato.request(path)).status).toBe(401);
    expect((await strato.request(path, bearer(outsider))).status).toBe(403);
    const allowed = await strato.request(path, bearer(member));
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-type')).toBe('image/png');
    expect(allowed.headers.get('cache-control')).toMatch(/^private/);
  });

  it('a public dataset beside it is public as before, whatever token is sent', async () => {
    for (const init of [undefined, bearer(outsider), bearer('not-a-token')]) {
      const response = await strato.request('/datasets/sea-ice/zarr/siconc/0.0', init);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).not.toMatch(/private/);
    }
  });
});

describe('listings', () => {
  // as a browser asks (the landing page answers JSON links, no datasets, to other clients)
  const asBrowser = (init?: RequestInit): RequestInit => ({ ...init, headers: { ...(init?.headers as Record<string, string> | undefined), accept: 'text/html,*/*;q=0.8' } });
  const idsOf = async (path: string, init?: RequestInit): Promise<string> => (await strato.request(path, asBrowser(init))).text();

  it('/datasets, the landing page, intake and the catalog tree show it to members only', async () => {
    for (const path of ['/datasets', '/', '/intake.yaml', '/catalog/kerchunk/', '/catalog/zarr/.zmetadata']) {
      for (const init of [undefined, bearer(outsider)]) {
        const text = await idsOf(path, init);
        expect(text, path).toContain('sea-ice');
        // the id in a link, a JSON string or a YAML key (the page's CSS says `display:grid`)
        expect(text, path).not.toMatch(/[">/ ]grid[/"':]|grid-monthly/);
      }
      const shown = await strato.request(path, asBrowser(bearer(member)));
      expect(shown.status).toBe(200);
      const text = await shown.text();
      expect(text, path).toContain('sea-ice');
      expect(text, path).toMatch(/grid-monthly/);
      expect(shown.headers.get('cache-control'), path).toMatch(/^private/);
      expect(shown.headers.get('vary'), path).toMatch(/Authorization/);
    }
    expect(JSON.parse(await idsOf('/datasets', bearer(member))).sort()).toEqual(['grid', 'grid-monthly', 'sea-ice']);
  });

  it('the catalog tree does not serve a protected member to anonymous callers after a member asked', async () => {
    expect((await strato.request('/catalog/zarr/grid/t/0.0.0', bearer(member))).status).toBe(200);
    expect((await strato.request('/catalog/zarr/grid/t/0.0.0')).status).toBe(404);
    expect((await strato.request('/catalog/kerchunk/grid/.zmetadata')).status).toBe(404);
  });

  it('STAC collections, items and search (results and numberMatched) hide it from anonymous callers', async () => {
    type Search = { features: Array<{ id: string }>; numberMatched: number };
    const member_ = (await (await strato.request('/stac/search?limit=100', bearer(member))).json()) as Search;
    const anonymous = (await (await strato.request('/stac/search?limit=100')).json()) as Search;
    // the member asked first: anonymous must not get a cached member listing
    expect(member_.features.map((f) => f.id).sort()).toEqual(['grid', 'grid-monthly', 'sea-ice']);
    expect(member_.numberMatched).toBe(3);
    expect(anonymous.features.map((f) => f.id)).toEqual(['sea-ice']);
    expect(anonymous.numberMatched).toBe(1);
    const post = (await (
      await strato.request('/stac/search', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${outsider}` }, body: '{}' })
    ).json()) as Search;
    expect(post.numberMatched).toBe(1);
    for (const path of ['/stac', '/stac/collections']) {
      expect(await idsOf(path)).not.toMatch(/\bgrid\b/);
      const shown = await strato.request(path, asBrowser(bearer(member)));
      expect(shown.headers.get('cache-control')).toMatch(/^private/);
    }
    const collections = (await (await strato.request('/stac/collections', bearer(member))).json()) as { collections: Array<{ id: string }> };
    for (const { id } of collections.collections) {
      const items = await idsOf(`/stac/collections/${encodeURIComponent(id)}/items`);
      expect(items).not.toMatch(/"id":"grid/);
    }
  });

  it('/health names no protected entry to anonymous callers', async () => {
    const health = await idsOf('/health');
    expect(health).toContain('references-unreadable');
    expect(JSON.parse(health).datasets).toBe(1); // sea-ice: the protected ones are not counted either
    expect(health).not.toMatch(/embargoed|grid/);
  });
});

describe('the admin API', () => {
  it('accepts an OIDC token with an admin role of its issuer, refuses one without it', async () => {
    const remove = (init: RequestInit = {}) => strato.request('/admin/datasets/no-such-entry', { ...init, method: 'DELETE' });
    expect((await remove()).status).toBe(401);
    expect((await remove(bearer(member))).status).toBe(403);
    expect((await remove(basic(await op.token('admin')))).status).toBe(401);
    // past authentication: the entry does not exist
    expect((await remove(bearer(await op.token('admin')))).status).toBe(404);
  });
});

describe('OGC processes', () => {
  it('take a protected dataset as input only with a token that may read it (processes-protected.test.ts: the rest)', async () => {
    for (const [init, status] of [[{}, 401] as const, [bearer(outsider), 403] as const]) {
      for (const dataset of ['grid', 'grid-monthly']) {
        const response = await strato.request('/processes/subset/execution', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...((init as { headers?: Record<string, string> }).headers ?? {}) },
          body: JSON.stringify({ inputs: { dataset, variables: ['t'] } }),
        });
        expect(response.status, dataset).toBe(status);
        expect(await response.text()).not.toMatch(/Air temperature/);
      }
    }
  });
});

describe('the static STAC tree', () => {
  it('never contains a protected dataset', async () => {
    const out = join(dir, 'site');
    const result = await writeStaticStac(join(dir, 'catalog.yaml'), out, 'https://data.example.org');
    const written = result.files.join('\n');
    expect(written).toMatch(/sea-ice/);
    expect(written).not.toMatch(/[/"]grid[/."]|grid-monthly/);
    for (const file of result.files) expect(await readFile(join(out, file), 'utf8'), file).not.toMatch(/\/datasets\/grid[/-]/);
  });
});

describe('access decisions are counted', () => {
  it('/metrics counts denials by decision', async () => {
    await strato.request('/datasets/grid/keys');
    await strato.request('/datasets/grid/keys', bearer(outsider));
    const text = (await strato.metrics.render()).text;
    expect(text).toMatch(/strato_access_denied_total\{decision="unauthenticated"\} [1-9]/);
    expect(text).toMatch(/strato_access_denied_total\{decision="forbidden"\} [1-9]/);
    expect(text).not.toContain(member);
  });
});

describe('the access log', () => {
  it('has the decision, the subject and the dataset, never the token', async () => {
    logLines.length = 0;
    await strato.request('/datasets/grid/keys', bearer(member));
    await strato.request('/datasets/grid/keys', bearer(outsider));
    await strato.request('/datasets/grid/keys', bearer(`${member.slice(0, -4)}AAAA`));
    await strato.request('/datasets/sea-ice/keys', bearer(member));
    const lines = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');
    expect(lines.map(({ dataset, access, subject, status }) => ({ dataset, access, subject, status }))).toEqual([
      { dataset: 'grid', access: 'allowed', subject: 'member', status: 200 },
      { dataset: 'grid', access: 'forbidden', subject: 'outsider', status: 403 },
      { dataset: 'grid', access: 'unauthenticated', subject: undefined, status: 401 },
    ]);
    expect(lines[2]?.authentication).toBe('rejected');
    const logged = logLines.join('\n');
    expect(logged).not.toContain(member.split('.')[2]);
    expect(logged).not.toContain(outsider.split('.')[2]);
  });
});

describe('an issuer that cannot be reached', () => {
  it('keeps protected datasets closed (503, Retry-After) and public ones served', async () => {
    const made = await makeGridCatalog();
    try {
      // a port nothing listens on: the identity provider closed again
      const gone = await startIdentityProvider();
      const issuer = gone.issuer;
      const token = await gone.token('member');
      await gone.close();
      const text = (await readFile(made.catalog, 'utf8')).replace(
        'datasets:\n  grid: {refs: refs/grid.json,',
        `auth:\n  issuers: [{issuer: "${issuer}", audience: strato}]\ndatasets:\n  grid: {access: {roles: [eerie-members]}, refs: refs/grid.json,`,
      );
      await writeFile(made.catalog, text);
      const app = await openApp(made.catalog);
      try {
        expect((await app.request('/datasets/grid/keys')).status).toBe(401);
        const unchecked = await app.request('/datasets/grid/keys', bearer(token));
        expect(unchecked.status).toBe(503);
        expect(unchecked.headers.get('retry-after')).toBeTruthy();
        expect((await app.request('/datasets/sea-ice/keys')).status).toBe(200);
        expect(await (await app.request('/datasets', bearer(token))).json()).toEqual(['sea-ice']);
      } finally {
        await app.close();
      }
    } finally {
      await rm(made.dir, { recursive: true, force: true });
    }
  });
});

describe('a reload', () => {
  it('rebuilds the Authenticator when `auth` changes: tokens of the old issuer are then refused', async () => {
    const other = await startIdentityProvider();
    try {
      const file = join(dir, 'catalog.yaml');
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.replace(`issuer: "${op.issuer}"`, `issuer: "${other.issuer}"`));
      await reloadCatalog(strato.registry);
      expect((await strato.request('/datasets/grid/keys', bearer(member))).status).toBe(401);
      expect((await strato.request('/datasets/grid/keys', bearer(await other.token('member')))).status).toBe(200);
      expect(await (await strato.request('/datasets', bearer(member))).json()).toEqual(['sea-ice']);
      await writeFile(file, text);
      await reloadCatalog(strato.registry);
      expect((await strato.request('/datasets/grid/keys', bearer(member))).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
