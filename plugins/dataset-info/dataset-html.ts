import type { Dataset } from '../../catalog/dataset.js';
import type { DatasetSchema, VariableSchema } from '../../catalog/dataset-schema.js';
import { stringAttribute } from '../../cf/attributes.js';
import { firstMapVariable, plotAxes } from '../../cf/axes.js';
import { BITROUND_ATTRIBUTE } from '../../cf/quantize.js';
import type { JsonValue } from '../../kerchunk/reference.js';
import { escapeHtml, type HtmlPage, htmlResponse, renderPage, requestOrigin } from '../../server/html/html.js';
import { withLayout } from '../../server/html/layout.js';
import { PAGE_STYLE } from '../../server/html/style.js';
import type { PageFacts, StoredArray } from './page-facts.js';

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

function describe(v: VariableSchema, facts: PageFacts | undefined): string {
  const longName = stringAttribute(v.attrs, 'long_name') ?? stringAttribute(v.attrs, 'standard_name') ?? '';
  const units = stringAttribute(v.attrs, 'units') ?? '';
  const time = facts?.times.get(v.name);
  if (time) {
    return `${escapeHtml(longName)} <b>${escapeHtml(time.first)} to ${escapeHtml(time.last)}</b> (${time.steps} step${time.steps === 1 ? '' : 's'}, ${escapeHtml(time.calendar)} calendar; stored as ${escapeHtml(v.dtypeName)} ${escapeHtml(units)})`;
  }
  return escapeHtml([longName, units ? `[${units}]` : ''].filter(Boolean).join(' '));
}

const shapeText = (chunks: readonly number[]): string => chunks.join(' × ') || '–';

/** `/zarr` and `/kerchunk` lines of one cell, each labelled. */
function perView(processed: string | undefined, raw: string | undefined): string {
  const lines: string[] = [];
  if (processed !== undefined) lines.push(`<span title="processed view">/zarr ${escapeHtml(processed)}</span>`);
  if (raw !== undefined) lines.push(`<span class="muted" title="raw view">/kerchunk ${escapeHtml(raw)}</span>`);
  return lines.join('<br>') || '–';
}

function processedArrays(facts: PageFacts | undefined): ReadonlyMap<string, StoredArray> | undefined {
  return facts && !('problem' in facts.processed) ? (facts.processed as ReadonlyMap<string, StoredArray>) : undefined;
}

function variableTable(variables: readonly VariableSchema[], schema: DatasetSchema, caption: string, facts: PageFacts | undefined): string {
  if (variables.length === 0) return '<p class="muted">none</p>';
  const processed = processedArrays(facts);
  const rows = variables
    .map((v) => {
      const count = Object.keys(v.attrs).length;
      const plot = !v.isCoordinate && plotAxes(schema, v)?.geographic ? ` · <a href="plot/${encodeURIComponent(v.name)}.png">map</a>` : '';
      const raw = facts?.raw.get(v.name);
      const done = processed?.get(v.name);
      const chunks = facts ? perView(done && shapeText(done.chunks), shapeText(raw?.chunks ?? v.chunks)) : shapeText(v.chunks);
      const codecs = (a: StoredArray | undefined) => a && [a.filters, a.compressor].filter(Boolean).join(' + ');
      const bits = facts?.keepbits.get(v.name);
      const compression = facts ? perView(done && `${codecs(done)}${bits !== undefined ? `, rounded to ${bits} bits` : ''}`, codecs(raw)) : '';
      return `<tr id="var-${escapeHtml(v.name)}"><th scope="row">${escapeHtml(v.name)}</th><td>(${v.dims.map(escapeHtml).join(', ')})</td><td><code>${escapeHtml(v.dtypeName)}</code></td>
<td>${v.shape.join(' × ') || 'scalar'}</td><td>${chunks}</td>${facts ? `<td>${compression}</td>` : ''}<td>${describe(v, facts)}${plot}</td>
<td><details><summary>${count} attribute${count === 1 ? '' : 's'}</summary>${attributeList(v.attrs)}</details></td></tr>`;
    })
    .join('\n');
  const chunkHead = facts ? '<th scope="col">chunks</th><th scope="col">compression</th>' : '<th scope="col">chunks</th>';
  return `<table aria-label="${escapeHtml(caption)}"><thead><tr><th scope="col">name</th><th scope="col">dimensions</th><th scope="col">dtype</th><th scope="col">shape</th>${chunkHead}<th scope="col">description</th><th scope="col">attributes</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Which client runs a snippet (the page's snippet test runs each with it). */
export type SnippetKind = 'python' | 'intake' | 'shell';

export interface Snippet {
  readonly label: string;
  readonly kind: SnippetKind;
  readonly code: string;
}

function snippetHtml({ label, kind, code }: Snippet): string {
  return `<h3>${escapeHtml(label)}</h3><div class="snippet" data-label="${escapeHtml(label)}" data-kind="${kind}"><pre><code>${escapeHtml(code)}</code></pre></div>`;
}

/** A shell word: as is when plain, else in single quotes (ids and variable names may hold anything). */
const shellQuote = (text: string): string => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

/** The query of a plot of the map variable at a time step that exists: its first date, else index 0. */
export function plotQuery(schema: DatasetSchema, variable: VariableSchema, facts: PageFacts | undefined): string {
  const axes = plotAxes(schema, variable);
  const parts: string[] = [];
  if (axes?.time) {
    const first = facts?.times.get(axes.time)?.first;
    parts.push(`time=${first ? encodeURIComponent(first.replace(' ', 'T')).replace(/%3A/g, ':') : '0'}`);
  }
  if (axes && axes.others.length > 0) parts.push('level=0');
  return parts.join('&');
}

/**
 * Copy-ready ways to open the dataset, with absolute URLs at this origin ('' gives server-relative
 * ones), made from the dataset itself: a time step it has, `level` only for an extra dimension,
 * GDAL's index syntax for each dimension before the map's two.
 */
export function snippetsOf(dataset: Dataset, schema: DatasetSchema, origin: string, facts?: PageFacts): Snippet[] {
  const base = `${origin}/datasets/${encodeURIComponent(dataset.id)}`;
  const map = firstMapVariable(schema);
  const lossy = [...(facts?.keepbits ?? [])].map(
    ([name, bits]) => `# ${name}: mantissa rounded to ${bits} bits here (attribute _QuantizeBitRoundNumberOfSignificantBits); /kerchunk has the original values\n`,
  );
  const open = (view: string) => `import xarray as xr\nds = xr.open_dataset(${JSON.stringify(`${base}/${view}`)}, engine="zarr", consolidated=True, chunks={})\nprint(ds)`;
  const snippets: Snippet[] = [
    { label: 'xarray, raw view (chunks and bytes as stored)', kind: 'python', code: open('kerchunk') },
    { label: 'xarray, processed view (rechunked, re-compressed)', kind: 'python', code: `${lossy.join('')}${open('zarr')}` },
    {
      label: 'intake (needs the intake-xarray plugin)',
      kind: 'intake',
      code: `# needs intake and intake-xarray (pip install intake-xarray; Debian 12 packages only intake):\n# without the plugin, use the xarray lines above, which open the same dataset\nimport intake\ncat = intake.open_catalog(${JSON.stringify(`${origin}/intake.yaml`)})\nds = cat[${JSON.stringify(dataset.id)}].to_dask()\nprint(ds)`,
    },
    { label: 'ncdump / cdo (OPeNDAP)', kind: 'shell', code: `ncdump -h ${shellQuote(`${base}/opendap`)}\ncdo sinfo ${shellQuote(`${base}/opendap`)}` },
  ];
  const gdal = [`gdalmdiminfo ${shellQuote(`/vsicurl/${base}/zarr`)}`];
  if (map) {
    const extra = map.dims.length - 2;
    const source = `ZARR:"/vsicurl/${base}/zarr":/${map.name}${':0'.repeat(extra)}`;
    const which = extra > 0 ? `  # index 0 of ${map.dims.slice(0, extra).join(', ')}` : '';
    gdal.push(`gdalinfo ${shellQuote(source)}${which}`, `gdal_translate -q ${shellQuote(source)} ${shellQuote(`${map.name}.tif`)}`);
  }
  snippets.push({ label: 'GDAL (processed view)', kind: 'shell', code: gdal.join('\n') });
  if (map) {
    const query = [plotQuery(schema, map, facts), 'cmap=viridis'].filter(Boolean).join('&');
    snippets.push({
      label: 'Quick-look image',
      kind: 'shell',
      code: `curl -fsS -o ${shellQuote(`${map.name}.png`)} ${shellQuote(`${base}/plot/${encodeURIComponent(map.name)}.png?${query}`)}`,
    });
  }
  return snippets;
}

/** The snippets as HTML. */
export function openSnippets(dataset: Dataset, schema: DatasetSchema, origin: string, facts?: PageFacts): string {
  return snippetsOf(dataset, schema, origin, facts).map(snippetHtml).join('\n');
}

function quickLook(schema: DatasetSchema, facts: PageFacts | undefined): string {
  const map = firstMapVariable(schema);
  if (!map) return '';
  const name = stringAttribute(map.attrs, 'long_name') ?? map.name;
  const src = `plot/${encodeURIComponent(map.name)}.png`;
  const axes = plotAxes(schema, map);
  const time = axes?.time ? facts?.times.get(axes.time) : undefined;
  const query = [plotQuery(schema, map, facts), 'cmap=magma', 'vmin=', 'vmax='].filter(Boolean).join('&');
  const notes = [
    axes?.time ? `<code>time</code> takes a date${time ? ` from ${escapeHtml(time.first)} to ${escapeHtml(time.last)}` : ''} or a step index` : '',
    axes && axes.others.length > 0 ? `<code>level</code> an index of <code>${escapeHtml(axes.others[0] as string)}</code>` : '',
    'colormaps viridis, magma, cividis, rdbu, each also <code>_r</code>',
  ].filter(Boolean);
  return `<h2>Quick look</h2><figure><img src="${src}" alt="Map of ${escapeHtml(name)} (${escapeHtml(map.name)}) at the first time step" loading="lazy" decoding="async">
<figcaption><code>${escapeHtml(map.name)}</code>, first time step. Other steps and colormaps:
<code>${escapeHtml(`${src}?${query}`)}</code> (${notes.join('; ')}).</figcaption></figure>`;
}

/** What the two views serve: the processing of /zarr, and which variables it makes lossy. */
function viewsSection(dataset: Dataset, facts: PageFacts | undefined): string {
  if (!facts) return '';
  const lossy = [...facts.keepbits].map(
    ([name, bits]) =>
      `<li><code>${escapeHtml(name)}</code>: rounded to ${bits} mantissa bits in <code>/zarr</code> (attribute <code>${BITROUND_ATTRIBUTE} = ${bits}</code>); <code>/kerchunk</code> serves the original bytes.</li>`,
  );
  const processing = dataset.entry.processing;
  const settings =
    processing && typeof processing === 'object' && !Array.isArray(processing) ? Object.entries(processing).map(([key, value]) => `${key}: ${JSON.stringify(value)}`) : [];
  const processed =
    'problem' in facts.processed
      ? `<p><code>/zarr</code> cannot be served: ${escapeHtml((facts.processed as { problem: string }).problem)}</p>`
      : `<p><code>/zarr</code> (processed view): ${settings.length > 0 ? `processing <code>${escapeHtml(settings.join('; '))}</code>; ` : ''}decoded values re-encoded without filters, chunks and compression as in the table below.</p>
${lossy.length > 0 ? `<p><b>Lossy:</b></p><ul>${lossy.join('')}</ul>` : "<p>Its values equal the source's bit for bit (no variable is rounded).</p>"}`;
  return `<h2 id="views">Views</h2>
${processed}
<p><code>/kerchunk</code> (raw view): the source's chunks, compression and bytes, untouched.</p>`;
}

/** An xarray-like view of a dataset: dimensions, coordinates, data variables, attributes, and how to open it. */
export function datasetPageOf(dataset: Dataset, schema: DatasetSchema, origin = '', version?: string, facts?: PageFacts): HtmlPage {
  const title = dataset.entry.title ?? dataset.id;
  const coordinates = schema.variables.filter((v) => v.isCoordinate);
  const dataVariables = schema.variables.filter((v) => !v.isCoordinate);
  const dims = Object.entries(schema.dims)
    .map(([name, size]) => `${escapeHtml(name)}: ${size}`)
    .join(', ');
  const times = [...(facts?.times ?? [])].map(
    ([name, time]) =>
      `<p class="dims"><b>${escapeHtml(name)}:</b> ${escapeHtml(time.first)} to ${escapeHtml(time.last)} (${time.steps} step${time.steps === 1 ? '' : 's'}, ${escapeHtml(time.calendar)} calendar)</p>`,
  );
  const attrCount = Object.keys(schema.attrs).length;
  const main = `<nav aria-label="breadcrumb" class="muted"><a href="/">datasets</a> / <code>${escapeHtml(dataset.id)}</code></nav>
<h1>${escapeHtml(title)}</h1>
<p class="muted"><code>${escapeHtml(dataset.id)}</code>${dataset.entry.license ? ` · license ${escapeHtml(dataset.entry.license)}` : ''}</p>
${dataset.entry.description ? `<p class="lead">${escapeHtml(dataset.entry.description)}</p>` : ''}
<p>JSON: <a href="info">info</a> · <a href="dict">dict</a> · <a href="keys">keys</a> · <a href="stac">STAC item</a> · <a href="catalog.yaml">intake catalog</a> · Zarr: <a href="kerchunk/.zmetadata">raw .zmetadata</a> · <a href="zarr/.zmetadata">processed .zmetadata</a> · <a href="opendap">OPeNDAP</a></p>
${quickLook(schema, facts)}
${viewsSection(dataset, facts)}
<h2 id="structure">Dataset structure</h2>
<p class="dims"><b>Dimensions:</b> (${dims || 'none'})</p>
${times.join('\n')}
<details open><summary><b>Coordinates</b> (${coordinates.length})</summary>${variableTable(coordinates, schema, 'Coordinates', facts)}</details>
<details open><summary><b>Data variables</b> (${dataVariables.length})</summary>${variableTable(dataVariables, schema, 'Data variables', facts)}</details>
<details${attrCount <= 12 ? ' open' : ''}><summary><b>Attributes</b> (${attrCount})</summary>${attributeList(schema.attrs)}</details>
<h2 id="open">Open it</h2>
${origin ? '' : '<p class="muted">Prefix these paths with this server\'s address.</p>'}
${openSnippets(dataset, schema, origin, facts)}`;
  return { title: `${title} — strato`, body: withLayout(main, version), style: PAGE_STYLE, script: COPY_SCRIPT };
}

/** The page as a document string (server-relative URLs in the snippets unless an origin is given). */
export function datasetHtml(dataset: Dataset, schema: DatasetSchema, origin = '', facts?: PageFacts): string {
  return renderPage(datasetPageOf(dataset, schema, origin, undefined, facts));
}

/** The page as a response: absolute URLs from the request (X-Forwarded-Proto/Host honoured), security headers. */
export function datasetPage(dataset: Dataset, schema: DatasetSchema, request: Request, version?: string, facts?: PageFacts): Response {
  return htmlResponse(datasetPageOf(dataset, schema, requestOrigin(request), version, facts));
}
