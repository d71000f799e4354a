import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { etagOf, ifNoneMatchHits } from './etag.js';

describe('etags', () => {
  it('are quoted, stable and differ for different parts', () => {
    expect(etagOf('a', 1)).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(etagOf('a', 1)).toBe(etagOf('a', 1));
    expect(etagOf('a', 1)).not.toBe(etagOf('a1'));
  });
  it('are the same remembered or not, and change with any part (a file version)', () => {
    // the SHA-1 of the parts, each followed by NUL: the value served before tags were remembered
    const expected = `"${createHash('sha1').update('/data/a.nc\u00004096\u000051200\u0000100-1.5\u0000').digest('base64url').slice(0, 27)}"`;
    expect(etagOf('/data/a.nc', 4096, 51200, '100-1.5')).toBe(expected);
    expect(etagOf('/data/a.nc', 4096, 51200, '100-1.5')).toBe(expected);
    expect(etagOf('/data/a.nc', 4096, 51200, '100-2.5')).not.toBe(expected);
    // bytes are hashed as they are, never remembered by their text
    expect(etagOf(new TextEncoder().encode('ab'))).toBe(etagOf('ab'));
    // more tags than the memo holds: older ones are computed again, to the same value
    for (let i = 0; i < 5000; i++) etagOf('/data/a.nc', i);
    expect(etagOf('/data/a.nc', 4096, 51200, '100-1.5')).toBe(expected);
  });
  it('match If-None-Match lists, weak tags and *', () => {
    const tag = etagOf('x');
    expect(ifNoneMatchHits(tag, tag)).toBe(true);
    expect(ifNoneMatchHits(`"other", W/${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits('*', tag)).toBe(true);
    expect(ifNoneMatchHits('"other"', tag)).toBe(false);
    expect(ifNoneMatchHits(undefined, tag)).toBe(false);
  });
});
