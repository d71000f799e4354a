import { describe, expect, it } from 'vitest';
import { CatalogError, datasetIdProblem, parseCatalog, resolveLocation } from './catalog-file.js';

describe('parseCatalog', () => {
  it('reads datasets and sources, resolving refs against the catalog directory', () => {
    const catalog = parseCatalog(
      `datasets:
  tas-daily:
    refs: refs/tas.json
    title: Daily tas
    license: CC-BY-4.0
    processing: {chunks: {time: 30}, keepbits: 10}
  remote: {refs: "https://example.org/refs.json"}
sources:
  allow: [data/, "https://example.org/archive/"]
  s3: {endpoint: "http://127.0.0.1:9000"}
`,
      '/srv/strato/catalog.yaml',
    );
    expect(catalog.dir).toBe('/srv/strato');
    expect(catalog.datasets.map((d) => d.id)).toEqual(['tas-daily', 'remote']);
    const [tas, remote] = catalog.datasets;
    expect(tas?.refsLocation).toBe('/srv/strato/refs/tas.json');
    expect(tas?.title).toBe('Daily tas');
    expect(tas?.processing).toEqual({ chunks: { time: 30 }, keepbits: 10 });
    expect(remote?.refsLocation).toBe('https://example.org/refs.json');
    expect(catalog.sources).toEqual({ allow: ['data/', 'https://example.org/archive/'], s3Endpoint: 'http://127.0.0.1:9000' });
    expect(catalog.problems).toEqual([]);
  });

  it('leaves out malformed entries with a reason and keeps the rest', () => {
    const catalog = parseCatalog(
      `datasets:
  ok: {refs: a.json}
  "../evil": {refs: a.json}
  norefs: {title: x}
  scalar: 3
  badtitle: {refs: a.json, title: [1]}
`,
      '/c/catalog.yaml',
    );
    expect(catalog.datasets.map((d) => d.id)).toEqual(['ok']);
    expect(catalog.problems.map((p) => p.id)).toEqual(['../evil', 'norefs', 'scalar', 'badtitle']);
    expect(catalog.problems[1]?.message).toMatch(/needs "refs"/);
  });

  it('treats an empty file as an empty catalog', () => {
    expect(parseCatalog('', '/c/catalog.yaml').datasets).toEqual([]);
  });

  it('refuses a catalog that cannot be understood', () => {
    expect(() => parseCatalog('datasets: [1, 2', '/c/catalog.yaml')).toThrow(CatalogError);
    expect(() => parseCatalog('- a\n- b\n', '/c/catalog.yaml')).toThrow(/must be a mapping/);
    expect(() => parseCatalog('datasets: [a]', '/c/catalog.yaml')).toThrow(/"datasets" must be a mapping/);
    expect(() => parseCatalog('sources: {allow: data/}', '/c/catalog.yaml')).toThrow(/sources.allow/);
  });
});

describe('dataset ids', () => {
  it('accepts ids of letters, digits, dot, dash and underscore', () => {
    for (const id of ['tas', 'tas-daily_v1.2', '0abc']) expect(datasetIdProblem(id)).toBeUndefined();
  });
  it('refuses anything else', () => {
    for (const id of ['', '.hidden', '-x', 'a/b', 'a b', '..', 'x'.repeat(200), 'ä']) expect(datasetIdProblem(id)).toBeDefined();
  });
});

describe('resolveLocation', () => {
  it('resolves relative paths and file URLs, leaves remote URLs alone', () => {
    expect(resolveLocation('refs/a.json', '/srv')).toBe('/srv/refs/a.json');
    expect(resolveLocation('/abs/a.json', '/srv')).toBe('/abs/a.json');
    expect(resolveLocation('file:///abs/a.json', '/srv')).toBe('/abs/a.json');
    expect(resolveLocation('s3://bucket/a.json', '/srv')).toBe('s3://bucket/a.json');
  });
});
