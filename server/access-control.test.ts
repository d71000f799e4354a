import { describe, expect, it } from 'vitest';
import { makePrivate } from './access-control.js';

describe('makePrivate', () => {
  const privateOf = (headers: Record<string, string>) => {
    const made = new Headers(headers);
    makePrivate(made);
    return { cacheControl: made.get('cache-control'), vary: made.get('vary') };
  };

  it('drops what lets a shared cache keep the answer, keeps what limits it', () => {
    expect(privateOf({ 'cache-control': 'public, max-age=3600, immutable' })).toEqual({ cacheControl: 'private, max-age=3600', vary: 'Authorization' });
    expect(privateOf({ 'cache-control': 'public, s-maxage=600, max-age=60' })).toEqual({ cacheControl: 'private, max-age=60', vary: 'Authorization' });
    expect(privateOf({ 'cache-control': 'no-store' })).toEqual({ cacheControl: 'private, no-store', vary: 'Authorization' });
    expect(privateOf({})).toEqual({ cacheControl: 'private', vary: 'Authorization' });
    // a directive of any other shape is dropped, not passed on
    expect(privateOf({ 'cache-control': 'max-age=60, stale-while-revalidate=30, x="public"' }).cacheControl).toBe('private, max-age=60');
  });

  it('adds Authorization to Vary once', () => {
    expect(privateOf({ vary: 'accept, x-forwarded-host' }).vary).toBe('accept, x-forwarded-host, Authorization');
    expect(privateOf({ vary: 'Accept,authorization' }).vary).toBe('Accept,authorization');
  });
});
