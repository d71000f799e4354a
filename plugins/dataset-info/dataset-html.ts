import type { Dataset } from '../../catalog/dataset.js';
import type { DatasetSchema, VariableSchema } from '../../catalog/dataset-schema.js';
import { stringAttribute } from '../../cf/attributes.js';
import { firstMapVariable, plotAxes } from '../../cf/axes.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { escapeHtml, type HtmlPage, htmlResponse, renderPage, requestOrigin } from '../../server/html/html.js';
import { withLayout } from '../../server/html/layout.js';
import { PAGE_STYLE } from '../../server/html/style.js';

export { escapeHtml };

/** Adds a "Copy" button to every snippet (the snippets read fine without it). */
const COPY_SCRIPT = `(()=>{for(const box of document.querySelectorAll('.snippet')){const code=box.querySelector('code');
const button=document.createElement('button');button.type='button';button.textContent='Copy';
button.setAttribute('aria-label','Copy '+(box.dataset.label||'snippet'));
button.addEventListener('click',async()=>{try{await navigator.clipboard.writeText(code.textContent);button.textContent='Copied';}
catch{const range=document.createRange();range.selectNodeContents(code);const sel=getSelection();sel.removeAllRanges();sel.addRange(range);button.textContent='Press Ctrl+C';}
setTimeout(()=>{button.textContent='Copy';},2000);});box.appendChild(button);}})();`;

const attrText = (value: JsonValue): string => (typeof value === 'string' ? value : JSON.stringify(value));

function attributeList(attrs: Readonly<Record<string, JsonValue>>): string {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return '<p class="muted">none</p>';
  return `<dl class="attrs">${entries.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(attrText(value))}</dd>`).join('')}</dl>`;
}

function describe(v: VariableSchema): string {
  const longName = stringAttribute(v.attrs, 'long_name') ?? stringAttribute(v.attrs, 'standard_name') ?? '';
  const units = stringAttribute(v.attrs, 'units') ?? '';
  return escapeHtml([longName, units ? `[${units}]` : ''].filter(Boolean).join(' '));
}

function variableTable(variables: readonly VariableSchema[], schema: DatasetSchema, caption: string): string {
  if (variables.length === 0) return '<p class="muted">none</p>';
  const rows = variables
    .map((v) => {
      const count = Object.keys(v.attrs).length;
      const plot = !v.isCoordinate && plotAxes(schema, v)?.geographic ? ` · <a href="plot/${encodeURIComponent(v.name)}.png">map</a>` : '';
      return `<tr id="var-${escapeHtml(v.name)}"><th scope="row">${escapeHtml(v.name)}</th><td>(${v.dims.map(escapeHtml).join(', ')})</td><td><code>${escapeHtml(v.dtypeName)}</code></td>
<td>${v.shape.join(' × ') || 'scalar'}</td><td>${v.chunks.join(' × ') || '–'}</td><td>${describe(v)}${plot}</td>
<td><details><summary>${count} attribute${count === 1 ? '' : 's'}</summary>${attributeList(v.attrs)}</details></td></tr>`;
    })
    .join('\n');
  return `<table aria-label="${escapeHtml(caption)}"><thead><tr><th scope="col">name</th><th scope="col">dimensions</th><th scope="col">dtype</th><th scope="col">shape</th><th scope="col">chunks</th><th scope="col">description</th><th scope="col">attributes</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function snippet(label: string, code: string): string {
  return `<h3>${escapeHtml(label)}</h3><div class="snippet" data-label="${escapeHtml(label)}"><pre><code>${escapeHtml(code)}</code></pre></div>`;
}

/** Copy-ready ways to open the dataset, with absolute URLs at this origin ('' gives server-relative ones). */
export function openSnippets(dataset: Dataset, schema: DatasetSchema, origin: string): string {
  const base = `${origin}/datasets/${encodeURIComponent(dataset.id)}`;
  const map = firstMapVariable(schema);
  const parts = [
    snippet('xarray, raw view (chunks as stored)', `import xarray as xr\nds = xr.open_dataset("${base}/kerchunk", engine="zarr", consolidated=True, chunks={})`),
    snippet('xarray, processed view (rechunked, re-compressed)', `import xarray as xr\nds = xr.open_dataset("${base}/zarr", engine="zarr", consolidated=True, chunks={})`),
    snippet('intake', `import intake\ncat = intake.open_catalog("${origin}/intake.yaml")\nds = cat[${JSON.stringify(dataset.id)}].to_dask()`),
    snippet('ncdump / cdo (OPeNDAP)', `ncdump -h ${base}/opendap\ncdo sinfo ${base}/opendap`),
    snippet('GDAL', `gdalinfo 'ZARR:"/vsicurl/${base}/zarr"'${map ? `\ngdalinfo 'ZARR:"/vsicurl/${base}/zarr":/${map.name}'` : ''}`),
  ];
  if (map) parts.push(snippet('Quick-look image', `curl -o ${map.name}.png "${base}/plot/${encodeURIComponent(map.name)}.png?time=0&cmap=viridis"`));
  return parts.join('\n');
}

function quickLook(schema: DatasetSchema): string {
  const map = firstMapVariable(schema);
  if (!map) return '';
  const name = stringAttribute(map.attrs, 'long_name') ?? map.name;
  const src = `plot/${encodeURIComponent(map.name)}.png`;
  return `<h2>Quick look</h2><figure><img src="${src}" alt="Map of ${escapeHtml(name)} (${escapeHtml(map.name)}) at the first time step" loading="lazy" decoding="async">
<figcaption><code>${escapeHtml(map.name)}</code>, first time step. Other steps, levels and colormaps:
<code>${escapeHtml(src)}?time=2001-03-05&amp;level=0&amp;cmap=magma&amp;vmin=&amp;vmax=</code> (colormaps viridis, magma, cividis, rdbu, each also <code>_r</code>).</figcaption></figure>`;
}

/** An xarray-like view of a dataset: dimensions, coordinates, data variables, attributes, and how to open it. */
export function datasetPageOf(dataset: Dataset, schema: DatasetSchema, origin = '', version?: string): HtmlPage {
  const title = dataset.entry.title ?? dataset.id;
  const coordinates = schema.variables.filter((v) => v.isCoordinate);
  const dataVariables = schema.variables.filter((v) => !v.isCoordinate);
  const dims = Object.entries(schema.dims)
    .map(([name, size]) => `${escapeHtml(name)}: ${size}`)
    .join(', ');
  const attrCount = Object.keys(schema.attrs).length;
  const main = `<nav aria-label="breadcrumb" class="muted"><a href="/">datasets</a> / <code>${escapeHtml(dataset.id)}</code></nav>
<h1>${escapeHtml(title)}</h1>
<p class="muted"><code>${escapeHtml(dataset.id)}</code>${dataset.entry.license ? ` · license ${escapeHtml(dataset.entry.license)}` : ''}</p>
${dataset.entry.description ? `<p class="lead">${escapeHtml(dataset.entry.description)}</p>` : ''}
<p>JSON: <a href="info">info</a> · <a href="dict">dict</a> · <a href="keys">keys</a> · <a href="stac">STAC item</a> · <a href="catalog.yaml">intake catalog</a> · Zarr: <a href="kerchunk/.zmetadata">raw .zmetadata</a> · <a href="zarr/.zmetadata">processed .zmetadata</a> · <a href="opendap">OPeNDAP</a></p>
${quickLook(schema)}
<h2 id="structure">Dataset structure</h2>
<p class="dims"><b>Dimensions:</b> (${dims || 'none'})</p>
<details open><summary><b>Coordinates</b> (${coordinates.length})</summary>${variableTable(coordinates, schema, 'Coordinates')}</details>
<details open><summary><b>Data variables</b> (${dataVariables.length})</summary>${variableTable(dataVariables, schema, 'Data variables')}</details>
<details${attrCount <= 12 ? ' open' : ''}><summary><b>Attributes</b> (${attrCount})</summary>${attributeList(schema.attrs)}</details>
<h2 id="open">Open it</h2>
${origin ? '' : '<p class="muted">Prefix these paths with this server\'s address.</p>'}
${openSnippets(dataset, schema, origin)}`;
  return { title: `${title} — strato`, body: withLayout(main, version), style: PAGE_STYLE, script: COPY_SCRIPT };
}

/** The page as a document string (server-relative URLs in the snippets unless an origin is given). */
export function datasetHtml(dataset: Dataset, schema: DatasetSchema, origin = ''): string {
  return renderPage(datasetPageOf(dataset, schema, origin));
}

/** The page as a response: absolute URLs from the request (X-Forwarded-Proto/Host honoured), security headers. */
export function datasetPage(dataset: Dataset, schema: DatasetSchema, request: Request, version?: string): Response {
  return htmlResponse(datasetPageOf(dataset, schema, requestOrigin(request), version));
}
