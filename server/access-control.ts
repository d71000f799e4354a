import { isDeepStrictEqual } from 'node:util';
import type { Context } from 'hono';
import { type AccessCheck, checkAccess, type Listed, visibleTo } from '../auth/access-check.js';
import { Authenticator, accessLogFields } from '../auth/authenticator.js';
import type { HeaderSource } from '../auth/credentials.js';
import type { TokenVerifierOptions } from '../auth/token-verifier.js';
import type { AccessRule, AuthSettings } from '../catalog/auth-settings.js';
import type { Catalog, DatasetEntry } from '../catalog/catalog-file.js';
import type { Dataset } from '../catalog/dataset.js';
import type { DatasetRegistry } from '../catalog/registry.js';
import { requestHeader } from './http/node-bindings.js';
import { HttpProblem } from './http/problem.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** What the access log says of this request's access decision (access.ts), when a protected dataset was asked for. */
    accessDecision: Readonly<Record<string, string>>;
  }
}

/** Counts refusals (`/metrics`). */
export interface DenialObserver {
  accessDenied(decision: string): void;
}

/**
 * Who may read what, for every route (issue #18): the Authenticator of the catalog being served
 * (rebuilt when a reload changes the `auth` section), the `access` rules of a dataset and of the
 * datasets it is derived from, and the datasets a listing may show a caller.
 */
export class AccessControl {
  private catalog: Catalog | undefined;
  private settings: AuthSettings | undefined;
  private current: Authenticator;
  private readonly entryMaps = new WeakMap<Catalog, ReadonlyMap<string, DatasetEntry>>();

  private constructor(
    private readonly registry: DatasetRegistry,
    private readonly denials: DenialObserver | undefined,
    private readonly options: TokenVerifierOptions,
  ) {
    this.catalog = registry.current;
    this.settings = registry.current.auth;
    this.current = Authenticator.create(this.settings, options);
  }

  /** The access control of `registry`'s catalog; its issuers' keys are fetched on first use. */
  static create(registry: DatasetRegistry, denials?: DenialObserver, options: TokenVerifierOptions = {}): AccessControl {
    return new AccessControl(registry, denials, options);
  }

  /** The access control of `registry`'s catalog, its issuers' discovery and keys loaded (never throws). */
  static async open(registry: DatasetRegistry, denials?: DenialObserver, options: TokenVerifierOptions = {}): Promise<AccessControl> {
    const control = new AccessControl(registry, denials, options);
    await control.current.load();
    return control;
  }

  /** The Authenticator of the catalog served now (a reload that changes `auth` makes a new one). */
  get authenticator(): Authenticator {
    const catalog = this.registry.current;
    if (catalog !== this.catalog) {
      this.catalog = catalog;
      if (!isDeepStrictEqual(catalog.auth, this.settings)) {
        this.settings = catalog.auth;
        this.current = Authenticator.create(catalog.auth, this.options);
        // keys are fetched on first use too; loading now only saves the first caller the wait
        void this.current.load();
      }
    }
    return this.current;
  }

  /**
   * The rules guarding `dataset`: its own `access` and those of every dataset its `derive.from`
   * chain is built on. A source missing from the catalog adds a rule nobody satisfies (fail closed).
   */
  rulesOf(dataset: Dataset): Array<AccessRule | undefined> {
    const rules: Array<AccessRule | undefined> = [dataset.entry.access];
    // the hot path (every chunk of every dataset): a dataset that is not derived has its own rule only
    if (dataset.entry.derive === undefined) return rules;
    const entries = this.entriesOf(this.registry.current);
    const seen = new Set([dataset.id]);
    let from: string | undefined = dataset.entry.derive.from;
    while (from !== undefined) {
      const source: DatasetEntry | undefined = seen.has(from) ? undefined : entries.get(from);
      if (!source) {
        rules.push(NOBODY);
        break;
      }
      seen.add(from);
      rules.push(source.access);
      from = source.derive?.from;
    }
    return rules;
  }

  /** The catalog's entries by id, made once per catalog version. */
  private entriesOf(catalog: Catalog): ReadonlyMap<string, DatasetEntry> {
    let entries = this.entryMaps.get(catalog);
    if (!entries) {
      entries = new Map(catalog.datasets.map((entry) => [entry.id, entry]));
      this.entryMaps.set(catalog, entries);
    }
    return entries;
  }

  /** May this request read `dataset`? Public datasets are answered without looking at the token. */
  async check(headers: HeaderSource, dataset: Dataset): Promise<AccessCheck> {
    const check = await checkAccess(this.authenticator, headers, this.rulesOf(dataset));
    if (check.refusal) this.denials?.accessDenied(check.refusal.status === 503 ? 'unavailable' : check.decision);
    return check;
  }

  /** The items of a listing this request may see (no token looked at when none is protected). */
  async visible<T extends Listed>(headers: HeaderSource, items: readonly T[]): Promise<{ readonly items: readonly T[]; readonly filter: string }> {
    if (!items.some((item) => item.entry.access !== undefined)) return { items, filter: '' };
    return visibleTo(await this.authenticator.authenticate(headers), items);
  }

  /**
   * The hono side of `check`: the decision goes to the access log; a refusal is thrown as a
   * problem (401 with `WWW-Authenticate: Bearer`, 403, 503); the answer to an allowed request
   * must then be made private (`makePrivate`). Returns whether it must.
   */
  async guard(c: Context, dataset: Dataset): Promise<boolean> {
    const check = await this.check(headersOf(c), dataset);
    if (check.decision === 'public') return false;
    c.set('accessDecision', { dataset: dataset.id, ...accessLogFields(check.authentication, check.decision) });
    if (check.refusal) {
      const { status, title, detail, headers } = check.refusal;
      throw new HttpProblem(status, title, detail, withBasicChallenge(headers, check));
    }
    return true;
  }
}

/**
 * A request without credentials is also offered HTTP Basic (the token as the password): libcurl,
 * under netCDF-C and cdo, sends the `user:password` of a URL or `.netrc` only to a server that
 * asks for Basic.
 */
function withBasicChallenge(headers: Readonly<Record<string, string>>, check: AccessCheck): Readonly<Record<string, string>> {
  const challenge = headers['WWW-Authenticate'];
  if (check.authentication.kind !== 'anonymous' || check.refusal?.status !== 401 || challenge === undefined) return headers;
  return { ...headers, 'WWW-Authenticate': `${challenge}, Basic realm="strato", charset="UTF-8"` };
}

/** A rule no principal satisfies. */
const NOBODY: AccessRule = Object.freeze({ roles: [], groups: [], entitlements: [], scopes: [] });

/** The request's headers as auth/ reads them (Node's parsed headers when there are some). */
export function headersOf(c: Context): HeaderSource {
  return { get: (name) => requestHeader(c, name.toLowerCase()) };
}

/**
 * Makes an answer about a protected dataset private: `Cache-Control: private` (keeping a
 * `no-store` or `max-age`, dropping `public`, `s-maxage` and `immutable`) and `Vary: Authorization`,
 * so no shared cache (nginx, a CDN) keeps it for another caller.
 */
export function makePrivate(headers: Headers): void {
  const directives = (headers.get('cache-control') ?? '')
    .split(',')
    .map((directive) => directive.trim())
    .filter((directive) => /^(no-store|no-cache|max-age=\d+|must-revalidate)$/i.test(directive));
  headers.set('cache-control', ['private', ...directives].join(', '));
  const vary = headers.get('vary');
  if (!vary) headers.set('vary', 'Authorization');
  else if (!/(^|,)\s*authorization\s*(,|$)/i.test(vary)) headers.set('vary', `${vary}, Authorization`);
}
