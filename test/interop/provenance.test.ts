import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/serve.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { repoRoot, startInProcess } from '../helpers/server.js';

interface Report {
  ok: boolean;
  problems: string[];
  datasets: Record<
    string,
    {
      sources: Array<{ location: string; size: number | null }>;
      table_reached: boolean;
      entities: number;
      formats: { provn: { type: string; starts: string; ends: string; prov_writes_same_records: boolean }; turtle: { type: string; triples: number | null } };
    }
  >;
}

/**
 * Debian's python3-prov reads every dataset's provenance document (PROV-JSON) and walks the chain
 * from the processed view back to the NetCDF files behind the reference table, with their sizes.
 */
let server: RunningServer;
const catalog = join(repoRoot, 'demo', 'catalog.yaml');

beforeAll(async () => {
  server = await startInProcess(catalog);
});
afterAll(async () => server?.close());

describe('provenance (W3C PROV)', () => {
  it('python prov reads every document and finds the source files from the processed view', async () => {
    const result = await runPython('test/interop/check_provenance.py', [server.url, 'tas-daily', 'pr-daily']);
    expect(result.code, result.stderr).toBe(0);
    const report = lastJsonLine<Report>(result.stdout);
    expect(report.problems).toEqual([]);
    for (const [id, files] of [
      ['tas-daily', ['tas_day_2001.nc', 'tas_day_2002.nc']],
      ['pr-daily', ['pr_day_2001-2002.nc']],
    ] as const) {
      const dataset = report.datasets[id];
      expect(dataset?.table_reached).toBe(true);
      const locations = dataset?.sources.map((s) => s.location) ?? [];
      expect(locations).toEqual(files.map((f) => `data/${f}`));
      for (const source of dataset?.sources ?? []) {
        expect(source.location.startsWith('/')).toBe(false); // never a server path
        expect(source.size).toBe((await stat(join(repoRoot, 'demo', source.location))).size);
      }
      expect(dataset?.formats.provn).toMatchObject({ type: 'text/provenance-notation', starts: 'document', ends: 'endDocument', prov_writes_same_records: true });
      expect(dataset?.formats.turtle.type).toBe('text/turtle');
      if (dataset?.formats.turtle.triples !== null) expect(dataset?.formats.turtle.triples).toBeGreaterThan(10);
    }
  });

  it('a derived dataset: python prov walks from its processed view through the derivation to the source files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strato-prov-derived-'));
    const derivedCatalog = join(dir, 'catalog.yaml');
    await writeFile(
      derivedCatalog,
      [
        'datasets:',
        `  tas-daily: {refs: ${JSON.stringify(join(repoRoot, 'demo', 'refs', 'tas-daily.json'))}}`,
        '  tas-monthly: {derive: {from: tas-daily, resample: {time: month}, reduce: mean}}',
        '  tas-clim: {derive: {from: tas-monthly, groupby: time.month, reduce: mean}}',
        'sources:',
        `  allow: [${JSON.stringify(join(repoRoot, 'demo', 'data'))}]`,
        '',
      ].join('\n'),
    );
    const derived = await startInProcess(derivedCatalog);
    try {
      const result = await runPython('test/interop/check_provenance.py', [derived.url, 'tas-monthly', 'tas-clim']);
      expect(result.code, result.stderr).toBe(0);
      const report = lastJsonLine<Report>(result.stdout);
      expect(report.problems).toEqual([]);
      for (const id of ['tas-monthly', 'tas-clim']) {
        // outside the catalog's directory: file names only, never the server's path
        expect(report.datasets[id]?.sources.map((s) => s.location)).toEqual(['tas_day_2001.nc', 'tas_day_2002.nc']);
      }
      const document = (await (await fetch(`${derived.url}/datasets/tas-clim/provenance`)).json()) as { activity: Record<string, Record<string, unknown>> };
      expect(document.activity['ds:derive']?.['strato:derive']).toBe('{"from":"tas-monthly","groupby":"time.month","reduce":"mean"}');
      expect(document.activity['ds_from:derive']?.['strato:derive']).toContain('"resample"');
      expect(JSON.stringify(document)).not.toContain(repoRoot);
    } finally {
      await derived.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('format negotiation: ?format wins, unknown types are 406 problems, the STAC item links the document', async () => {
    const url = `${server.url}/datasets/tas-daily/provenance`;
    expect((await fetch(`${url}?format=ttl`)).headers.get('content-type')).toContain('text/turtle');
    expect((await fetch(url, { headers: { accept: 'text/provenance-notation' } })).headers.get('content-type')).toContain('text/provenance-notation');
    const refused = await fetch(url, { headers: { accept: 'image/png' } });
    expect(refused.status).toBe(406);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await fetch(`${url}?format=__proto__`)).status).toBe(406);
    const json = (await (await fetch(url)).json()) as { prefix: Record<string, string>; entity: Record<string, unknown> };
    expect(JSON.stringify(json)).not.toContain(repoRoot);
    expect(json.prefix.ds).toBe(`${url}#`);
    const item = (await (await fetch(`${server.url}/stac/collections/strato/items/tas-daily`)).json()) as { links: Array<{ rel: string; href: string }> };
    expect(item.links.find((l) => l.rel === 'provenance')?.href).toBe(url);
  });
});
