import type { AccessRule } from '../catalog/auth-settings.js';
import { hasEntitlement, type Principal } from './principal.js';

/**
 * The access decision for one dataset:
 * - `public`: the dataset has no `access` rule; anyone reads it;
 * - `allowed`: the principal has any of the rule's roles, groups, entitlements or scopes;
 * - `unauthenticated`: protected and no valid token (401 with `WWW-Authenticate: Bearer`);
 * - `forbidden`: a valid token without the right claim (403).
 */
export type Decision = 'public' | 'allowed' | 'unauthenticated' | 'forbidden';

export function decide(principal: Principal | undefined, access: AccessRule | undefined): Decision {
  if (access === undefined) return 'public';
  if (principal === undefined) return 'unauthenticated';
  return grants(principal, access) ? 'allowed' : 'forbidden';
}

/**
 * The decision for a dataset built on others (a derived dataset, its `from` chain): every rule on
 * the way must let the principal in. `public` only when no rule applies; otherwise the first
 * refusal, `unauthenticated` before `forbidden` (a token may help).
 */
export function decideEach(principal: Principal | undefined, rules: ReadonlyArray<AccessRule | undefined>): Decision {
  const decisions = rules.map((access) => decide(principal, access));
  if (decisions.includes('unauthenticated')) return 'unauthenticated';
  if (decisions.includes('forbidden')) return 'forbidden';
  return decisions.includes('allowed') ? 'allowed' : 'public';
}

/** Whether a listing may show the dataset to this caller (`public` or `allowed`). */
export function mayRead(principal: Principal | undefined, access: AccessRule | undefined): boolean {
  const decision = decide(principal, access);
  return decision === 'public' || decision === 'allowed';
}

function grants(principal: Principal, access: AccessRule): boolean {
  return (
    access.roles.some((role) => principal.roles.has(role)) ||
    access.groups.some((group) => principal.groups.has(group.startsWith('/') ? group.slice(1) : group)) ||
    access.entitlements.some((entitlement) => hasEntitlement(principal, entitlement)) ||
    access.scopes.some((scope) => principal.scopes.has(scope))
  );
}
