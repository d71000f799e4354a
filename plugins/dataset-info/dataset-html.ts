import type { Dataset } from '../../catalog/dataset.js';
import type { DatasetSchema, VariableSchema } from '../../catalog/dataset-schema.js';
import type { JsonValue } from '../../kerchunk/reference.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem;margin-bottom:.2rem}code,pre{font-family:ui-monospace,monospace;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.2rem}th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #d8dee4;vertical-align:top}
details{margin:.1rem 0}summary{cursor:pointer}.dims span{margin-right:1rem}pre{background:#f6f8fa;padding:.6rem;overflow:auto}
`;

/** An xarray-like HTML view of a dataset: dimensions, coordinates, variables, attributes. */
export function datasetHtml(dataset: Dataset, schema: DatasetSchema): string {
  const title = dataset.entry.title ?? dataset.id;
  const coordinates = schema.variables.filter((v) => v.isCoordinate);
  const dataVariables = schema.variables.filter((v) => !v.isCoordinate);
  const dims = Object.entries(schema.dims)
    .map(([name, size]) => `<span><b>${escapeHtml(name)}</b>: ${size}</span>`)
    .join('');
  const id = encodeURIComponent(dataset.id);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} — strato</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
<p><code>${escapeHtml(dataset.id)}</code>${dataset.entry.license ? ` · license ${escapeHtml(dataset.entry.license)}` : ''}</p>
${dataset.entry.description ? `<p>${escapeHtml(dataset.entry.description)}</p>` : ''}
<h2>Dimensions</h2><p class="dims">${dims || 'none'}</p>
<h2>Coordinates</h2>${variableTable(coordinates)}
<h2>Data variables</h2>${variableTable(dataVariables)}
<h2>Attributes</h2>${attributeList(schema.attrs)}
<h2>Open it</h2>
<pre>import xarray as xr
ds = xr.open_dataset("${escapeHtml(`/datasets/${id}/kerchunk`)}", engine="zarr", consolidated=True)</pre>
<p>Prefix the path with this server's address. JSON: <a href="info">info</a>, <a href="dict">dict</a>, <a href="keys">keys</a>, <a href="kerchunk/.zmetadata">.zmetadata</a>.</p>
</main></body></html>`;
}

function variableTable(variables: readonly VariableSchema[]): string {
  if (variables.length === 0) return '<p>none</p>';
  const rows = variables
    .map(
      (v) => `<tr><th scope="row">${escapeHtml(v.name)}</th><td>(${v.dims.map(escapeHtml).join(', ')})</td><td>${escapeHtml(v.dtypeName)}</td>
<td>${v.shape.join(' × ') || 'scalar'}</td><td>${v.chunks.join(' × ')}</td>
<td><details><summary>${Object.keys(v.attrs).length} attributes</summary>${attributeList(v.attrs)}</details></td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th scope="col">name</th><th scope="col">dims</th><th scope="col">dtype</th><th scope="col">shape</th><th scope="col">chunks</th><th scope="col">attributes</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function attributeList(attrs: Readonly<Record<string, JsonValue>>): string {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return '<p>none</p>';
  return `<dl>${entries
    .map(([name, value]) => `<dt><b>${escapeHtml(name)}</b></dt><dd>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</dd>`)
    .join('')}</dl>`;
}
