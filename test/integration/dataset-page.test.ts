import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeGridCatalog } from '../helpers/grid-fixture.js';
import { type InProcessApp, openApp } from '../helpers/in-process-app.js';

/**
 * The plot URLs a dataset page shows (the quick-look caption and the curl snippet) answer a PNG on
 * datasets unlike the demo ones: a time axis in 2000 (not the demo's 2001), a map without time.
 * (test/interop/dataset-snippets.test.ts runs every snippet of the demo pages with real clients.)
 */
let dir: string;
let strato: InProcessApp;
beforeAll(async () => {
  const made = await makeGridCatalog();
  dir = made.dir;
  strato = await openApp(made.catalog);
});
afterAll(async () => {
  await strato?.close();
  await rm(dir, { recursive: true, force: true });
});

const unescape = (html: string): string => html.replace(/&#38;/g, '&').replace(/&#39;/g, "'").replace(/&#34;/g, '"');

for (const id of ['grid', 'sea-ice']) {
  describe(`the page of ${id}`, () => {
    it('shows plot URLs that answer a PNG', async () => {
      const html = await (await strato.request(`/datasets/${id}/`)).text();
      const caption = /<figcaption>[\s\S]*?<code>(plot\/[^<]+)<\/code>/.exec(html)?.[1];
      const curl = /curl -fsS -o \S+ '([^']+)'/.exec(unescape(html))?.[1];
      expect(caption).toBeDefined();
      expect(curl).toBeDefined();
      for (const url of [`/datasets/${id}/${unescape(caption ?? '')}`, new URL(curl ?? '', 'http://localhost').pathname + new URL(curl ?? '', 'http://localhost').search]) {
        const response = await strato.request(url);
        expect(response.status, url).toBe(200);
        expect(response.headers.get('content-type')).toBe('image/png');
      }
      expect(html).not.toContain('2001-03-05');
      if (id === 'grid') expect(unescape(html)).toContain('time=2000-01-01&');
      else expect(unescape(html)).not.toContain('time=');
    });
  });
}
