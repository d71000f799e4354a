import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogError, catalogFileHash, datasetIdProblem, loadCatalog, parseCatalog, resolveLocation } from './catalog-file.js';

describe('Catalog.textHash', () => {
  it('is the hash of the text loadCatalog read, which catalogFileHash gives without parsing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strato-catalog-hash-'));
    try {
      const file = join(dir, 'catalog.yaml');
      await writeFile(file, 'datasets:\n  a: {refs: refs/a.json, title: "Zürich"}\n');
      const loaded = await loadCatalog(file);
      expect(loaded.textHash).toMatch(/^[0-9a-f]{64}$/);
      expect(await catalogFileHash(file)).toBe(loaded.textHash);
      await writeFile(file, 'datasets:\n  a: {refs: refs/a.json, title: "Zurich"}\n');
      expect(await catalogFileHash(file)).not.toBe(loaded.textHash);
      await rm(file);
      expect(await catalogFileHash(file)).toBeUndefined();
      expect(parseCatalog('datasets: {}', file).textHash).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

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

describe('fail-closed dataset entries and access', () => {
  const auth = `auth:
  issuers:
    - {issuer: "https://idp.example.org/realms/climate", audience: strato}
`;

  it('serves a protected dataset with its access rule, a public one without', () => {
    const catalog = parseCatalog(
      `${auth}datasets:
  embargoed: {refs: e.json, access: {roles: [eerie-members]}}
  open: {refs: o.json}
`,
      '/c/catalog.yaml',
    );
    expect(catalog.problems).toEqual([]);
    expect(catalog.auth?.issuers[0]?.audience).toBe('strato');
    expect(catalog.datasets.find((d) => d.id === 'embargoed')?.access).toEqual({ roles: ['eerie-members'], groups: [], entitlements: [], scopes: [] });
    expect(catalog.datasets.find((d) => d.id === 'open')?.access).toBeUndefined();
  });

  it('leaves out an entry with a misspelt or unknown key, so a typo never publishes it', () => {
    const catalog = parseCatalog(
      `${auth}datasets:
  typo: {refs: e.json, acess: {roles: [eerie-members]}}
  proto:
    refs: e.json
    __proto__: {access: {roles: [x]}}
  ok: {refs: o.json}
`,
      '/c/catalog.yaml',
    );
    expect(catalog.datasets.map((d) => d.id)).toEqual(['ok']);
    expect(catalog.problems.map((p) => p.id)).toEqual(['typo', 'proto']);
    expect(catalog.problems[0]?.message).toMatch(/unknown key\(s\) "acess"/);
    expect(catalog.problems[1]?.message).toMatch(/unknown key\(s\) "__proto__"/);
  });

  it('leaves out an entry whose access rule is malformed or empty', () => {
    const catalog = parseCatalog(
      `${auth}datasets:
  empty: {refs: e.json, access: {}}
  nulled: {refs: e.json, access: }
  listed: {refs: e.json, access: [eerie-members]}
  wrongkey: {refs: e.json, access: {role: [eerie-members]}}
  scalar: {refs: e.json, access: {roles: eerie-members}}
  badstac: {refs: e.json, stac: [1]}
`,
      '/c/catalog.yaml',
    );
    expect(catalog.datasets).toEqual([]);
    expect(catalog.problems.map((p) => p.id)).toEqual(['empty', 'nulled', 'listed', 'wrongkey', 'scalar', 'badstac']);
  });

  it('keeps protected datasets unserved when "auth" is missing or unusable, and serves the public ones', () => {
    for (const head of ['', 'auth:\n  issuers:\n    - {issuer: "http://idp.example.org", audience: strato}\n', 'auth: {issuers: []}\n']) {
      const catalog = parseCatalog(
        `${head}datasets:
  embargoed: {refs: e.json, access: {roles: [eerie-members]}}
  open: {refs: o.json}
`,
        '/c/catalog.yaml',
      );
      expect(
        catalog.datasets.map((d) => d.id),
        head,
      ).toEqual(['open']);
      expect(catalog.problems.map((p) => p.id)).toEqual(['embargoed']);
      expect(catalog.problems[0]?.message).toMatch(/not served/);
      expect(catalog.auth).toBeUndefined();
      if (head !== '') expect(catalog.authProblem).toBeDefined();
    }
  });

  it('knows every key strato documents and reads', () => {
    const catalog = parseCatalog(
      `${auth}datasets:
  all:
    refs: a.json
    title: t
    description: d
    license: CC-BY-4.0
    processing: {chunks: {time: 30}}
    stac: {collection: strato, keywords: [a]}
    providers: [{name: DKRZ}]
    access: {scopes: [read]}
  other:
    derive: {from: all, reduce: mean, over: [lat]}
    title: t
    processing: {keepbits: 10}
    access: {scopes: [read]}
`,
      '/c/catalog.yaml',
    );
    expect(catalog.problems).toEqual([]);
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
