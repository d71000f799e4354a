import { describe, expect, it } from 'vitest';
import { etagOf, ifNoneMatchHits } from './etag.js';

describe('etags', () => {
  it('are quoted, stable and differ for different parts', () => {
    expect(etagOf('a', 1)).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(etagOf('a', 1)).toBe(etagOf('a', 1));
    expect(etagOf('a', 1)).not.toBe(etagOf('a1'));
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
