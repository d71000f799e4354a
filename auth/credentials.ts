/**
 * The token a request carries, from its `Authorization` header:
 *
 * - `Bearer <token>` (RFC 6750), the way xarray/fsspec, zarrita and STAC Browser send it;
 * - `Basic base64(user:token)`: the token as the password of HTTP Basic, what netCDF-C and cdo
 *   send for `http://any:TOKEN@host/…` or a `.netrc` entry (the user name is ignored).
 *
 * A header that is present but not one of these (another scheme, bad base64, no password, a token
 * of characters no JWT or opaque token has, a header over MAX_HEADER_LENGTH) is `malformed`:
 * the caller is unauthenticated, never anonymous-and-public by accident, and no reason is given.
 */
export type Credentials = { readonly kind: 'none' } | { readonly kind: 'token'; readonly token: string; readonly scheme: 'bearer' | 'basic' } | { readonly kind: 'malformed' };

/** The longest token accepted (checked before anything parses it). */
export const MAX_TOKEN_LENGTH = 16 * 1024;
/** The longest header looked at: a Basic header of a MAX_TOKEN_LENGTH token and a short user name. */
export const MAX_HEADER_LENGTH = Math.ceil(((MAX_TOKEN_LENGTH + 256) * 4) / 3) + 16;

/** RFC 6750 b64token, which covers JWTs (base64url and dots) and the opaque tokens of Keycloak and Check-in. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface HeaderSource {
  get(name: string): string | null | undefined;
}

export function credentialsOf(headers: HeaderSource): Credentials {
  const header = headers.get('authorization');
  if (header === null || header === undefined) return { kind: 'none' };
  return parseAuthorization(header);
}

export function parseAuthorization(header: string): Credentials {
  if (header.length > MAX_HEADER_LENGTH) return { kind: 'malformed' };
  const match = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  if (!match) return { kind: 'malformed' };
  const scheme = (match[1] as string).toLowerCase();
  const value = match[2] as string;
  if (scheme === 'bearer') return tokenOf(value, 'bearer');
  if (scheme !== 'basic' || value.length % 4 !== 0 || !BASE64.test(value)) return { kind: 'malformed' };
  const decoded = Buffer.from(value, 'base64');
  // base64 that does not round-trip (stray bits) is not what a client sends
  if (decoded.toString('base64') !== value) return { kind: 'malformed' };
  const text = decoded.toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return { kind: 'malformed' };
  return tokenOf(text.slice(colon + 1), 'basic');
}

function tokenOf(token: string, scheme: 'bearer' | 'basic'): Credentials {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !TOKEN.test(token)) return { kind: 'malformed' };
  return { kind: 'token', token, scheme };
}
