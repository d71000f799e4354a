import { createHash } from 'node:crypto';
import type { IntrospectionSettings } from '../catalog/auth-settings.js';
import { fetchJson } from './fetch-json.js';

/**
 * RFC 7662 token introspection for opaque tokens, cached.
 *
 * The client authenticates with HTTP Basic (`client_id`, and the secret from the environment
 * variable the catalog names). An answer counts only when `active` is true, its `iss` (when
 * given) is the issuer, its `aud` names the audience (required: fail closed), `exp` has not
 * passed and `nbf` has come (both with the clock skew).
 *
 * The cache is keyed by the token's SHA-256 (tokens are never kept), bounded (an LRU of
 * `maxEntries`), and an entry lives at most `maxTtlMs` and never past the token's `exp`; a
 * refused token is remembered for `negativeTtlMs`, so a flood of one bad token is not a flood
 * of introspection requests.
 */
export interface IntrospectorOptions {
  readonly now?: () => number;
  readonly maxEntries?: number;
  readonly maxTtlMs?: number;
  readonly negativeTtlMs?: number;
  readonly timeoutMs?: number;
  readonly clockSkewSeconds?: number;
}

interface Entry {
  readonly claims: Record<string, unknown> | undefined;
  readonly expiresAt: number;
}

export class Introspector {
  private readonly cache = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly maxEntries: number;
  private readonly maxTtl: number;
  private readonly negativeTtl: number;
  private readonly skewMs: number;

  constructor(
    readonly issuer: string,
    readonly audience: string,
    private readonly settings: IntrospectionSettings,
    private readonly secret: string,
    private readonly options: IntrospectorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxTtl = options.maxTtlMs ?? 5 * 60_000;
    this.negativeTtl = options.negativeTtlMs ?? 30_000;
    this.skewMs = (options.clockSkewSeconds ?? 30) * 1000;
  }

  get size(): number {
    return this.cache.size;
  }

  /** The active token's claims, or undefined when it is not accepted. Throws FetchJsonError when the endpoint cannot be asked. */
  async introspect(token: string): Promise<Record<string, unknown> | undefined> {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache.get(key);
    const now = this.now();
    if (cached && cached.expiresAt > now) {
      this.cache.delete(key);
      this.cache.set(key, cached); // most recently used last
      return cached.claims;
    }
    if (cached) this.cache.delete(key);
    const answer = await fetchJson(this.settings.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.settings.clientId)}:${encodeURIComponent(this.secret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}),
    });
    const claims = this.accepted(answer, this.now()) ? answer : undefined;
    const exp = typeof answer.exp === 'number' ? answer.exp * 1000 : Number.POSITIVE_INFINITY;
    const ttl = claims ? Math.min(this.maxTtl, exp - this.now()) : this.negativeTtl;
    if (ttl > 0) this.remember(key, { claims, expiresAt: this.now() + ttl });
    return claims;
  }

  private accepted(answer: Record<string, unknown>, now: number): boolean {
    if (answer.active !== true) return false;
    if (answer.iss !== undefined && answer.iss !== this.issuer) return false;
    const aud = answer.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.includes(this.audience)) return false;
    if (answer.exp !== undefined && !(typeof answer.exp === 'number' && answer.exp * 1000 + this.skewMs > now)) return false;
    if (answer.nbf !== undefined && !(typeof answer.nbf === 'number' && answer.nbf * 1000 - this.skewMs <= now)) return false;
    return true;
  }

  private remember(key: string, entry: Entry): void {
    this.cache.set(key, entry);
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }
}
