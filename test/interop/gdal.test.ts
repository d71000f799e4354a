import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useFixtureServer } from '../helpers/fixture-server.js';
import { runPython } from '../helpers/python.js';

const run = promisify(execFile);

/**
 * GDAL 3.6 (Debian's gdal-bin) reads the processed view: `gdal_translate` of a 2-D slice of a
 * 3-D variable, written as raw ENVI bytes, equals netCDF4's stored values of the same slice.
 * (The raw view cannot serve GDAL: NetCDF4 chunks carry the shuffle filter GDAL 3.6 rejects.)
 */
const context = useFixtureServer({
  copy: true,
  catalog: async (fixtures) => {
    const catalog = join(fixtures.dir, 'catalog-gdal.yaml');
    await writeFile(
      catalog,
      `datasets:
  basic: {refs: basic.json, processing: {chunks: {time: 4}}}
  combined-parquet: {refs: refs/combined.parq, processing: {compressor: {id: zlib, level: 1}}}
  templated: {refs: refs/templated.json, processing: {compressor: {id: zstd, level: 1}}}
sources:
  allow: [data/]
`,
    );
    return catalog;
  },
});

async function gdalSlice(id: string, variable: string, index: number): Promise<Buffer> {
  const { fixtures, server } = context();
  const out = join(fixtures.dir, `${id}-${variable}-${index}.bin`);
  const source = `ZARR:"/vsicurl/${server.url}/datasets/${id}/zarr":/${variable}:${index}`;
  await run('gdal_translate', ['-q', '-of', 'ENVI', source, out], { env: { ...process.env, GDAL_HTTP_TIMEOUT: '30', CPL_VSIL_CURL_CHUNK_SIZE: '1048576' } });
  return readFile(out);
}

async function storedSlice(id: string, variable: string, index: number): Promise<Buffer> {
  const { fixtures } = context();
  const dataset = fixtures.datasets.find((d) => d.id === id);
  if (!dataset) throw new Error(`no fixture ${id}`);
  const out = join(fixtures.dir, `gdal-dump-${id}`);
  const args = ['--out', out, '--files', ...dataset.files, ...(dataset.concatDim ? ['--combine-dim', dataset.concatDim] : [])];
  const dumped = await runPython('test/interop/dump_raw.py', args);
  if (dumped.code !== 0) throw new Error(dumped.stderr);
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Record<string, { dtype: string; shape: number[] }>;
  const { dtype, shape } = manifest[variable] ?? { dtype: '', shape: [] };
  const itemsize = Number(dtype.slice(2));
  const plane = (shape[1] as number) * (shape[2] as number) * itemsize;
  const all = await readFile(join(out, `${variable}.bin`));
  return all.subarray(index * plane, (index + 1) * plane);
}

describe('GDAL over /zarr', () => {
  const cases: Array<[string, string, number]> = [
    ['basic', 'tas', 3],
    ['basic', 'ps', 11],
    ['combined-parquet', 'tas', 20],
    ['templated', 'obs_count', 6],
  ];
  for (const [id, variable, index] of cases) {
    it(`gdal_translate of ${id}/${variable}[${index}] equals the stored slice`, async () => {
      const [got, want] = await Promise.all([gdalSlice(id, variable, index), storedSlice(id, variable, index)]);
      expect(got.byteLength).toBe(want.byteLength);
      expect(got.equals(want)).toBe(true);
    });
  }
});
