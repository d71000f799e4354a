import { contentSecurityPolicy, securityHeaders } from '../../server/html/html.js';

/** Starts Swagger UI on /openapi.json (no online validator: the page makes no external requests). */
export const DOCS_INIT_SCRIPT = `window.addEventListener('load',()=>{window.ui=SwaggerUIBundle({url:'/openapi.json',dom_id:'#swagger-ui',deepLinking:true,validatorUrl:null,
presets:[SwaggerUIBundle.presets.apis],layout:'BaseLayout',docExpansion:'list',defaultModelsExpandDepth:-1});});
`;

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>strato API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head><body>
<noscript><p>The interactive documentation needs JavaScript; the description itself is <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<p><a href="/">← strato</a> · <a href="/openapi.json">openapi.json</a></p>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

/** The Swagger UI page, every asset from this server. */
export function docsResponse(): Response {
  // Swagger UI sets element styles at run time, so styles need 'unsafe-inline' here (scripts do not).
  const csp = contentSecurityPolicy({ styleSelf: true, scriptSelf: true }).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
  return new Response(DOCS_HTML, {
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...securityHeaders(csp) },
  });
}
