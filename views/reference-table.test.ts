import { describe, expect, it } from 'vitest';
import { orderedPath } from './reference-table.js';

describe('orderedPath', () => {
  it('spells the same path, URLs sorting in index order', () => {
    const path = '/datasets/tas-daily/kerchunk/tas/';
    const keys = Array.from({ length: 300 }, (_, i) => i);
    const urls = keys.map((i) => `${orderedPath(path, i, keys.length)}${i}.0.0`);
    for (const [i, url] of urls.entries()) expect(decodeURIComponent(url)).toBe(`${path}${i}.0.0`);
    // the plain keys do not sort in C order; the spelled ones do (as Python's sorted() compares code points)
    expect([...keys.map((i) => `${path}${i}.0.0`)].sort()).not.toEqual(keys.map((i) => `${path}${i}.0.0`));
    expect([...urls].sort()).toEqual(urls);
  });

  it('keeps escapes already in the path and leaves reserved characters alone', () => {
    const path = '/datasets/a%7Bb/kerchunk/x/';
    for (let i = 0; i < 64; i++) expect(decodeURIComponent(orderedPath(path, i, 64))).toBe('/datasets/a{b/kerchunk/x/');
  });

  it('with fewer characters than bits, the order is kept for the top bits', () => {
    const path = '/a/';
    const urls = Array.from({ length: 16 }, (_, i) => orderedPath(path, i, 16));
    expect([...urls].sort()).toEqual(urls);
    expect(new Set(urls).size).toBe(2);
  });
});
