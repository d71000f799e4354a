import { timingSafeEqual } from 'node:crypto';
import type { AccessRule, AuthSettings } from '../catalog/auth-settings.js';
import { credentialsOf, type HeaderSource } from './credentials.js';
import { type Decision, decide } from './decide.js';
import type { Principal } from './principal.js';
import { TokenVerifier, type TokenVerifierOptions } from './token-verifier.js';

/**
 * Who a request is, from its headers: what every face of a protected dataset, every listing and
 * the admin API ask (`server/` wires it; this layer knows no HTTP framework).
 *
 * - `anonymous`: no `Authorization` header;
 * - `principal`: a valid token (Bearer, or the Basic password);
 * - `rejected`: a header that is malformed, or a token that is not valid (bad signature, expired,
 *   another issuer or audience, ...): `reason` is for the log, never for the client;
 * - `unavailable`: the token could not be checked (the issuer's keys or introspection cannot be
 *   reached): the caller is not let in, and is told to retry (503).
 *
 * Without an `auth` section in the catalog there is no verifier: every token is `rejected` and
 * anonymous callers stay anonymous (public datasets are served as before).
 */
export type Authentication =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'principal'; readonly principal: Principal }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** How a refusal is answered: a problem document's status, title and detail, and its headers. */
export interface Refusal {
  readonly status: 401 | 403 | 503;
  readonly title: string;
  /** Safe for anyone: never why a signature or claim failed. */
  readonly detail: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Headers of every answer about a protected dataset (and of any answer that depended on the caller). */
export const PRIVATE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'private', Vary: 'Authorization' });

const REALM = 'strato';

export class Authenticator {
  private constructor(private readonly verifier: TokenVerifier | undefined) {}

  /** An authenticator for the catalog's `auth` section (none: no tokens are accepted). No I/O: call `load`. */
  static create(settings: AuthSettings | undefined, options: TokenVerifierOptions = {}): Authenticator {
    return new Authenticator(settings ? new TokenVerifier(settings, options) : undefined);
  }

  /** Discovery and keys of every issuer; never throws (an unreachable issuer is retried on use, `status` tells). */
  async load(): Promise<void> {
    await this.verifier?.load();
  }

  status(): ReadonlyArray<{ readonly issuer: string; readonly ready: boolean; readonly problem?: string }> {
    return this.verifier?.status() ?? [];
  }

  async authenticate(headers: HeaderSource): Promise<Authentication> {
    const credentials = credentialsOf(headers);
    if (credentials.kind === 'none') return { kind: 'anonymous' };
    if (credentials.kind === 'malformed') return { kind: 'rejected', reason: 'malformed Authorization header' };
    if (!this.verifier) return { kind: 'rejected', reason: 'no issuers configured' };
    const verification = await this.verifier.verify(credentials.token);
    if (verification.kind === 'valid') return { kind: 'principal', principal: verification.principal };
    if (verification.kind === 'unavailable') return { kind: 'unavailable', reason: verification.reason };
    return { kind: 'rejected', reason: verification.reason };
  }

  /** Whether some issuer has `admin_roles`: OIDC tokens can then use the admin API. */
  get acceptsAdminTokens(): boolean {
    return this.verifier?.settings.issuers.some((issuer) => issuer.adminRoles.length > 0) ?? false;
  }

  /** Whether the principal holds an admin role of the issuer that vouched for it. */
  isAdmin(principal: Principal): boolean {
    const roles = this.verifier?.issuerOf(principal)?.adminRoles ?? [];
    return roles.some((role) => principal.roles.has(role));
  }
}

/**
 * The decision for one dataset and one authentication. A public dataset is public whatever the
 * header says (clients send their token everywhere); for a protected one a rejected or unchecked
 * token is `unauthenticated` (answer it with `refusal`, which tells the two apart).
 */
export function decideFor(authentication: Authentication, access: AccessRule | undefined): Decision {
  return decide(authentication.kind === 'principal' ? authentication.principal : undefined, access);
}

/**
 * What the access log says of a decision: who (subject and issuer), the decision, and for a
 * refused token the reason (for operators). Never the token.
 */
export function accessLogFields(authentication: Authentication, decision: Decision): Record<string, string> {
  const fields: Record<string, string> = { access: decision };
  if (authentication.kind === 'principal') {
    fields.subject = authentication.principal.subject;
    fields.issuer = authentication.principal.issuer;
  } else {
    fields.authentication = authentication.kind;
    if (authentication.kind === 'rejected' || authentication.kind === 'unavailable') fields.authReason = authentication.reason;
  }
  return fields;
}

/** The answer to a request that is not let in (`unauthenticated` or `forbidden`), per RFC 6750 §3. */
export function refusal(decision: 'unauthenticated' | 'forbidden', authentication: Authentication): Refusal {
  if (decision === 'forbidden') {
    return {
      status: 403,
      title: 'Forbidden',
      detail: 'the token does not grant access to this dataset',
      headers: { ...PRIVATE_HEADERS, 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope"` },
    };
  }
  if (authentication.kind === 'unavailable') {
    return { status: 503, title: 'Service Unavailable', detail: 'the token cannot be checked now; try again later', headers: { ...PRIVATE_HEADERS, 'Retry-After': '30' } };
  }
  if (authentication.kind === 'rejected') {
    return {
      status: 401,
      title: 'Unauthorized',
      detail: 'the token is not valid',
      headers: { ...PRIVATE_HEADERS, 'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token"` },
    };
  }
  return {
    status: 401,
    title: 'Unauthorized',
    detail: 'this dataset needs a token: Authorization: Bearer <token>, or the token as the password of HTTP Basic',
    headers: { ...PRIVATE_HEADERS, 'WWW-Authenticate': `Bearer realm="${REALM}"` },
  };
}

/**
 * The admin API's check: the static token (`STRATO_ADMIN_TOKEN`, compared in constant time) or a
 * valid OIDC token with an admin role of its issuer (`admin_roles`). `off` when neither is
 * configured (the admin API is then not served). A valid token without an admin role is
 * `forbidden`; no token, a malformed header or a token that is neither is `unauthenticated`.
 */
export async function adminDecision(
  headers: HeaderSource,
  staticToken: string | undefined,
  authenticator: Authenticator,
): Promise<'allowed' | 'unauthenticated' | 'forbidden' | 'unavailable' | 'off'> {
  const oidc = authenticator.acceptsAdminTokens;
  if (!staticToken && !oidc) return 'off';
  const credentials = credentialsOf(headers);
  if (credentials.kind !== 'token') return 'unauthenticated';
  if (staticToken && sameSecret(credentials.token, staticToken)) return 'allowed';
  if (!oidc) return 'unauthenticated';
  const authentication = await authenticator.authenticate(headers);
  if (authentication.kind === 'unavailable') return 'unavailable';
  if (authentication.kind !== 'principal') return 'unauthenticated';
  return authenticator.isAdmin(authentication.principal) ? 'allowed' : 'forbidden';
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
