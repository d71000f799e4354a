import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOCK_SKEW_SECONDS, isLoopbackHost, issuerUrlProblem, parseAccess, parseAuth } from './auth-settings.js';

describe('parseAccess', () => {
  it('reads the four lists (any of them grants access)', () => {
    expect(parseAccess({ roles: ['eerie-members'], entitlements: ['urn:mace:egi.eu:group:eerie:role=member'] })).toEqual({
      roles: ['eerie-members'],
      groups: [],
      entitlements: ['urn:mace:egi.eu:group:eerie:role=member'],
      scopes: [],
    });
  });

  it('refuses anything it does not understand exactly (fail closed)', () => {
    const refused: unknown[] = [
      null,
      'eerie-members',
      ['eerie-members'],
      {},
      { roles: [] },
      { role: ['eerie-members'] },
      { roles: 'eerie-members' },
      { roles: [1] },
      { roles: [''] },
      { roles: ['x'.repeat(2000)] },
      { roles: Array.from({ length: 300 }, (_, i) => `r${i}`) },
      JSON.parse('{"__proto__": ["a"], "roles": ["x"]}'),
      { roles: ['a'], constructor: ['b'] },
    ];
    for (const value of refused) expect(typeof parseAccess(value), JSON.stringify(value)).toBe('string');
  });
});

describe('parseAuth', () => {
  it('reads issuers, audiences, admin roles, introspection and the clock skew', () => {
    const auth = parseAuth({
      issuers: [
        { issuer: 'https://idp.example.org/realms/climate', audience: 'strato', admin_roles: ['strato-admin'] },
        {
          issuer: 'https://aai.egi.eu/auth/realms/egi',
          audience: 'strato',
          introspection: { endpoint: 'https://aai.egi.eu/auth/realms/egi/protocol/openid-connect/token/introspect', client_id: 'strato', client_secret_env: 'EGI_SECRET' },
        },
      ],
    });
    expect(auth).toEqual({
      clockSkewSeconds: DEFAULT_CLOCK_SKEW_SECONDS,
      issuers: [
        { issuer: 'https://idp.example.org/realms/climate', audience: 'strato', adminRoles: ['strato-admin'] },
        {
          issuer: 'https://aai.egi.eu/auth/realms/egi',
          audience: 'strato',
          adminRoles: [],
          introspection: { endpoint: 'https://aai.egi.eu/auth/realms/egi/protocol/openid-connect/token/introspect', clientId: 'strato', clientSecretEnv: 'EGI_SECRET' },
        },
      ],
    });
    expect(parseAuth({ clock_skew_s: 5, issuers: [{ issuer: 'http://127.0.0.1:9000', audience: 'a' }] })).toMatchObject({ clockSkewSeconds: 5 });
  });

  it('refuses bad issuer URLs, missing audiences, unknown keys and unclear introspection', () => {
    const issuer = (fields: Record<string, unknown>) => ({ issuers: [{ issuer: 'https://idp.example.org', audience: 'strato', ...fields }] });
    const refused: Array<[unknown, RegExp]> = [
      [undefined, /mapping/],
      [{ issuers: [] }, /non-empty list/],
      [{ issuer: 'https://idp.example.org' }, /unknown key.*"issuer"/],
      [issuer({ issuer: 'http://idp.example.org' }), /loopback/],
      [issuer({ issuer: 'ftp://idp.example.org' }), /https/],
      [issuer({ issuer: 'not a url' }), /not a URL/],
      [issuer({ issuer: 'https://user:pw@idp.example.org' }), /user name/],
      [issuer({ issuer: 'https://idp.example.org/?a=1' }), /query/],
      [issuer({ audience: undefined }), /audience/],
      [issuer({ audience: '' }), /audience/],
      [issuer({ audiences: ['x'] }), /unknown key.*"audiences"/],
      [issuer({ admin_roles: 'admin' }), /admin_roles/],
      [issuer({ introspection: { endpoint: 'http://idp.example.org/i', client_id: 'c', client_secret_env: 'S' } }), /loopback/],
      [issuer({ introspection: { endpoint: 'https://idp.example.org/i', client_id: 'c', client_secret: 'inline' } }), /unknown key.*client_secret/],
      [issuer({ introspection: { endpoint: 'https://idp.example.org/i', client_id: 'c', client_secret_env: 'not a name' } }), /environment variable/],
      [
        {
          issuers: [
            { issuer: 'https://a.example', audience: 'x' },
            { issuer: 'https://a.example', audience: 'y' },
          ],
        },
        /twice/,
      ],
      [
        {
          issuers: ['https://a.example', 'https://b.example'].map((url) => ({
            issuer: url,
            audience: 'x',
            introspection: { endpoint: `${url}/i`, client_id: 'c', client_secret_env: 'S' },
          })),
        },
        /at most one issuer/,
      ],
      [{ ...issuer({}), clock_skew_s: -1 }, /clock_skew_s/],
      [{ ...issuer({}), clock_skew_s: 3600 }, /clock_skew_s/],
    ];
    for (const [value, message] of refused) expect(parseAuth(value), JSON.stringify(value)).toMatch(message);
  });
});

describe('issuer URLs', () => {
  it('accepts https anywhere and http only on loopback', () => {
    for (const url of ['https://idp.example.org/realms/x', 'http://127.0.0.1:8080', 'http://localhost:1/x', 'http://[::1]:8080/'])
      expect(issuerUrlProblem(url), url).toBeUndefined();
    for (const url of ['http://10.0.0.1', 'http://idp.example.org', 'http://127.0.0.1.example.org', 'http://[::2]/', 'javascript:alert(1)', 'file:///etc/passwd'])
      expect(issuerUrlProblem(url), url).toBeDefined();
  });
  it('knows loopback hosts', () => {
    expect(isLoopbackHost('127.255.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost.example.org')).toBe(false);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });
});
