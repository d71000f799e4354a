/**
 * Who a validated token speaks for, read from its claims where Keycloak and EGI Check-in put them:
 *
 * - roles: `realm_access.roles` and `resource_access.<audience>.roles` (the client roles of
 *   strato's own audience only; other clients' roles are not ours);
 * - groups: `groups` (Keycloak writes full paths `/a/b` when "full group path" is on: `/a/b`
 *   and `a/b` both match; a parent group `/a` is not implied, nor is the last segment `b`);
 * - entitlements: `eduperson_entitlement` (a string or a list of URNs, AARC-G002); a rule matches
 *   an entitlement exactly or without its `#authority` suffix;
 * - scopes: `scope` (space-separated, RFC 9068) and `scp` (a list).
 *
 * Claims come from the token: shapes are never trusted. Lists are read only when they are
 * arrays, only their strings are kept, each list is bounded (MAX_VALUES of at most MAX_VALUE_LENGTH
 * characters; the rest is ignored), and names are looked up as own properties only
 * (`__proto__`, `constructor` are plain strings here).
 */
export interface Principal {
  /** `sub` (empty when the token has none). */
  readonly subject: string;
  readonly issuer: string;
  readonly roles: ReadonlySet<string>;
  readonly groups: ReadonlySet<string>;
  readonly entitlements: ReadonlySet<string>;
  readonly scopes: ReadonlySet<string>;
}

export const MAX_VALUES = 512;
export const MAX_VALUE_LENGTH = 1024;

export function principalFromClaims(claims: unknown, issuer: string, audience: string): Principal {
  const roles = new Set<string>();
  const groups = new Set<string>();
  const entitlements = new Set<string>();
  const scopes = new Set<string>();
  const subject = stringClaim(claims, 'sub') ?? '';
  addAll(roles, ownList(own(own(claims, 'realm_access'), 'roles')));
  addAll(roles, ownList(own(own(own(claims, 'resource_access'), audience), 'roles')));
  for (const group of ownList(own(claims, 'groups'))) {
    if (groups.size >= MAX_VALUES) break;
    groups.add(group);
    if (group.startsWith('/') && group.length > 1) groups.add(group.slice(1));
  }
  const entitlement = own(claims, 'eduperson_entitlement');
  addAll(entitlements, typeof entitlement === 'string' ? boundedStrings([entitlement]) : ownList(entitlement));
  const scope = own(claims, 'scope');
  if (typeof scope === 'string' && scope.length <= MAX_VALUES * MAX_VALUE_LENGTH) addAll(scopes, boundedStrings(scope.split(' ').filter((s) => s !== '')));
  addAll(scopes, ownList(own(claims, 'scp')));
  return Object.freeze({ subject, issuer, roles, groups, entitlements, scopes });
}

/** Whether an entitlement of the principal matches a rule's: exactly, or without its `#authority`. */
export function hasEntitlement(principal: Principal, wanted: string): boolean {
  if (principal.entitlements.has(wanted)) return true;
  for (const entitlement of principal.entitlements) {
    const hash = entitlement.indexOf('#');
    if (hash > 0 && entitlement.slice(0, hash) === wanted) return true;
  }
  return false;
}

function own(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

function stringClaim(claims: unknown, key: string): string | undefined {
  const value = own(claims, key);
  return typeof value === 'string' && value.length <= MAX_VALUE_LENGTH ? value : undefined;
}

function ownList(value: unknown): string[] {
  return Array.isArray(value) ? boundedStrings(value) : [];
}

function boundedStrings(values: readonly unknown[]): string[] {
  const out: string[] = [];
  const end = Math.min(values.length, MAX_VALUES);
  for (let i = 0; i < end; i++) {
    const value = values[i];
    if (typeof value === 'string' && value.length > 0 && value.length <= MAX_VALUE_LENGTH) out.push(value);
  }
  return out;
}

function addAll(target: Set<string>, values: readonly string[]): void {
  for (const value of values) {
    if (target.size >= MAX_VALUES) return;
    target.add(value);
  }
}
