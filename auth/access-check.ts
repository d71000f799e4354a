import type { AccessRule } from '../catalog/auth-settings.js';
import type { Authentication, Authenticator, Refusal } from './authenticator.js';
import { refusal } from './authenticator.js';
import type { HeaderSource } from './credentials.js';
import { type Decision, decideEach, mayRead } from './decide.js';

/**
 * The two questions every route asks, framework-free (server/ turns a refusal into a problem
 * response and adds `headers` to the answer):
 *
 * - `checkAccess`: may this request read a dataset guarded by `rules` (its own `access`, and for
 *   a derived dataset those of the datasets it is built on)? Tokens are only checked when a rule
 *   applies, so public datasets cost nothing.
 * - `visibleTo`: which datasets of a listing may this caller see, and a key naming that choice
 *   (for caches of listings: `''` when nothing was hidden by a rule).
 */
export interface AccessCheck {
  readonly decision: Decision;
  readonly authentication: Authentication;
  /** Set when the request is not let in. */
  readonly refusal?: Refusal;
  /** Headers of the answer: `Cache-Control: private` and `Vary: Authorization` for a protected dataset, none for a public one. */
  readonly headers: Readonly<Record<string, string>>;
}

const ANONYMOUS: Authentication = { kind: 'anonymous' };

export async function checkAccess(authenticator: Authenticator, headers: HeaderSource, rules: ReadonlyArray<AccessRule | undefined>): Promise<AccessCheck> {
  if (rules.every((rule) => rule === undefined)) return { decision: 'public', authentication: ANONYMOUS, headers: {} };
  const authentication = await authenticator.authenticate(headers);
  const decision = decideEach(authentication.kind === 'principal' ? authentication.principal : undefined, rules);
  if (decision === 'unauthenticated' || decision === 'forbidden') {
    const refused = refusal(decision, authentication);
    return { decision, authentication, refusal: refused, headers: refused.headers };
  }
  return { decision, authentication, headers: { 'Cache-Control': 'private', Vary: 'Authorization' } };
}

export interface Listed {
  readonly id: string;
  readonly entry: { readonly access?: AccessRule };
}

/** The items the caller may read, in their order, and a key of the protected ones among them. */
export function visibleTo<T extends Listed>(authentication: Authentication, items: readonly T[]): { readonly items: readonly T[]; readonly filter: string } {
  const principal = authentication.kind === 'principal' ? authentication.principal : undefined;
  const shown: T[] = [];
  const protectedShown: string[] = [];
  let hidden = false;
  for (const item of items) {
    if (mayRead(principal, item.entry.access)) {
      shown.push(item);
      if (item.entry.access) protectedShown.push(item.id);
    } else hidden = true;
  }
  const filter = hidden || protectedShown.length > 0 ? `visible:${protectedShown.sort().join(',')}` : '';
  return { items: shown, filter };
}
