import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, exportSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, accessLogFields, adminDecision, decideFor, refusal } from '../../auth/authenticator.js';
import { MAX_TOKEN_LENGTH } from '../../auth/credentials.js';
import { decide } from '../../auth/decide.js';
import { Introspector } from '../../auth/introspection.js';
import { TokenVerifier, type Verification } from '../../auth/token-verifier.js';
import { type AccessRule, type AuthSettings, parseAuth } from '../../catalog/auth-settings.js';
import { RESOURCE_OPAQUE, RESOURCE_OTHER, startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';

/**
 * Access tokens of a real OpenID Provider (oidc-provider on loopback) against auth/: the claims
 * Keycloak and EGI Check-in send, the attacks of issue #18, key rotation and introspection.
 */

let op: TestIdentityProvider;
let other: TestIdentityProvider;

beforeAll(async () => {
  [op, other] = await Promise.all([startIdentityProvider(), startIdentityProvider()]);
});
afterAll(async () => {
  await Promise.all([op?.close(), other?.close()]);
});

const settings = (extra: Record<string, unknown> = {}, issuer: Record<string, unknown> = {}): AuthSettings => {
  const parsed = parseAuth({ issuers: [{ issuer: op.issuer, audience: op.audience, admin_roles: ['strato-admin'], ...issuer }], ...extra });
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};
const rule = (fields: Partial<AccessRule>): AccessRule => ({ roles: [], groups: [], entitlements: [], scopes: [], ...fields });
const members = rule({ roles: ['eerie-members'] });
const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });
const basic = (token: string) => new Headers({ authorization: `Basic ${Buffer.from(`any:${token}`).toString('base64')}` });
const reasonOf = (verification: Verification) => (verification.kind === 'valid' ? 'valid' : verification.reason);

/** A JWT of `header` and `payload` with `signature` (base64url) as it is. */
const compact = (header: Record<string, unknown>, payload: Record<string, unknown>, signature = '') =>
  `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

describe('tokens of a real OpenID Provider', () => {
  it('a Keycloak-shaped token with the role is allowed, without it forbidden, none unauthenticated', async () => {
    const authenticator = Authenticator.create(settings());
    await authenticator.load();
    expect(authenticator.status()).toEqual([{ issuer: op.issuer, ready: true }]);
    const member = await authenticator.authenticate(bearer(await op.token('member')));
    expect(member.kind).toBe('principal');
    if (member.kind !== 'principal') return;
    expect([...member.principal.roles]).toEqual(['eerie-members', 'offline_access', 'reader']);
    expect(member.principal.groups.has('eerie/members')).toBe(true);
    expect(member.principal.scopes.has('read')).toBe(true);
    expect(decideFor(member, members)).toBe('allowed');
    expect(decideFor(member, rule({ roles: ['reader'] }))).toBe('allowed'); // client role of our audience
    expect(decideFor(member, rule({ roles: ['manage-account'] }))).toBe('forbidden'); // another client's role
    expect(decideFor(member, rule({ groups: ['/eerie/members'] }))).toBe('allowed');

    expect(accessLogFields(member, 'allowed')).toEqual({ access: 'allowed', subject: 'member', issuer: op.issuer });

    const outsider = await authenticator.authenticate(bearer(await op.token('outsider')));
    expect(decideFor(outsider, members)).toBe('forbidden');
    expect(refusal('forbidden', outsider)).toMatchObject({
      status: 403,
      headers: { 'WWW-Authenticate': 'Bearer realm="strato", error="insufficient_scope"', Vary: 'Authorization' },
    });

    const anonymous = await authenticator.authenticate(new Headers());
    expect(decideFor(anonymous, members)).toBe('unauthenticated');
    expect(decideFor(anonymous, undefined)).toBe('public');
    expect(refusal('unauthenticated', anonymous)).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="strato"', 'Cache-Control': 'private' } });
  });

  it('a Check-in-shaped token is allowed by its entitlement (with or without the authority)', async () => {
    const authenticator = Authenticator.create(settings());
    const checkin = await authenticator.authenticate(bearer(await op.token('checkin')));
    expect(decideFor(checkin, rule({ entitlements: ['urn:mace:egi.eu:group:eerie.eu:role=member'] }))).toBe('allowed');
    expect(decideFor(checkin, rule({ entitlements: ['urn:mace:egi.eu:group:eerie.eu:role=member#aai.egi.eu'] }))).toBe('allowed');
    expect(decideFor(checkin, rule({ entitlements: ['urn:mace:egi.eu:group:eerie.eu'] }))).toBe('forbidden');
    expect(decideFor(checkin, rule({ scopes: ['read'] }))).toBe('allowed');
    expect(decideFor(checkin, rule({ scopes: ['write'] }))).toBe('forbidden');
  });

  it('takes the token as the password of HTTP Basic (netCDF-C, cdo, .netrc)', async () => {
    const authenticator = Authenticator.create(settings());
    const token = await op.token('member');
    const viaBasic = await authenticator.authenticate(basic(token));
    expect(decideFor(viaBasic, members)).toBe('allowed');
    const wrong = await authenticator.authenticate(new Headers({ authorization: `Basic ${Buffer.from(token).toString('base64')}` }));
    expect(wrong.kind).toBe('rejected');
  });
});

describe('attacks', () => {
  let verifier: TokenVerifier;
  let member: string;
  beforeAll(async () => {
    verifier = new TokenVerifier(settings());
    await verifier.load();
    member = await op.token('member');
    expect((await verifier.verify(member)).kind).toBe('valid');
  });

  it('alg none is refused before any key is looked up', async () => {
    const [header] = member.split('.');
    const claims = payloadOf(member);
    const before = op.requests.get('/jwks') ?? 0;
    for (const alg of ['none', 'None', 'NONE']) {
      const forged = compact({ ...JSON.parse(Buffer.from(header as string, 'base64url').toString()), alg }, claims);
      expect(reasonOf(await verifier.verify(forged))).toMatch(/not allowed/);
    }
    expect(op.requests.get('/jwks') ?? 0).toBe(before);
  });

  it('HS256 signed with the public key is refused', async () => {
    const key = op.keys[0];
    if (!key) throw new Error('no key');
    const claims = payloadOf(member);
    for (const secret of [await exportSPKI(key.publicKey), JSON.stringify(key.publicJwk), String(key.publicJwk.n)]) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const unsigned = compact({ alg, kid: key.kid, typ: 'at+jwt' }, claims).slice(0, -1);
        const signature = createHmac(`sha${alg.slice(2)}`, secret)
          .update(unsigned)
          .digest('base64url');
        const verification = await verifier.verify(`${unsigned}.${signature}`);
        expect(verification.kind).toBe('invalid');
      }
    }
  });

  it('a token of another issuer is refused, also when it claims to be ours', async () => {
    expect(reasonOf(await verifier.verify(await other.token('member')))).toBe('unknown issuer');
    const key = other.keys[0];
    if (!key) throw new Error('no key');
    const claimsOurs = await other.sign({ iss: op.issuer, aud: op.audience, sub: 'x', exp: Math.floor(Date.now() / 1000) + 600, realm_access: { roles: ['eerie-members'] } });
    expect((await verifier.verify(claimsOurs)).kind).toBe('invalid');
  });

  it('a token for another audience is refused', async () => {
    const foreign = await op.token('member', { resource: RESOURCE_OTHER });
    expect(payloadOf(foreign).aud).toBe('other-service');
    expect((await verifier.verify(foreign)).kind).toBe('invalid');
    expect((await verifier.verify(await op.sign({ sub: 'x', aud: ['other-service'], exp: Math.floor(Date.now() / 1000) + 600 }))).kind).toBe('invalid');
  });

  it('exp and nbf are checked with the clock skew (30 s by default), and exp is required', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = async (claims: Record<string, unknown>) => (await verifier.verify(await op.sign({ sub: 'x', ...claims }))).kind;
    expect(await valid({ exp: now - 120 })).toBe('invalid');
    expect(await valid({ exp: now - 10 })).toBe('valid');
    expect(await valid({ exp: now + 600, nbf: now + 120 })).toBe('invalid');
    expect(await valid({ exp: now + 600, nbf: now + 10 })).toBe('valid');
    expect(await valid({})).toBe('invalid');
    expect(await valid({ exp: now + 600, typ: 'Refresh' })).toBe('invalid');
    expect(await valid({ exp: now + 600, typ: 'ID' })).toBe('invalid');
    const strict = new TokenVerifier(settings({ clock_skew_s: 0 }));
    expect((await strict.verify(await op.sign({ sub: 'x', exp: now - 10 }))).kind).toBe('invalid');
  });

  it('a truncated or altered signature is refused', async () => {
    const [header, payload, signature] = member.split('.') as [string, string, string];
    expect((await verifier.verify(`${header}.${payload}.${signature.slice(0, -4)}`)).kind).toBe('invalid');
    expect((await verifier.verify(`${header}.${payload}.`)).kind).toBe('invalid');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect((await verifier.verify(`${header}.${payload}.${flipped}`)).kind).toBe('invalid');
    const escalated = base64url.encode(JSON.stringify({ ...payloadOf(member), realm_access: { roles: ['strato-admin'] } }));
    expect((await verifier.verify(`${header}.${escalated}.${signature}`)).kind).toBe('invalid');
  });

  it('a huge token is refused before it is parsed, in the header and in the verifier', async () => {
    const huge = `${member}${'A'.repeat(MAX_TOKEN_LENGTH)}`;
    expect(reasonOf(await verifier.verify(huge))).toBe('token too large');
    const authenticator = Authenticator.create(settings());
    expect(await authenticator.authenticate(bearer(huge))).toEqual({ kind: 'rejected', reason: 'malformed Authorization header' });
    const claims = payloadOf(member);
    const padded = await op.sign({ ...claims, padding: 'x'.repeat(MAX_TOKEN_LENGTH) });
    expect(reasonOf(await verifier.verify(padded))).toBe('token too large');
  });

  it('garbage in the three parts is refused without a crash', async () => {
    for (const token of ['a.b.c', 'eyJ.eyJ.', '....', 'e30.e30.e30', compact({ alg: 'RS256' }, {}, 'AAAA'), compact({ alg: 'RS256', kid: 'x' }, { iss: op.issuer }, 'AAAA')]) {
      expect((await verifier.verify(token)).kind, token).toBe('invalid');
    }
  });

  it('a rejected token is 401 invalid_token and the problem never says why', async () => {
    const authenticator = Authenticator.create(settings());
    const rejected = await authenticator.authenticate(bearer(await other.token('member')));
    expect(decideFor(rejected, members)).toBe('unauthenticated');
    const answer = refusal('unauthenticated', rejected);
    expect(answer).toMatchObject({ status: 401, detail: 'the token is not valid', headers: { 'WWW-Authenticate': 'Bearer realm="strato", error="invalid_token"' } });
    expect(JSON.stringify(answer)).not.toMatch(/issuer|signature|expired|kid|audience/i);
    const logged = accessLogFields(rejected, 'unauthenticated');
    expect(logged).toMatchObject({ access: 'unauthenticated', authentication: 'rejected', authReason: 'unknown issuer' });
    expect(JSON.stringify(logged)).not.toContain('eyJ');
  });
});

describe('key rotation', () => {
  it('new keys are fetched on an unknown kid (rate limited); an old key works until the issuer drops it', async () => {
    const rotating = await startIdentityProvider();
    try {
      let clock = Date.now();
      const verifier = new TokenVerifier(settingsFor(rotating), { now: () => clock, refreshCooldownMs: 30_000, maxAgeMs: 600_000 });
      await verifier.load();
      const jwksFetches = () => rotating.requests.get('/jwks') ?? 0;
      const oldToken = await rotating.token('member');
      expect((await verifier.verify(oldToken)).kind).toBe('valid');
      expect(jwksFetches()).toBe(1);

      await rotating.rotate();
      const newToken = await rotating.token('member');
      expect(newToken.split('.')[0]).not.toBe(oldToken.split('.')[0]);
      // within the cooldown of the first fetch: the unknown kid is not fetched
      expect((await verifier.verify(newToken)).kind).toBe('invalid');
      expect(jwksFetches()).toBe(1);
      clock += 31_000;
      expect((await verifier.verify(newToken)).kind).toBe('valid');
      expect(jwksFetches()).toBe(2);
      expect((await verifier.verify(oldToken)).kind).toBe('valid');
      // a flood of unknown kids right after a refresh makes no more fetches
      for (let i = 0; i < 20; i++)
        expect((await verifier.verify(await rotating.sign({ sub: 'x', exp: Math.floor(clock / 1000) + 600 }, { kid: `unknown-${i}` }))).kind).toBe('invalid');
      expect(jwksFetches()).toBe(2);

      await rotating.dropOldKeys();
      clock += 60_000;
      expect((await verifier.verify(oldToken)).kind).toBe('valid'); // cached until the set is refetched
      clock += 600_000;
      expect((await verifier.verify(oldToken)).kind).toBe('invalid');
      expect((await verifier.verify(newToken)).kind).toBe('valid');
      expect(jwksFetches()).toBe(3);
    } finally {
      await rotating.close();
    }
  });
});

describe('introspection of opaque tokens (RFC 7662)', () => {
  it('accepts an active opaque token for our audience, caches the answer, refuses the rest', async () => {
    const env = { STRATO_TEST_INTROSPECTION: op.introspection.clientSecret };
    const introspection = { endpoint: op.introspection.endpoint, client_id: op.introspection.clientId, client_secret_env: 'STRATO_TEST_INTROSPECTION' };
    const authenticator = Authenticator.create(settings({}, { introspection }), { env });
    const opaque = await op.token('member', { resource: RESOURCE_OPAQUE });
    expect(opaque.split('.').length).toBe(1);
    const count = () => op.requests.get('/token/introspection') ?? 0;
    const before = count();
    const first = await authenticator.authenticate(bearer(opaque));
    expect(first.kind).toBe('principal');
    expect(decideFor(first, members)).toBe('allowed');
    expect(decideFor(await authenticator.authenticate(bearer(opaque)), members)).toBe('allowed');
    expect(count()).toBe(before + 1);
    expect((await authenticator.authenticate(bearer('not-a-token-the-op-issued'))).kind).toBe('rejected');
    expect((await authenticator.authenticate(bearer('not-a-token-the-op-issued'))).kind).toBe('rejected');
    expect(count()).toBe(before + 2); // refusals are remembered too

    const withoutSecret = Authenticator.create(settings({}, { introspection }), { env: {} });
    expect((await withoutSecret.authenticate(bearer(opaque))).kind).toBe('rejected');
    expect(withoutSecret.status()[0]?.problem).toMatch(/STRATO_TEST_INTROSPECTION is not set/);
    const noIntrospection = Authenticator.create(settings());
    expect((await noIntrospection.authenticate(bearer(opaque))).kind).toBe('rejected');
  });
});

describe('the introspection cache', () => {
  it('keeps an answer at most maxTtlMs and never past exp, and stays bounded', async () => {
    let clock = Date.now();
    const settings = { endpoint: op.introspection.endpoint, clientId: op.introspection.clientId, clientSecretEnv: 'UNUSED' };
    const introspector = new Introspector(op.issuer, op.audience, settings, op.introspection.clientSecret, { now: () => clock, maxTtlMs: 300_000, maxEntries: 2 });
    const count = () => op.requests.get('/token/introspection') ?? 0;
    const opaque = await op.token('checkin', { resource: RESOURCE_OPAQUE });
    const before = count();
    expect((await introspector.introspect(opaque))?.eduperson_entitlement).toEqual(expect.arrayContaining(['urn:mace:egi.eu:group:eerie.eu:role=member#aai.egi.eu']));
    clock += 299_000;
    await introspector.introspect(opaque);
    expect(count()).toBe(before + 1);
    clock += 2_000;
    expect(await introspector.introspect(opaque)).toBeDefined();
    expect(count()).toBe(before + 2);
    // past the token's own exp (an hour, by our clock): the cached answer is gone and a fresh one is refused
    clock += 3_600_000;
    expect(await introspector.introspect(opaque)).toBeUndefined();
    for (const bogus of ['a1', 'b2', 'c3', 'd4']) await introspector.introspect(bogus);
    expect(introspector.size).toBe(2);
  });
});

describe('the admin API check', () => {
  it('accepts the static token or a token with an admin role of its issuer', async () => {
    const authenticator = Authenticator.create(settings());
    expect(await adminDecision(bearer('static-secret-token'), 'static-secret-token', authenticator)).toBe('allowed');
    expect(await adminDecision(bearer(await op.token('admin')), 'static-secret-token', authenticator)).toBe('allowed');
    expect(await adminDecision(bearer(await op.token('admin')), undefined, authenticator)).toBe('allowed');
    expect(await adminDecision(bearer(await op.token('member')), 'static-secret-token', authenticator)).toBe('forbidden');
    expect(await adminDecision(bearer(await other.token('admin')), 'static-secret-token', authenticator)).toBe('unauthenticated');
    expect(await adminDecision(new Headers(), 'static-secret-token', authenticator)).toBe('unauthenticated');
    expect(await adminDecision(bearer('wrong'), undefined, Authenticator.create(undefined))).toBe('off');
    const noAdminRoles = Authenticator.create(settings({}, { admin_roles: [] }));
    expect(await adminDecision(bearer(await op.token('admin')), undefined, noAdminRoles)).toBe('off');
    expect(await adminDecision(bearer(await op.token('admin')), 'static-secret-token', noAdminRoles)).toBe('unauthenticated');
  });
});

describe('an issuer that cannot be used fails closed', () => {
  let fake: Server;
  let fakeUrl: string;
  let answers: Map<string, { status: number; body: string }>;
  beforeAll(async () => {
    answers = new Map();
    fake = createServer((req, res) => {
      const answer = answers.get(req.url ?? '') ?? { status: 404, body: '{}' };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    fake.closeAllConnections();
    await new Promise<void>((resolve) => fake.close(() => resolve()));
  });

  const verifierFor = (issuer: string) => {
    const parsed = parseAuth({ issuers: [{ issuer, audience: 'strato' }] });
    if (typeof parsed === 'string') throw new Error(parsed);
    return Authenticator.create(parsed, { timeoutMs: 2000 });
  };

  it('discovery unreachable at start: not ready, tokens are unavailable (503), protected data stays closed', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const authenticator = verifierFor(`http://127.0.0.1:${port}`);
    await authenticator.load();
    expect(authenticator.status()[0]).toMatchObject({ ready: false });
    const token = await op.sign({ iss: `http://127.0.0.1:${port}`, sub: 'x', exp: Math.floor(Date.now() / 1000) + 600, realm_access: { roles: ['eerie-members'] } });
    const authentication = await authenticator.authenticate(bearer(token));
    expect(authentication.kind).toBe('unavailable');
    expect(decideFor(authentication, members)).toBe('unauthenticated');
    expect(refusal('unauthenticated', authentication).status).toBe(503);
    expect(decide(undefined, members)).toBe('unauthenticated');
  });

  it('discovery naming another issuer, a JWKS too large, or not JSON: no keys', async () => {
    const cases: Array<[string, Record<string, unknown> | string]> = [
      ['/a', { issuer: 'https://evil.example', jwks_uri: `${fakeUrl}/a/jwks` }],
      ['/b', { issuer: `${fakeUrl}/b`, jwks_uri: 'http://10.0.0.1/jwks' }],
      ['/c', { issuer: `${fakeUrl}/c`, jwks_uri: `${fakeUrl}/c/jwks` }],
      ['/d', { issuer: `${fakeUrl}/d`, jwks_uri: `${fakeUrl}/d/jwks` }],
      ['/e', 'not json'],
    ];
    answers.set('/c/jwks', { status: 200, body: JSON.stringify({ keys: [op.keys[0]?.publicJwk], padding: 'x'.repeat(1024 * 1024) }) });
    answers.set('/d/jwks', { status: 200, body: JSON.stringify({ keys: [op.keys[0]?.privateJwk, { kty: 'oct', k: 'c2VjcmV0', kid: op.keys[0]?.kid }] }) });
    for (const [path, document] of cases) {
      answers.set(`${path}/.well-known/openid-configuration`, { status: 200, body: typeof document === 'string' ? document : JSON.stringify(document) });
      const authenticator = verifierFor(`${fakeUrl}${path}`);
      await authenticator.load();
      if (path === '/d') {
        // private and symmetric keys are dropped: the set loads, but holds nothing to verify with
        const token = await op.sign({ iss: `${fakeUrl}/d`, sub: 'x', exp: Math.floor(Date.now() / 1000) + 600 });
        expect((await authenticator.authenticate(bearer(token))).kind).toBe('rejected');
        continue;
      }
      expect(authenticator.status()[0], path).toMatchObject({ ready: false });
    }
  });
});

function settingsFor(provider: TestIdentityProvider): AuthSettings {
  const parsed = parseAuth({ issuers: [{ issuer: provider.issuer, audience: provider.audience }] });
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}
