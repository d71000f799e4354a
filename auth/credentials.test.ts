import { describe, expect, it } from 'vitest';
import { credentialsOf, MAX_TOKEN_LENGTH, parseAuthorization } from './credentials.js';

const basic = (userinfo: string) => `Basic ${Buffer.from(userinfo).toString('base64')}`;
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

describe('credentials', () => {
  it('reads Bearer tokens and the password of HTTP Basic (netCDF-C, cdo, .netrc)', () => {
    expect(parseAuthorization(`Bearer ${JWT}`)).toEqual({ kind: 'token', token: JWT, scheme: 'bearer' });
    expect(parseAuthorization(`bearer ${JWT}`)).toEqual({ kind: 'token', token: JWT, scheme: 'bearer' });
    expect(parseAuthorization(basic(`any:${JWT}`))).toEqual({ kind: 'token', token: JWT, scheme: 'basic' });
    expect(parseAuthorization(basic(`:${JWT}`))).toEqual({ kind: 'token', token: JWT, scheme: 'basic' });
    expect(credentialsOf(new Headers())).toEqual({ kind: 'none' });
    expect(credentialsOf(new Headers({ authorization: `Bearer ${JWT}` }))).toMatchObject({ kind: 'token' });
  });

  it('calls anything else malformed, never anonymous', () => {
    const malformed = [
      '',
      'Bearer',
      'Bearer ',
      `Bearer ${JWT} extra`,
      `Bearer  ${JWT}\u0000`,
      `Token ${JWT}`,
      `Digest ${JWT}`,
      `Bearer ${JWT}"`,
      'Bearer a,b',
      'Bearer <script>',
      basic('nopassword'),
      basic('user:'),
      basic('user:has space'),
      basic('user:ümlaut'),
      'Basic !!!!',
      'Basic YQ',
      'Basic YR==',
      `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`,
      basic(`u:${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`),
      `Bearer ${'a'.repeat(10_000_000)}`,
    ];
    for (const header of malformed) expect(parseAuthorization(header), header.slice(0, 40)).toEqual({ kind: 'malformed' });
  });
});
