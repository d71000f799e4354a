import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGridCatalog } from '../helpers/grid-fixture.js';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';
import { DEFAULT_CLIENTS, startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';

/**
 * OGC API – Processes on protected datasets (issues #17 and #18), through the whole app with
 * tokens of a real OpenID Provider: the dataset input is checked with the caller's own token (no
 * token → 401, no role → 403, a member → the job runs); the job is its owner's only (another
 * member with the same role gets 404 and does not see it listed); its provenance names the owner.
 */
let dir: string;
let op: TestIdentityProvider;
let strato: InProcessApp;
let member: string;
let colleague: string;
let outsider: string;
const savedJobDir = process.env.STRATO_JOB_DIR;

beforeAll(async () => {
  op = await startIdentityProvider({ clients: { ...DEFAULT_CLIENTS, colleague: DEFAULT_CLIENTS.member as Record<string, unknown> } });
  const made = await makeGridCatalog();
  dir = made.dir;
  const catalog = (await readFile(made.catalog, 'utf8')).replace(
    'datasets:\n  grid: {refs: refs/grid.json,',
    `auth:\n  issuers: [{issuer: "${op.issuer}", audience: ${op.audience}}]\ndatasets:\n  grid-public: {derive: {from: grid-open, resample: {time: month}, reduce: mean}}\n  grid-open: {refs: refs/grid.json}\n  grid-monthly: {derive: {from: grid, resample: {time: month}, reduce: mean}, access: {roles: [eerie-members]}}\n  grid: {access: {roles: [eerie-members]}, refs: refs/grid.json,`,
  );
  await writeFile(made.catalog, catalog);
  process.env.STRATO_JOB_DIR = join(dir, 'jobs');
  strato = await openApp(made.catalog);
  [member, colleague, outsider] = await Promise.all([op.token('member'), op.token('colleague'), op.token('outsider')]);
}, 60_000);
afterAll(async () => {
  if (savedJobDir === undefined) delete process.env.STRATO_JOB_DIR;
  else process.env.STRATO_JOB_DIR = savedJobDir;
  await strato?.close();
  await op?.close();
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

const auth = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
const get = (path: string, token?: string): Promise<Response> => strato.request(path, { headers: auth(token) });

function execute(dataset: string, token?: string, options: { async?: boolean; response?: 'raw' | 'document' } = {}): Promise<Response> {
  return strato.request('/processes/subset/execution', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.async ? { prefer: 'respond-async' } : {}), ...auth(token) },
    body: JSON.stringify({ inputs: { dataset, variables: ['t'] }, response: options.response ?? 'document' }),
  });
}

async function finished(jobID: string, token: string): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const status = (await (await get(`/jobs/${jobID}`, token)).json()) as Record<string, unknown>;
    if (status.status !== 'accepted' && status.status !== 'running') return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${jobID} did not finish`);
}

const expectPrivate = (response: Response): void => {
  expect(response.headers.get('cache-control')).toMatch(/^private\b/);
  expect(response.headers.get('vary')).toMatch(/Authorization/i);
};

describe('a protected dataset as a process input', () => {
  for (const dataset of ['grid', 'grid-monthly']) {
    it(`${dataset}: anonymous → 401 with WWW-Authenticate, outsider → 403, a broken token → 401`, async () => {
      const anonymous = await execute(dataset);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm="strato"/);
      expect(anonymous.headers.get('content-type')).toMatch(/problem\+json/);
      const body = await anonymous.text();
      expect(body).not.toMatch(/Air temperature|"t"/);

      const forbidden = await execute(dataset, outsider);
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers.get('www-authenticate')).toContain('insufficient_scope');
      expect(((await forbidden.json()) as { status: number }).status).toBe(403);

      const broken = await execute(dataset, `${member.slice(0, -6)}AAAAAA`, { async: true });
      expect(broken.status).toBe(401);
      expect(await broken.text()).not.toMatch(/signature/i);
    });
  }

  it('an unknown dataset is 404 for everyone, as /datasets/{id} says', async () => {
    for (const token of [undefined, outsider, member]) {
      expect((await execute('no-such-grid', token)).status).toBe(404);
      expect((await get('/datasets/no-such-grid', token)).status).toBe(404);
    }
  });

  it('the same refusals as /datasets/{id} (never more about whether an id exists)', async () => {
    for (const token of [undefined, outsider]) {
      expect((await execute('grid', token)).status).toBe((await get('/datasets/grid', token)).status);
    }
  });

  it('a member runs subset synchronously: 200, the NetCDF result, private', async () => {
    const response = await execute('grid', member, { response: 'raw' });
    expect(response.status).toBe(200);
    expectPrivate(response);
    expect(response.headers.get('content-type')).toBe('application/x-netcdf');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('HDF');
    const location = response.headers.get('location') ?? '';
    const jobID = location.split('/jobs/')[1] ?? '';
    const status = await get(`/jobs/${jobID}`, member);
    expect(status.status).toBe(200);
    expectPrivate(status);
  });

  it("a member runs subset asynchronously: 201, then the results and the Zarr store are the owner's only", async () => {
    const accepted = await strato.request('/processes/subset/execution', {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async', ...auth(member) },
      body: JSON.stringify({ inputs: { dataset: 'grid', variables: ['t'] }, outputs: { result: { format: { mediaType: 'application/vnd+zarr' } } } }),
    });
    expect(accepted.status).toBe(201);
    expectPrivate(accepted);
    const { jobID } = (await accepted.json()) as { jobID: string };
    expect((await finished(jobID, member)).status).toBe('successful');

    const results = await get(`/jobs/${jobID}/results`, member);
    expect(results.status).toBe(200);
    expectPrivate(results);
    const metadata = await get(`/jobs/${jobID}/results/result/.zmetadata`, member);
    expect(metadata.status).toBe(200);
    expectPrivate(metadata);
    expect(await metadata.text()).toMatch(/"t\/\.zarray"/);

    const paths = [`/jobs/${jobID}`, `/jobs/${jobID}/results`, `/jobs/${jobID}/results/result`, `/jobs/${jobID}/results/result/.zmetadata`, `/jobs/${jobID}/provenance`];
    for (const path of paths) {
      const other = await get(path, colleague);
      expect(other.status, path).toBe(404);
      expectPrivate(other);
      expect(await other.text()).not.toMatch(/"t\/|Air temperature|successful/);
      expect((await get(path, outsider)).status, path).toBe(404);
      const anonymous = await get(path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await get(path, `${member.slice(0, -6)}AAAAAA`)).status, path).toBe(401);
    }
    // nobody else dismisses it
    expect((await strato.request(`/jobs/${jobID}`, { method: 'DELETE', headers: auth(colleague) })).status).toBe(404);
    expect((await strato.request(`/jobs/${jobID}`, { method: 'DELETE' })).status).toBe(401);
    expect((await get(`/jobs/${jobID}`, member)).status).toBe(200);

    // its provenance names the owner (subject and issuer), never the token
    const provenance = await get(`/jobs/${jobID}/provenance`, member);
    expect(provenance.status).toBe(200);
    expectPrivate(provenance);
    const text = await provenance.text();
    expect(text).not.toContain(member);
    const document = JSON.parse(text) as { agent: Record<string, Record<string, unknown>>; wasAssociatedWith: Record<string, Record<string, string>> };
    const person = Object.entries(document.agent).find(([, attributes]) => JSON.stringify(attributes['prov:type']).includes('prov:Person'));
    expect(person).toBeDefined();
    expect(JSON.stringify(person?.[1])).toContain('"member"');
    expect(JSON.stringify(person?.[1])).toContain(op.issuer);
    expect(Object.values(document.wasAssociatedWith).some((relation) => relation['prov:agent'] === person?.[0])).toBe(true);
    // the input dataset's chain back to its source files, for the owner who may read it
    expect(text).toMatch(/grid\.json|refs/);

    // the owner dismisses it
    const dismissed = await strato.request(`/jobs/${jobID}`, { method: 'DELETE', headers: auth(member) });
    expect(dismissed.status).toBe(200);
    expectPrivate(dismissed);
    expect((await get(`/jobs/${jobID}`, member)).status).toBe(404);
  });

  it("/jobs lists the caller's jobs and public jobs only, privately", async () => {
    const mine = (await (await execute('grid', member, { async: true })).json()) as { jobID: string };
    const theirs = (await (await execute('grid', colleague, { async: true })).json()) as { jobID: string };
    const publicJob = (await (await execute('grid-open', undefined, { async: true })).json()) as { jobID: string };
    await finished(mine.jobID, member);
    await finished(theirs.jobID, colleague);
    await finished(publicJob.jobID, colleague);

    const ids = async (token?: string): Promise<string[]> => {
      const response = await get('/jobs', token);
      expect(response.status).toBe(200);
      expectPrivate(response);
      return ((await response.json()) as { jobs: Array<{ jobID: string }> }).jobs.map((job) => job.jobID);
    };
    const memberSees = await ids(member);
    expect(memberSees).toContain(mine.jobID);
    expect(memberSees).not.toContain(theirs.jobID);
    expect(memberSees).toContain(publicJob.jobID);
    const colleagueSees = await ids(colleague);
    expect(colleagueSees).toContain(theirs.jobID);
    expect(colleagueSees).not.toContain(mine.jobID);
    const anonymousSees = await ids();
    expect(anonymousSees).toContain(publicJob.jobID);
    expect(anonymousSees).not.toContain(mine.jobID);
    expect(anonymousSees).not.toContain(theirs.jobID);
  });

  it('a public job stays public: no owner, no requesting agent in its provenance, whoever ran it', async () => {
    for (const token of [undefined, member]) {
      const accepted = await execute('grid-open', token, { async: true });
      expect(accepted.status).toBe(201);
      expect(accepted.headers.get('cache-control')).toBe('no-store');
      const { jobID } = (await accepted.json()) as { jobID: string };
      expect((await finished(jobID, outsider)).status).toBe('successful');
      const provenance = await get(`/jobs/${jobID}/provenance`);
      expect(provenance.status).toBe(200);
      expect(provenance.headers.get('cache-control')).toBe('no-store');
      const text = await provenance.text();
      expect(text).not.toMatch(/prov:Person|"member"/);
    }
  });

  it('a derived dataset of a public source stays usable; the input check reads the derive chain', async () => {
    const response = await execute('grid-public', undefined, { async: true });
    expect(response.status).toBe(201);
    const { jobID } = (await response.json()) as { jobID: string };
    expect((await finished(jobID, outsider)).status).toBe('successful');
  });
});
