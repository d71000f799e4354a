import { escapeHtml, type HtmlPage } from '../../server/html/html.js';
import { withLayout } from '../../server/html/layout.js';
import { PAGE_STYLE } from '../../server/html/style.js';

/** One dataset as the landing page lists it. */
export interface DatasetSummary {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  /** Data variables (not coordinates). */
  readonly variables: readonly string[];
}

/** The text a search matches against: id, title and variable names, lower case. */
export function searchText(summary: DatasetSummary): string {
  return [summary.id, summary.title, ...summary.variables].join(' ').toLowerCase();
}

/** Whether every whitespace-separated term of the query occurs in the dataset's search text. */
export function matchesQuery(summary: DatasetSummary, query: string): boolean {
  const text = searchText(summary);
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((term) => text.includes(term));
}

/** Filters the list as the visitor types (the form also works without it, by reloading with ?q=). */
const FILTER_SCRIPT = `(()=>{const form=document.getElementById('search');const input=document.getElementById('q');
const items=Array.from(document.querySelectorAll('#datasets>li'));const count=document.getElementById('count');
const apply=()=>{const terms=input.value.toLowerCase().split(/\\s+/).filter(Boolean);let shown=0;
for(const item of items){const hit=terms.every((t)=>item.dataset.search.includes(t));item.hidden=!hit;if(hit)shown++;}
count.textContent=shown+' of '+items.length+' datasets';
const url=new URL(location.href);if(input.value)url.searchParams.set('q',input.value);else url.searchParams.delete('q');history.replaceState(null,'',url);};
input.addEventListener('input',apply);form.addEventListener('submit',(e)=>{e.preventDefault();apply();});})();`;

function datasetItem(summary: DatasetSummary, visible: boolean): string {
  const href = `/datasets/${encodeURIComponent(summary.id)}/`;
  const variables = summary.variables.length
    ? `<ul class="chips" aria-label="variables">${summary.variables.map((v) => `<li><code>${escapeHtml(v)}</code></li>`).join('')}</ul>`
    : '';
  return `<li data-search="${escapeHtml(searchText(summary))}"${visible ? '' : ' hidden'}>
<h3><a href="${href}">${escapeHtml(summary.title)}</a></h3>
<p class="muted"><code>${escapeHtml(summary.id)}</code> · <a href="${href}kerchunk/.zmetadata">raw</a> · <a href="${href}zarr/.zmetadata">zarr</a> · <a href="${href}stac">STAC item</a></p>
${summary.description ? `<p>${escapeHtml(summary.description)}</p>` : ''}${variables}</li>`;
}

/** The landing page: what the server is, the datasets with a search box, where to go next. */
export function landingPage(datasets: readonly DatasetSummary[], query: string, origin: string, version?: string): HtmlPage {
  const shown = datasets.filter((d) => matchesQuery(d, query)).length;
  const items = datasets.map((d) => datasetItem(d, matchesQuery(d, query))).join('\n');
  const main = `<h1>strato</h1>
<p class="lead">This server publishes archives of NetCDF4/HDF5 files as cloud-native <strong>Zarr</strong> without copying them:
kerchunk reference tables say where every chunk lies, and the bytes are read on demand. Each dataset is also available over
<strong>OPeNDAP</strong> (for ncdump, cdo, netCDF-C), as a <strong>STAC</strong> item and in an <strong>intake</strong> catalog.</p>
<p>Start with <code>xr.open_dataset("${escapeHtml(origin)}/datasets/ID/zarr", engine="zarr")</code>,
browse the <a href="/stac">STAC catalog</a>, load <a href="/intake.yaml">intake.yaml</a>, or read the <a href="/docs">API documentation</a>.</p>
<h2 id="datasets-heading">Datasets</h2>
<form id="search" class="search" method="get" action="/" role="search">
<label for="q">Filter by id, title or variable</label>
<input id="q" name="q" type="search" value="${escapeHtml(query)}" placeholder="e.g. tas, precipitation" autocomplete="off">
<button type="submit">Filter</button>
<span id="count" class="muted" role="status" aria-live="polite">${shown} of ${datasets.length} datasets</span></form>
${datasets.length ? `<ul id="datasets" class="datasets" aria-labelledby="datasets-heading">\n${items}\n</ul>` : '<p>No datasets are served yet.</p>'}`;
  return { title: 'strato — datasets', body: withLayout(main, version), style: PAGE_STYLE, script: FILTER_SCRIPT };
}
