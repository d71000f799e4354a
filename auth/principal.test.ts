import { describe, expect, it } from 'vitest';
import { decide, decideEach, mayRead } from './decide.js';
import { MAX_VALUES, principalFromClaims } from './principal.js';

const ISSUER = 'https://idp.example.org/realms/climate';
const rule = (fields: Partial<Record<'roles' | 'groups' | 'entitlements' | 'scopes', string[]>>) => ({ roles: [], groups: [], entitlements: [], scopes: [], ...fields });

describe('principalFromClaims', () => {
  it('reads a Keycloak access token: realm roles, client roles of our audience only, group paths, scope', () => {
    const principal = principalFromClaims(
      {
        sub: 'u1',
        realm_access: { roles: ['eerie-members', 'offline_access'] },
        resource_access: { strato: { roles: ['reader'] }, other: { roles: ['other-admin'] } },
        groups: ['/eerie/members', 'flat'],
        scope: 'openid  profile read',
      },
      ISSUER,
      'strato',
    );
    expect(principal.subject).toBe('u1');
    expect([...principal.roles]).toEqual(['eerie-members', 'offline_access', 'reader']);
    expect([...principal.groups]).toEqual(['/eerie/members', 'eerie/members', 'flat']);
    expect([...principal.scopes]).toEqual(['openid', 'profile', 'read']);
  });

  it('reads an EGI Check-in token: eduperson_entitlement as a string or a list', () => {
    const urn = 'urn:mace:egi.eu:group:eerie.eu:role=member#aai.egi.eu';
    expect([...principalFromClaims({ eduperson_entitlement: urn }, ISSUER, 'strato').entitlements]).toEqual([urn]);
    expect([...principalFromClaims({ eduperson_entitlement: [urn, 7, null] }, ISSUER, 'strato').entitlements]).toEqual([urn]);
  });

  it('never trusts shapes: prototype names, wrong types, huge lists', () => {
    const claims = JSON.parse(
      '{"__proto__": {"realm_access": {"roles": ["admin"]}}, "resource_access": {"__proto__": {"roles": ["x"]}}, "realm_access": {"roles": "admin"}, "groups": {"0": "g", "length": 1}, "scope": ["read"], "sub": 5}',
    ) as unknown;
    const principal = principalFromClaims(claims, ISSUER, 'strato');
    expect(principal.roles.size).toBe(0);
    expect(principal.groups.size).toBe(0);
    expect(principal.scopes.size).toBe(0);
    expect(principal.subject).toBe('');
    // an audience named __proto__ is an own key like any other
    expect([...principalFromClaims(claims, ISSUER, '__proto__').roles]).toEqual(['x']);
    // Object.prototype has no `roles`: an audience named like a prototype member finds nothing
    expect(principalFromClaims({ resource_access: {} }, ISSUER, 'constructor').roles.size).toBe(0);
    const huge = principalFromClaims({ realm_access: { roles: Array.from({ length: 100_000 }, (_, i) => `r${i}`) }, scope: 'a '.repeat(100_000) }, ISSUER, 'strato');
    expect(huge.roles.size).toBe(MAX_VALUES);
    expect(huge.scopes.size).toBeLessThanOrEqual(MAX_VALUES);
    for (const claims of [null, 'text', 42, [], undefined]) expect(principalFromClaims(claims, ISSUER, 'strato').roles.size).toBe(0);
  });
});

describe('decide', () => {
  const member = principalFromClaims(
    {
      sub: 'm',
      realm_access: { roles: ['eerie-members'] },
      groups: ['/eerie/members'],
      eduperson_entitlement: ['urn:mace:egi.eu:group:eerie:role=member#aai.egi.eu'],
      scope: 'read',
    },
    ISSUER,
    'strato',
  );
  const outsider = principalFromClaims({ sub: 'o', realm_access: { roles: ['other'] } }, ISSUER, 'strato');

  it('public without a rule, whoever asks', () => {
    expect(decide(undefined, undefined)).toBe('public');
    expect(decide(outsider, undefined)).toBe('public');
  });

  it('any of roles, groups, entitlements, scopes grants access', () => {
    expect(decide(member, rule({ roles: ['eerie-members'] }))).toBe('allowed');
    expect(decide(member, rule({ groups: ['/eerie/members'] }))).toBe('allowed');
    expect(decide(member, rule({ groups: ['eerie/members'] }))).toBe('allowed');
    expect(decide(member, rule({ entitlements: ['urn:mace:egi.eu:group:eerie:role=member'] }))).toBe('allowed');
    expect(decide(member, rule({ entitlements: ['urn:mace:egi.eu:group:eerie:role=member#aai.egi.eu'] }))).toBe('allowed');
    expect(decide(member, rule({ scopes: ['read'] }))).toBe('allowed');
    expect(decide(member, rule({ roles: ['nope'], scopes: ['read'] }))).toBe('allowed');
  });

  it('no token is unauthenticated, a token without the claim is forbidden', () => {
    const protectedRule = rule({ roles: ['eerie-members'] });
    expect(decide(undefined, protectedRule)).toBe('unauthenticated');
    expect(decide(outsider, protectedRule)).toBe('forbidden');
    expect(mayRead(outsider, protectedRule)).toBe(false);
    expect(mayRead(member, protectedRule)).toBe(true);
  });

  it('a dataset built on protected ones needs every rule on the way', () => {
    const roles = rule({ roles: ['eerie-members'] });
    const other = rule({ roles: ['other'] });
    expect(decideEach(member, [undefined, undefined])).toBe('public');
    expect(decideEach(member, [undefined, roles])).toBe('allowed');
    expect(decideEach(member, [roles, other])).toBe('forbidden');
    expect(decideEach(undefined, [undefined, roles])).toBe('unauthenticated');
    expect(decideEach(outsider, [roles, undefined])).toBe('forbidden');
  });

  it('matches names exactly: no parent groups, no last segments, no entitlement prefixes', () => {
    expect(decide(member, rule({ groups: ['/eerie'] }))).toBe('forbidden');
    expect(decide(member, rule({ groups: ['members'] }))).toBe('forbidden');
    expect(decide(member, rule({ entitlements: ['urn:mace:egi.eu:group:eerie'] }))).toBe('forbidden');
    expect(decide(member, rule({ roles: ['EERIE-MEMBERS'] }))).toBe('forbidden');
    expect(decide(member, rule({ roles: ['__proto__', 'constructor'] }))).toBe('forbidden');
  });
});
