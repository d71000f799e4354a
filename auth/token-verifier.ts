import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { AuthSettings, IssuerSettings } from '../catalog/auth-settings.js';
import { MAX_TOKEN_LENGTH } from './credentials.js';
import { FetchJsonError } from './fetch-json.js';
import { Introspector, type IntrospectorOptions } from './introspection.js';
import { IssuerKeys, type IssuerKeysOptions, IssuerUnavailableError } from './issuer-keys.js';
import { type Principal, principalFromClaims } from './principal.js';

/**
 * Validates an access token against the catalog's issuers.
 *
 * A JWT (three base64url parts): its size is checked before anything parses it; its `alg` must be
 * in ALGORITHMS (asymmetric only: never `none`, never HS*, whose "secret" could be a public key);
 * its unverified `iss` picks the issuer (an exact match, else it is refused without a fetch);
 * then jose checks the signature with the issuer's key of that `kid`, `iss`, `aud` (the issuer's
 * audience), `exp` (required) and `nbf` with the clock skew. A Keycloak token whose `typ` claim
 * says it is not an access token (`ID`, `Refresh`) is refused.
 *
 * Anything else is an opaque token: introspected (RFC 7662) by the one issuer configured for it,
 * else refused.
 *
 * A JWT found valid is remembered (by its SHA-256, in a bounded LRU of `maxVerified`) until its
 * `exp` and at most `verifiedTtlMs` (default 60 s): a client sends the same token with every chunk
 * request, and a signature check costs 0.1–0.5 ms. A key the issuer removes therefore stops
 * working at most that much later than it would uncached.
 *
 * `reason` is for the log only: clients are never told why a token failed.
 */
export type Verification =
  | { readonly kind: 'valid'; readonly principal: Principal }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export const ALGORITHMS: readonly string[] = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface TokenVerifierOptions extends IssuerKeysOptions, Omit<IntrospectorOptions, 'clockSkewSeconds'> {
  /** JWTs found valid kept (default 10 000), and for how long at most (default 60 000 ms). */
  readonly maxVerified?: number;
  readonly verifiedTtlMs?: number;
  /** Environment the introspection client secret is read from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

interface Issuer {
  readonly settings: IssuerSettings;
  readonly keys: IssuerKeys;
}

export class TokenVerifier {
  private readonly issuers = new Map<string, Issuer>();
  private readonly introspector: Introspector | undefined;
  private readonly introspectionProblem: string | undefined;
  private readonly now: () => number;
  private readonly verified = new Map<string, { readonly principal: Principal; readonly until: number }>();
  private readonly maxVerified: number;
  private readonly verifiedTtl: number;

  constructor(
    readonly settings: AuthSettings,
    options: TokenVerifierOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxVerified = options.maxVerified ?? 10_000;
    this.verifiedTtl = options.verifiedTtlMs ?? 60_000;
    for (const issuer of settings.issuers) this.issuers.set(issuer.issuer, { settings: issuer, keys: new IssuerKeys(issuer.issuer, options) });
    const introspected = settings.issuers.find((issuer) => issuer.introspection !== undefined);
    if (introspected?.introspection) {
      const secret = (options.env ?? process.env)[introspected.introspection.clientSecretEnv];
      if (secret === undefined || secret === '') this.introspectionProblem = `introspection: environment variable ${introspected.introspection.clientSecretEnv} is not set`;
      else
        this.introspector = new Introspector(introspected.issuer, introspected.audience, introspected.introspection, secret, {
          ...options,
          clockSkewSeconds: settings.clockSkewSeconds,
        });
    }
  }

  /** Discovery and keys of every issuer (at start); never throws: see `status`. */
  async load(): Promise<void> {
    await Promise.all([...this.issuers.values()].map((issuer) => issuer.keys.load()));
  }

  status(): ReadonlyArray<{ readonly issuer: string; readonly ready: boolean; readonly problem?: string }> {
    const list = [...this.issuers.values()].map((issuer) => ({ issuer: issuer.settings.issuer, ...issuer.keys.state }));
    if (this.introspectionProblem !== undefined) {
      const index = list.findIndex((entry) => entry.issuer === this.settings.issuers.find((i) => i.introspection)?.issuer);
      const entry = list[index];
      if (entry) list[index] = { ...entry, problem: this.introspectionProblem };
    }
    return list;
  }

  /** The issuer settings of a principal (its admin roles). */
  issuerOf(principal: Principal): IssuerSettings | undefined {
    return this.issuers.get(principal.issuer)?.settings;
  }

  async verify(token: string): Promise<Verification> {
    if (token.length > MAX_TOKEN_LENGTH) return { kind: 'invalid', reason: 'token too large' };
    if (JWS_COMPACT.test(token)) {
      const key = createHash('sha256').update(token).digest('base64url');
      const known = this.verified.get(key);
      if (known && known.until > this.now()) return { kind: 'valid', principal: known.principal };
      if (known) this.verified.delete(key);
      const verification = await this.verifyJwt(token);
      if (verification.kind === 'valid' && this.verifiedTtl > 0) this.remember(key, verification.principal, verification.exp);
      return verification.kind === 'valid' ? { kind: 'valid', principal: verification.principal } : verification;
    }
    if (token.split('.').length === 5) return { kind: 'invalid', reason: 'encrypted tokens (JWE) are not accepted' };
    return this.verifyOpaque(token);
  }

  private remember(key: string, principal: Principal, exp: number): void {
    this.verified.set(key, { principal, until: Math.min(exp * 1000, this.now() + this.verifiedTtl) });
    while (this.verified.size > this.maxVerified) {
      const oldest = this.verified.keys().next().value;
      if (oldest === undefined) break;
      this.verified.delete(oldest);
    }
  }

  private async verifyJwt(token: string): Promise<Exclude<Verification, { kind: 'valid' }> | { readonly kind: 'valid'; readonly principal: Principal; readonly exp: number }> {
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      return { kind: 'invalid', reason: 'not a decodable JWT' };
    }
    if (typeof alg !== 'string' || !ALGORITHMS.includes(alg)) return { kind: 'invalid', reason: `algorithm ${JSON.stringify(String(alg).slice(0, 20))} not allowed` };
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    if (!issuer) return { kind: 'invalid', reason: 'unknown issuer' };
    try {
      const { payload } = await jwtVerify(token, issuer.keys.getKey, {
        issuer: issuer.settings.issuer,
        audience: issuer.settings.audience,
        algorithms: [...ALGORITHMS],
        clockTolerance: this.settings.clockSkewSeconds,
        requiredClaims: ['exp'],
        currentDate: new Date(this.now()),
      });
      if (typeof payload.typ === 'string' && payload.typ !== 'Bearer') return { kind: 'invalid', reason: `not an access token (typ ${payload.typ.slice(0, 20)})` };
      return { kind: 'valid', principal: principalFromClaims(payload, issuer.settings.issuer, issuer.settings.audience), exp: payload.exp as number };
    } catch (error) {
      if (error instanceof IssuerUnavailableError) return { kind: 'unavailable', reason: error.message };
      if (error instanceof errors.JOSEError) return { kind: 'invalid', reason: error.code };
      throw error;
    }
  }

  private async verifyOpaque(token: string): Promise<Verification> {
    if (!this.introspector) return { kind: 'invalid', reason: this.introspectionProblem ?? 'opaque token and no introspection configured' };
    try {
      const claims = await this.introspector.introspect(token);
      if (!claims) return { kind: 'invalid', reason: 'introspection: not active for this audience' };
      return { kind: 'valid', principal: principalFromClaims(claims, this.introspector.issuer, this.introspector.audience) };
    } catch (error) {
      if (error instanceof FetchJsonError) return { kind: 'unavailable', reason: `introspection: ${error.message}` };
      throw error;
    }
  }
}
