import { describe, expect, it } from 'vitest';
import type { StratoPlugin } from '../../server/plugin.js';
import { landingDocument, landingFormat } from './landing-document.js';

describe('landingFormat', () => {
  it('follows ?f= first, then whether the client names text/html', () => {
    expect(landingFormat('json', 'text/html')).toBe('json');
    expect(landingFormat('html', undefined)).toBe('html');
    expect(landingFormat(undefined, 'text/html,application/xhtml+xml,*/*;q=0.8')).toBe('html');
    expect(landingFormat(undefined, '*/*')).toBe('json');
    expect(landingFormat(undefined, undefined)).toBe('json');
    expect(landingFormat(undefined, 'application/json')).toBe('json');
  });
  it('refuses other values of f', () => {
    for (const f of ['', 'xml', '__proto__', 'JSON ']) expect(landingFormat(f, 'text/html')).toBeUndefined();
  });
});

describe('landingDocument', () => {
  it("lists every plugin's links under the request's base URL", () => {
    const plugins: StratoPlugin[] = [
      { name: 'a', version: '1', landingLinks: [{ rel: 'service-desc', href: '/openapi.json', type: 'application/json', title: 'API' }] },
      { name: 'b', version: '1' },
    ];
    const document = landingDocument('https://data.example.org/strato', plugins);
    expect(document.links.map((link) => [link.rel, link.href])).toEqual([
      ['self', 'https://data.example.org/strato/?f=json'],
      ['alternate', 'https://data.example.org/strato/?f=html'],
      ['service-desc', 'https://data.example.org/strato/openapi.json'],
    ]);
  });
});
