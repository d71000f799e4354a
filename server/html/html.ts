import { createHash } from 'node:crypto';
import { publicBaseUrl } from '../http/public-url.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * The public base URL clients reached us at ('https://data.example.org', with any
 * X-Forwarded-Prefix): X-Forwarded-Proto/Host (first value, checked) win over the request URL.
 */
export function requestOrigin(request: Request): string {
  return publicBaseUrl(request);
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** An HTML page whose only inline style and script are allowed by hash in its CSP. */
export interface HtmlPage {
  readonly title: string;
  /** Markup inside <body>. */
  readonly body: string;
  readonly style: string;
  readonly script?: string;
}

/** The full document of a page. */
export function renderPage(page: HtmlPage): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(page.title)}</title><style>${page.style}</style></head>
<body>${page.body}${page.script ? `<script>${page.script}</script>` : ''}</body></html>`;
}

/** Content-Security-Policy with no external sources: inline style and script allowed by hash only. */
export function contentSecurityPolicy(options: { styles?: readonly string[]; scripts?: readonly string[]; styleSelf?: boolean; scriptSelf?: boolean } = {}): string {
  const styles = [...(options.styleSelf ? ["'self'"] : []), ...(options.styles ?? []).map(sha256)];
  const scripts = [...(options.scriptSelf ? ["'self'"] : []), ...(options.scripts ?? []).map(sha256)];
  return [
    "default-src 'none'",
    "img-src 'self' data:",
    `style-src ${styles.length ? styles.join(' ') : "'none'"}`,
    `script-src ${scripts.length ? scripts.join(' ') : "'none'"}`,
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers every HTML response carries. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

/** A 200 text/html response of the page with the security headers and its CSP. */
export function htmlResponse(page: HtmlPage, status = 200): Response {
  const csp = contentSecurityPolicy({ styles: [page.style], scripts: page.script ? [page.script] : [] });
  return new Response(renderPage(page), {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...securityHeaders(csp) },
  });
}
