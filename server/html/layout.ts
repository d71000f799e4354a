import { escapeHtml } from './html.js';

/** Site header and footer around a page's main content. */
export function withLayout(main: string, version?: string): string {
  return `<a class="skip" href="#main">Skip to content</a>
<header class="top"><nav aria-label="site"><a class="brand" href="/">strato</a>
<a href="/">Datasets</a><a href="/stac">STAC</a><a href="/intake.yaml">intake</a><a href="/docs">API docs</a></nav></header>
<main id="main">${main}</main>
<footer><p>strato${version ? ` ${escapeHtml(version)}` : ''} · kerchunk references served as Zarr, OPeNDAP and STAC · <a href="/openapi.json">openapi.json</a> · <a href="/health">health</a></p></footer>`;
}
