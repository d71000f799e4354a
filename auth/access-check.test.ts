import { describe, expect, it } from 'vitest';
import type { AccessRule } from '../catalog/auth-settings.js';
import { checkAccess, visibleTo } from './access-check.js';
import { type Authentication, Authenticator } from './authenticator.js';
import { principalFromClaims } from './principal.js';

const rule = (roles: string[]): AccessRule => ({ roles, groups: [], entitlements: [], scopes: [] });
const member: Authentication = { kind: 'principal', principal: principalFromClaims({ sub: 'm', realm_access: { roles: ['members'] } }, 'https://idp.example.org', 'strato') };
const open = { id: 'open', entry: {} };
const datasets = [open, { id: 'embargoed', entry: { access: rule(['members']) } }, { id: 'secret', entry: { access: rule(['others']) } }];

describe('visibleTo', () => {
  it('hides what the caller may not read and names the choice for caches', () => {
    expect(visibleTo({ kind: 'anonymous' }, datasets)).toEqual({ items: [datasets[0]], filter: 'visible:' });
    expect(visibleTo(member, datasets)).toEqual({ items: [datasets[0], datasets[1]], filter: 'visible:embargoed' });
    expect(visibleTo({ kind: 'rejected', reason: 'x' }, datasets).items.map((d) => d.id)).toEqual(['open']);
    expect(visibleTo({ kind: 'anonymous' }, [open])).toEqual({ items: [open], filter: '' });
  });
});

describe('checkAccess', () => {
  const authenticator = Authenticator.create(undefined);
  it('lets anyone read a public dataset without looking at the token', async () => {
    const check = await checkAccess(authenticator, new Headers({ authorization: 'Bearer garbage' }), [undefined]);
    expect(check).toEqual({ decision: 'public', authentication: { kind: 'anonymous' }, headers: {} });
  });
  it('refuses a protected dataset without a valid token, 401 with a Bearer challenge and private headers', async () => {
    const none = await checkAccess(authenticator, new Headers(), [rule(['members'])]);
    expect(none.refusal).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="strato"', 'Cache-Control': 'private', Vary: 'Authorization' } });
    const malformed = await checkAccess(authenticator, new Headers({ authorization: 'Bearer a b' }), [undefined, rule(['members'])]);
    expect(malformed.refusal).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="strato", error="invalid_token"' } });
  });
});
