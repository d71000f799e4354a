import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose';
import { endpointUrlProblem } from '../catalog/auth-settings.js';
import { FetchJsonError, fetchJson } from './fetch-json.js';

/**
 * The signing keys of one issuer: OIDC discovery (`issuer/.well-known/openid-configuration`,
 * whose `issuer` must be the configured one exactly, OIDC Discovery §4.3), then its `jwks_uri`.
 *
 * - Keys are cached and picked by `kid` (and `alg`/`kty`, by jose's local key set).
 * - A token naming an unknown `kid` refreshes the set (a rotation), at most once per
 *   `refreshCooldownMs`; other unknown `kid`s in that time fail without a fetch.
 * - The set is refetched after `maxAgeMs`, so a key the issuer removed stops working then.
 * - Symmetric (`oct`) keys and keys with private parts are dropped: a public key set has neither.
 * - Any fetch failure keeps the keys already known; with none known yet, the issuer is
 *   unavailable (IssuerUnavailableError), retried after the cooldown.
 */
export class IssuerUnavailableError extends Error {
  override readonly name = 'IssuerUnavailableError';
}

export interface IssuerKeysOptions {
  /** The clock, in milliseconds (tests move it). */
  readonly now?: () => number;
  readonly refreshCooldownMs?: number;
  readonly maxAgeMs?: number;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

export interface IssuerMetadata {
  readonly jwksUri: string;
  readonly introspectionEndpoint?: string;
}

const MAX_KEYS = 64;
export const DEFAULT_REFRESH_COOLDOWN_MS = 30_000;
export const DEFAULT_MAX_AGE_MS = 10 * 60_000;

type KeyLookup = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

export class IssuerKeys {
  private metadata: IssuerMetadata | undefined;
  private lookup: KeyLookup | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private lastProblem: string | undefined;
  private readonly now: () => number;
  private readonly cooldown: number;
  private readonly maxAge: number;

  constructor(
    readonly issuer: string,
    private readonly options: IssuerKeysOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.cooldown = options.refreshCooldownMs ?? DEFAULT_REFRESH_COOLDOWN_MS;
    this.maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  }

  /** Whether keys are known, and why the last fetch failed (for `/health` and the log). */
  get state(): { readonly ready: boolean; readonly problem?: string } {
    return { ready: this.lookup !== undefined, ...(this.lastProblem !== undefined ? { problem: this.lastProblem } : {}) };
  }

  get discovered(): IssuerMetadata | undefined {
    return this.metadata;
  }

  /** Discovery and keys now (at start); never throws: `state` tells how it went. */
  async load(): Promise<void> {
    await this.refresh();
  }

  /** jose's key resolver: the key of this header, refreshing the set on an unknown `kid`. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    if (this.lookup === undefined || this.now() - this.fetchedAt >= this.maxAge) await this.refreshIfAllowed();
    const lookup = this.lookup;
    if (lookup === undefined) throw new IssuerUnavailableError(`issuer ${this.issuer}: no keys (${this.lastProblem ?? 'not loaded'})`);
    try {
      return await lookup(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      const before = this.lookup;
      await this.refreshIfAllowed();
      if (this.lookup === before || this.lookup === undefined) throw error;
      return await this.lookup(header, token);
    }
  };

  private async refreshIfAllowed(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.now() - this.attemptedAt < this.cooldown) return;
    await this.refresh();
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.attemptedAt = this.now();
    const fetchOptions = { ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}), ...(this.options.maxBytes ? { maxBytes: this.options.maxBytes } : {}) };
    try {
      this.metadata ??= await discover(this.issuer, fetchOptions);
      const document = await fetchJson(this.metadata.jwksUri, fetchOptions);
      const set = publicKeySet(document);
      this.lookup = createLocalJWKSet(set) as KeyLookup;
      this.fetchedAt = this.now();
      this.lastProblem = undefined;
    } catch (error) {
      if (!(error instanceof FetchJsonError || error instanceof IssuerUnavailableError || error instanceof errors.JOSEError)) throw error;
      this.lastProblem = error.message;
    }
  }
}

/** The discovery document of `issuer`, checked. */
export async function discover(issuer: string, options: { timeoutMs?: number; maxBytes?: number } = {}): Promise<IssuerMetadata> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const document = await fetchJson(url, options);
  if (document.issuer !== issuer) throw new IssuerUnavailableError(`discovery at ${url} names issuer ${JSON.stringify(String(document.issuer).slice(0, 200))}, not ${issuer}`);
  const jwksUri = document.jwks_uri;
  if (typeof jwksUri !== 'string' || endpointUrlProblem(jwksUri) !== undefined) throw new IssuerUnavailableError(`discovery at ${url}: unusable jwks_uri`);
  const introspection = document.introspection_endpoint;
  const introspectionEndpoint = typeof introspection === 'string' && endpointUrlProblem(introspection) === undefined ? introspection : undefined;
  return { jwksUri, ...(introspectionEndpoint ? { introspectionEndpoint } : {}) };
}

/** The public, asymmetric keys of a JWKS document (at most MAX_KEYS). */
export function publicKeySet(document: Record<string, unknown>): JSONWebKeySet {
  const keys = document.keys;
  if (!Array.isArray(keys)) throw new IssuerUnavailableError('the JWKS has no "keys" list');
  const usable: JWK[] = [];
  for (const key of keys) {
    if (usable.length >= MAX_KEYS) break;
    if (typeof key !== 'object' || key === null || Array.isArray(key)) continue;
    const jwk = key as Record<string, unknown>;
    if (!['RSA', 'EC', 'OKP'].includes(jwk.kty as string)) continue;
    if (Object.hasOwn(jwk, 'd') || Object.hasOwn(jwk, 'p') || Object.hasOwn(jwk, 'k')) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    usable.push(jwk as JWK);
  }
  return { keys: usable };
}
