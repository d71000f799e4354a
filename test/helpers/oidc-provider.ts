import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * A real OpenID Provider (the certified `oidc-provider`) on a loopback port, for the tests of
 * protected datasets (#18) and, later, of every route that serves them.
 *
 * Clients get access tokens by `client_credentials` for a resource: `RESOURCE_JWT` gives a JWT
 * access token (RFC 9068) with `aud` = `audience`; `RESOURCE_OPAQUE` an opaque one, answered by
 * introspection (RFC 7662, the `introspector` client); `RESOURCE_OTHER` a JWT for another
 * audience. Each client's claims (Keycloak-shaped `realm_access`/`resource_access`/`groups`,
 * Check-in-shaped `eduperson_entitlement`) are added to its tokens (`extraTokenClaims`).
 *
 * Keys rotate as at a real issuer: `rotate()` publishes a new signing key first, keeping the old
 * one in the JWKS; `dropOldKeys()` removes every key but the current one. `sign()` signs any
 * claims with the current key (for expired or not-yet-valid tokens), `requests` counts requests by
 * path (JWKS fetches, introspections).
 */
export const RESOURCE_JWT = 'urn:strato:data';
export const RESOURCE_OPAQUE = 'urn:strato:opaque';
export const RESOURCE_OTHER = 'urn:other:service';

export type ClientClaims = Readonly<Record<string, unknown>>;

/** Clients of the default provider and their claims. */
export const DEFAULT_CLIENTS: Readonly<Record<string, ClientClaims>> = {
  // Keycloak: realm roles, client roles of the audience, group paths
  member: {
    realm_access: { roles: ['eerie-members', 'offline_access'] },
    resource_access: { strato: { roles: ['reader'] }, account: { roles: ['manage-account'] } },
    groups: ['/eerie/members'],
  },
  outsider: { realm_access: { roles: ['offline_access'] }, resource_access: { account: { roles: ['manage-account'] } }, groups: ['/other'] },
  // EGI Check-in: AARC entitlements (a list of URNs)
  checkin: { eduperson_entitlement: ['urn:mace:egi.eu:group:eerie.eu:role=member#aai.egi.eu', 'urn:mace:egi.eu:group:other.eu:role=vm_operator#aai.egi.eu'] },
  admin: { realm_access: { roles: ['strato-admin'] } },
};

export interface SigningKey {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

export interface TestProviderOptions {
  readonly audience?: string;
  readonly clients?: Readonly<Record<string, ClientClaims>>;
  /** Seconds an access token lives (default 3600). */
  readonly tokenTtl?: number;
}

export interface TestIdentityProvider {
  readonly issuer: string;
  readonly audience: string;
  /** The introspection endpoint and the credentials of the client allowed to use it. */
  readonly introspection: { readonly endpoint: string; readonly clientId: string; readonly clientSecret: string };
  /** Signing keys, current first. */
  readonly keys: readonly SigningKey[];
  /** Requests served, by path. */
  readonly requests: ReadonlyMap<string, number>;
  /** An access token of `client` for `resource` (default: a JWT for the audience). */
  token(client: string, options?: { resource?: string; scope?: string }): Promise<string>;
  /** `claims` signed with the current key (`iss` and `aud` defaulted, `iat` now). */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  rotate(): Promise<void>;
  dropOldKeys(): Promise<void>;
  close(): Promise<void>;
}

const CLIENT_SECRET = 'client-secret-for-tests-only-0123456789';

export async function startIdentityProvider(options: TestProviderOptions = {}): Promise<TestIdentityProvider> {
  const audience = options.audience ?? 'strato';
  const clients = options.clients ?? DEFAULT_CLIENTS;
  const tokenTtl = options.tokenTtl ?? 3600;
  const requests = new Map<string, number>();
  let keys: SigningKey[] = [await newKey(1)];
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const build = () => {
    const configuration: Configuration = {
      clients: [
        ...Object.keys(clients).map((id) => ({ client_id: id, client_secret: CLIENT_SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] })),
        { client_id: 'introspector', client_secret: CLIENT_SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
      ],
      jwks: { keys: keys.map((key) => key.privateJwk) },
      ttl: { ClientCredentials: tokenTtl },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: async () => true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => RESOURCE_JWT,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx, resource) => {
            if (resource === RESOURCE_JWT) return { scope: 'read write', audience, accessTokenTTL: tokenTtl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
            if (resource === RESOURCE_OPAQUE) return { scope: 'read write', audience, accessTokenTTL: tokenTtl, accessTokenFormat: 'opaque' };
            if (resource === RESOURCE_OTHER)
              return { scope: 'read', audience: 'other-service', accessTokenTTL: tokenTtl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
            throw new Error(`unknown resource ${resource}`);
          },
        },
      },
      extraTokenClaims: async (_ctx, token) => {
        const clientId = (token as { clientId?: string }).clientId;
        return clientId !== undefined && Object.hasOwn(clients, clientId) ? { ...clients[clientId] } : undefined;
      },
    };
    handler = new Provider(issuer, configuration).callback();
  };
  build();

  return {
    issuer,
    audience,
    introspection: { endpoint: `${issuer}/token/introspection`, clientId: 'introspector', clientSecret: CLIENT_SECRET },
    get keys() {
      return keys;
    },
    requests,
    async token(client, tokenOptions = {}) {
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource: tokenOptions.resource ?? RESOURCE_JWT, scope: tokenOptions.scope ?? 'read' });
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client}:${CLIENT_SECRET}`).toString('base64')}` },
        body,
      });
      const answer = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!response.ok || typeof answer.access_token !== 'string')
        throw new Error(`token for ${client}: ${response.status} ${answer.error ?? ''} ${answer.error_description ?? ''}`);
      return answer.access_token;
    },
    async sign(claims, header = {}) {
      const key = keys[0] as SigningKey;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: audience, iat: now, ...claims }).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
    },
    async rotate() {
      keys = [await newKey(keys.length + 1), ...keys];
      build();
    },
    async dropOldKeys() {
      keys = keys.slice(0, 1);
      build();
    },
    async close() {
      handler = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function newKey(generation: number): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `test-key-${generation}-${Math.random().toString(36).slice(2, 8)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateJwk, publicJwk, privateKey, publicKey };
}
