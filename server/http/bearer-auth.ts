import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpProblem } from './problem.js';

/**
 * `Authorization: Bearer <token>` against a configured token. Both are hashed (SHA-256) and the
 * digests compared with crypto.timingSafeEqual: equal lengths whatever was sent, and no early exit
 * that would tell an attacker how much of a guess was right. A missing or wrong token is a 401
 * with `WWW-Authenticate: Bearer` (RFC 6750), before the request body is read.
 */
export function bearerAuth(token: string, realm: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
    if (!match?.[1]) {
      throw new HttpProblem(401, 'Unauthorized', 'a Bearer token is required', { 'www-authenticate': `Bearer realm="${realm}"` });
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      throw new HttpProblem(401, 'Unauthorized', 'the Bearer token is not valid', {
        'www-authenticate': `Bearer realm="${realm}", error="invalid_token"`,
      });
    }
    await next();
  };
}

/**
 * Whether an `Authorization` header carries `Bearer <token>` (compared as bearerAuth does):
 * 'none' without a Bearer credential, 'valid' or 'invalid'.
 */
export function bearerCredential(header: string | undefined, token: string): 'none' | 'valid' | 'invalid' {
  const match = header === undefined ? null : /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  if (!match?.[1]) return 'none';
  return timingSafeEqual(digest(match[1]), digest(token)) ? 'valid' : 'invalid';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
