import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../catalog/dataset.js';
import { datasetSchema } from '../../catalog/dataset-schema.js';
import type { JsonValue, ReferenceStore } from '../../kerchunk/reference.js';
import { contentSecurityPolicy, escapeHtml, htmlResponse, requestOrigin } from '../../server/html/html.js';
import { datasetPage } from '../dataset-info/dataset-html.js';
import { landingPage, matchesQuery } from './landing-html.js';

describe('html helpers', () => {
  it('escapes markup', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
  it('takes the origin from X-Forwarded-Proto/Host, ignoring junk', () => {
    const plain = new Request('http://127.0.0.1:8000/x');
    expect(requestOrigin(plain)).toBe('http://127.0.0.1:8000');
    const proxied = new Request('http://127.0.0.1:8000/x', { headers: { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'data.example.org' } });
    expect(requestOrigin(proxied)).toBe('https://data.example.org');
    const junk = new Request('http://127.0.0.1:8000/x', { headers: { 'x-forwarded-proto': 'javascript', 'x-forwarded-host': 'a"b<c' } });
    expect(requestOrigin(junk)).toBe('http://127.0.0.1:8000');
  });
  it('allows inline style and script by hash only', async () => {
    const csp = contentSecurityPolicy({ styles: ['a{}'], scripts: ['1'] });
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toMatch(/unsafe|https?:/);
    const response = htmlResponse({ title: 't', body: '<p>x</p>', style: 'p{}' });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await response.text()).toContain('<style>p{}</style>');
  });
});

describe('landing page', () => {
  const datasets = [
    { id: 'tas-daily', title: 'Daily air temperature', variables: ['tas'] },
    { id: 'pr', title: 'Precipitation <b>', variables: ['pr', 'time_bnds'] },
  ];
  it('matches every term against id, title and variables', () => {
    expect(matchesQuery(datasets[0]!, 'TAS daily')).toBe(true);
    expect(matchesQuery(datasets[0]!, 'tas pr')).toBe(false);
    expect(matchesQuery(datasets[1]!, 'time_bnds')).toBe(true);
    expect(matchesQuery(datasets[1]!, '')).toBe(true);
  });
  it('renders hidden items for non-matches and escapes titles', () => {
    const page = landingPage(datasets, 'tas', 'https://h');
    expect(page.body).toContain('Precipitation &#60;b&#62;');
    expect(page.body).toMatch(/data-search="pr [^"]*" hidden/);
    expect(page.body).toContain('1 of 2 datasets');
  });
});

describe('dataset page', () => {
  const metadata = new Map<string, JsonValue>([
    ['.zgroup', { zarr_format: 2 }],
    ['.zattrs', { title: 'x' }],
    ['lat/.zarray', { zarr_format: 2, shape: [3], chunks: [3], dtype: '<f8', compressor: null, filters: null, fill_value: null, order: 'C' }],
    ['lat/.zattrs', { _ARRAY_DIMENSIONS: ['lat'], units: 'degrees_north' }],
    ['lon/.zarray', { zarr_format: 2, shape: [4], chunks: [4], dtype: '<f8', compressor: null, filters: null, fill_value: null, order: 'C' }],
    ['lon/.zattrs', { _ARRAY_DIMENSIONS: ['lon'], units: 'degrees_east' }],
    ['sst/.zarray', { zarr_format: 2, shape: [3, 4], chunks: [3, 4], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' }],
    ['sst/.zattrs', { _ARRAY_DIMENSIONS: ['lat', 'lon'], long_name: 'Sea surface temperature', units: 'K' }],
  ]);
  const dataset = {
    id: 'sst',
    entry: { id: 'sst', refs: 'r.json', refsLocation: '/r.json', title: 'SST', fields: {} },
    references: { metadata } as unknown as ReferenceStore,
    referenceBase: '/',
  } satisfies Dataset;

  it('gives copy-ready snippets with the public absolute URLs and security headers', async () => {
    const request = new Request('http://10.0.0.5:8000/datasets/sst/', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'data.example.org' } });
    const response = datasetPage(dataset, datasetSchema(metadata), request);
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
    const html = await response.text();
    const base = 'https://data.example.org/datasets/sst';
    for (const part of [
      `${base}/kerchunk&#34;`,
      `${base}/zarr&#34;`,
      'https://data.example.org/intake.yaml',
      `ncdump -h ${base}/opendap`,
      `ZARR:&#34;/vsicurl/${base}/zarr&#34;`,
      `${base}/plot/sst.png`,
    ]) {
      expect(html).toContain(part);
    }
    expect(html).toContain('<img src="plot/sst.png" alt="Map of Sea surface temperature (sst) at the first time step"');
    expect(html).toContain('(lat: 3, lon: 4)');
  });
});
