import { isIP } from 'node:net';

/**
 * The catalog's `auth:` section and a dataset's `access:` rule, read fail-closed: anything that is
 * not exactly understood is a problem, never ignored.
 *
 * ```yaml
 * auth:
 *   clock_skew_s: 30                      # optional: seconds of clock skew allowed on exp/nbf (0..300)
 *   issuers:
 *     - issuer: https://idp.example.org/realms/climate   # discovery at issuer/.well-known/openid-configuration
 *       audience: strato                                 # required `aud` of access tokens
 *       admin_roles: [strato-admin]                      # optional: roles that may use the admin API
 *       introspection:                                   # optional: RFC 7662, for opaque tokens
 *         endpoint: https://idp.example.org/realms/climate/protocol/openid-connect/token/introspect
 *         client_id: strato
 *         client_secret_env: STRATO_INTROSPECTION_SECRET  # the secret is read from this variable
 * datasets:
 *   embargoed-run:
 *     refs: refs/embargoed.json
 *     access: {roles: [eerie-members]}    # any of roles | groups | entitlements | scopes
 * ```
 */
export interface AccessRule {
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly entitlements: readonly string[];
  readonly scopes: readonly string[];
}

export interface IntrospectionSettings {
  readonly endpoint: string;
  readonly clientId: string;
  /** Name of the environment variable holding the client secret (the secret never sits in the catalog). */
  readonly clientSecretEnv: string;
}

export interface IssuerSettings {
  /** The issuer exactly as tokens name it in `iss` (and discovery's `issuer`). */
  readonly issuer: string;
  readonly audience: string;
  readonly adminRoles: readonly string[];
  readonly introspection?: IntrospectionSettings;
}

export interface AuthSettings {
  readonly issuers: readonly IssuerSettings[];
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  readonly clockSkewSeconds: number;
}

export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
const MAX_CLOCK_SKEW_SECONDS = 300;
/** Entries of one `access` list, and issuers of `auth`: a catalog is written by people. */
const MAX_LIST = 256;
const MAX_NAME = 1024;
const MAX_URL = 2048;
const ACCESS_KEYS = ['roles', 'groups', 'entitlements', 'scopes'] as const;
const ISSUER_KEYS = new Set(['issuer', 'audience', 'admin_roles', 'introspection']);
const INTROSPECTION_KEYS = new Set(['endpoint', 'client_id', 'client_secret_env']);
const AUTH_KEYS = new Set(['issuers', 'clock_skew_s']);

/** An `access:` value read, or why it cannot be used. At least one non-empty list is required. */
export function parseAccess(value: unknown): AccessRule | string {
  if (!isRecord(value)) return '"access" must be a mapping of roles, groups, entitlements or scopes to lists of names';
  const unknown = Object.keys(value).filter((key) => !(ACCESS_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) return `"access": unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known: ${ACCESS_KEYS.join(', ')}`;
  const rule: Record<(typeof ACCESS_KEYS)[number], readonly string[]> = { roles: [], groups: [], entitlements: [], scopes: [] };
  for (const key of ACCESS_KEYS) {
    if (!Object.hasOwn(value, key)) continue;
    const list = nameList(value[key]);
    if (list === undefined) return `"access.${key}" must be a list of up to ${MAX_LIST} non-empty names`;
    rule[key] = list;
  }
  if (ACCESS_KEYS.every((key) => rule[key].length === 0))
    return '"access" names nobody: give at least one of roles, groups, entitlements, scopes (leave "access" out for a public dataset)';
  return Object.freeze({ roles: rule.roles, groups: rule.groups, entitlements: rule.entitlements, scopes: rule.scopes });
}

/** The `auth:` section read, or why it cannot be used (then every protected dataset stays unserved). */
export function parseAuth(value: unknown): AuthSettings | string {
  if (!isRecord(value)) return '"auth" must be a mapping with "issuers"';
  const unknown = Object.keys(value).filter((key) => !AUTH_KEYS.has(key));
  if (unknown.length > 0) return `"auth": unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known: ${[...AUTH_KEYS].join(', ')}`;
  let clockSkewSeconds = DEFAULT_CLOCK_SKEW_SECONDS;
  if (value.clock_skew_s !== undefined) {
    const skew = value.clock_skew_s;
    if (!(Number.isSafeInteger(skew) && (skew as number) >= 0 && (skew as number) <= MAX_CLOCK_SKEW_SECONDS))
      return `"auth.clock_skew_s" must be an integer from 0 to ${MAX_CLOCK_SKEW_SECONDS}`;
    clockSkewSeconds = skew as number;
  }
  const list = value.issuers;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_LIST) return '"auth.issuers" must be a non-empty list of {issuer, audience}';
  const issuers: IssuerSettings[] = [];
  for (const [index, entry] of list.entries()) {
    const issuer = parseIssuer(entry, `auth.issuers[${index}]`);
    if (typeof issuer === 'string') return issuer;
    if (issuers.some((other) => other.issuer === issuer.issuer)) return `"auth.issuers[${index}]": issuer ${issuer.issuer} is listed twice`;
    issuers.push(issuer);
  }
  if (issuers.filter((issuer) => issuer.introspection !== undefined).length > 1)
    return '"auth.issuers": at most one issuer may have "introspection" (an opaque token does not say whose it is, and is sent to no one else)';
  return Object.freeze({ issuers: Object.freeze(issuers), clockSkewSeconds });
}

function parseIssuer(value: unknown, where: string): IssuerSettings | string {
  if (!isRecord(value)) return `"${where}" must be a mapping with "issuer" and "audience"`;
  const unknown = Object.keys(value).filter((key) => !ISSUER_KEYS.has(key));
  if (unknown.length > 0) return `"${where}": unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known: ${[...ISSUER_KEYS].join(', ')}`;
  const { issuer, audience } = value;
  if (typeof issuer !== 'string') return `"${where}.issuer" must be the issuer URL`;
  const urlProblem = issuerUrlProblem(issuer);
  if (urlProblem) return `"${where}.issuer": ${urlProblem}`;
  if (typeof audience !== 'string' || audience.length === 0 || audience.length > MAX_NAME) return `"${where}.audience" must be the required "aud" of access tokens (text)`;
  let adminRoles: readonly string[] = [];
  if (value.admin_roles !== undefined) {
    const roles = nameList(value.admin_roles);
    if (roles === undefined) return `"${where}.admin_roles" must be a list of role names`;
    adminRoles = roles;
  }
  let introspection: IntrospectionSettings | undefined;
  if (value.introspection !== undefined) {
    const parsed = parseIntrospection(value.introspection, `${where}.introspection`);
    if (typeof parsed === 'string') return parsed;
    introspection = parsed;
  }
  return Object.freeze({ issuer, audience, adminRoles, ...(introspection ? { introspection } : {}) });
}

function parseIntrospection(value: unknown, where: string): IntrospectionSettings | string {
  if (!isRecord(value)) return `"${where}" must be {endpoint, client_id, client_secret_env}`;
  const unknown = Object.keys(value).filter((key) => !INTROSPECTION_KEYS.has(key));
  if (unknown.length > 0) return `"${where}": unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known: ${[...INTROSPECTION_KEYS].join(', ')}`;
  const { endpoint, client_id: clientId, client_secret_env: clientSecretEnv } = value;
  if (typeof endpoint !== 'string') return `"${where}.endpoint" must be a URL`;
  const urlProblem = endpointUrlProblem(endpoint);
  if (urlProblem) return `"${where}.endpoint": ${urlProblem}`;
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_NAME) return `"${where}.client_id" must be text`;
  if (typeof clientSecretEnv !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(clientSecretEnv)) return `"${where}.client_secret_env" must name an environment variable`;
  return Object.freeze({ endpoint, clientId, clientSecretEnv });
}

/**
 * Why an issuer URL cannot be used, or undefined: https only (plain http on a loopback address,
 * for tests), no user name or password, query or fragment.
 */
export function issuerUrlProblem(issuer: string): string | undefined {
  return endpointUrlProblem(issuer);
}

/** The same rule for every URL strato sends a token to or reads keys from. */
export function endpointUrlProblem(text: string): string | undefined {
  if (text.length > MAX_URL) return `longer than ${MAX_URL} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not a URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  if (url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#')) return 'must not have a query or fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return isLoopbackHost(url.hostname) ? undefined : 'http:// is accepted only on a loopback address; use https://';
  return 'must be an https:// URL';
}

/** 127.0.0.0/8, ::1 and `localhost`, as URL.hostname writes them. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

function nameList(value: unknown): readonly string[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_LIST) return undefined;
  if (!value.every((name) => typeof name === 'string' && name.length > 0 && name.length <= MAX_NAME)) return undefined;
  return Object.freeze([...new Set(value as string[])]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
