/**
 * The public base URL of the server (scheme, host and any path prefix, no trailing slash) as the
 * client sees it: `X-Forwarded-Proto` / `X-Forwarded-Host` (first value each) win over the request
 * URL, and `X-Forwarded-Prefix` adds a path prefix, so links stay right behind a reverse proxy.
 */
export function publicBaseUrl(request: Request): string {
  const url = new URL(request.url);
  const first = (name: string) => request.headers.get(name)?.split(',')[0]?.trim() || undefined;
  const proto = first('x-forwarded-proto');
  const host = first('x-forwarded-host');
  const prefix = first('x-forwarded-prefix');
  const scheme = proto && /^https?$/i.test(proto) ? proto.toLowerCase() : url.protocol.replace(/:$/, '');
  const authority = host && /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? host : url.host;
  const path = prefix && /^\/[\w\-./~%]*$/.test(prefix) ? prefix.replace(/\/+$/, '') : '';
  return `${scheme}://${authority}${path}`;
}

/** The request's own URL on the public base (path and query kept). */
export function publicRequestUrl(request: Request): string {
  const url = new URL(request.url);
  return `${publicBaseUrl(request)}${url.pathname}${url.search}`;
}
