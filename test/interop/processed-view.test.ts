import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useFixtureServer } from '../helpers/fixture-server.js';
import { lastJsonLine, runPython } from '../helpers/python.js';

/** Processing per fixture dataset: rechunk (merge and split), bit-round, re-compress. */
const PROCESSING: Record<string, { chunks?: Record<string, number>; keepbits?: Record<string, number> | number; compressor?: unknown }> = {
  basic: { chunks: { time: 7, lat: -1 }, keepbits: { tas: 10, sparse: 4 } },
  'basic-parquet': { chunks: { time: 2, lon: 3 }, compressor: { id: 'zlib', level: 1 } },
  templated: { chunks: { time: 8 }, keepbits: { ta: 12, hus: 3 }, compressor: { id: 'zstd', level: 3 } },
  generated: { chunks: { time: 24 }, compressor: null },
  combined: { chunks: { time: 10 }, keepbits: 7, compressor: { id: 'blosc', cname: 'zstd', clevel: 3, shuffle: 2 } },
  'combined-parquet': { chunks: { time: 4, lat: 2 }, compressor: { id: 'gzip', level: 5 } },
};

interface CheckReport {
  ok: boolean;
  problems: string[];
}

const context = useFixtureServer({
  copy: true,
  catalog: async (fixtures) => {
    const entries = fixtures.datasets.filter((d) => d.id in PROCESSING).map((d) => `  ${d.id}:\n    refs: ${d.refs}\n    processing: ${JSON.stringify(PROCESSING[d.id])}`);
    const catalog = join(fixtures.dir, 'catalog-processed.yaml');
    await writeFile(catalog, `datasets:\n${entries.join('\n')}\nsources:\n  allow: [data/]\n`);
    return catalog;
  },
});

describe('xarray over the processed view /zarr', () => {
  for (const [id, processing] of Object.entries(PROCESSING)) {
    it(`${id}: chunks as configured, coordinates exact, values within the keepbits bound`, async () => {
      const { fixtures, server } = context();
      const dataset = fixtures.datasets.find((d) => d.id === id);
      if (!dataset) throw new Error(`no fixture ${id}`);
      const keepbits =
        typeof processing.keepbits === 'number' ? Object.fromEntries(['tas', 'pr', 'sparse', 'orog'].map((v) => [v, processing.keepbits])) : (processing.keepbits ?? {});
      const args = [
        '--url',
        `${server.url}/datasets/${id}/zarr`,
        '--files',
        ...dataset.files,
        '--chunks',
        JSON.stringify(processing.chunks ?? {}),
        '--keepbits',
        JSON.stringify(keepbits),
      ];
      if (dataset.concatDim) args.push('--combine-dim', dataset.concatDim);
      const result = await runPython('test/interop/check_processed.py', args);
      const report = lastJsonLine<CheckReport>(result.stdout || '{}');
      expect(report.problems, result.stderr).toEqual([]);
      expect(report.ok).toBe(true);
    });
  }

  it('advertises the configured compressor and no filters', async () => {
    const { server } = context();
    const meta = (await (await fetch(`${server.url}/datasets/templated/zarr/ta/.zarray`)).json()) as Record<string, unknown>;
    expect(meta.compressor).toEqual({ id: 'zstd', level: 3 });
    expect(meta.filters).toBeNull();
    expect(meta.dtype).toBe('<f4');
    const hus = (await (await fetch(`${server.url}/datasets/templated/zarr/hus/.zarray`)).json()) as Record<string, unknown>;
    expect(hus.dtype).toBe('<f4');
    const basic = (await (await fetch(`${server.url}/datasets/basic/zarr/tas/.zarray`)).json()) as Record<string, unknown>;
    expect(basic.compressor).toMatchObject({ id: 'blosc', cname: 'lz4' });
    expect(basic.chunks).toEqual([7, 6, 5]);
  });
});
