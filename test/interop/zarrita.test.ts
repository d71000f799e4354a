import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { useFixtureServer } from '../helpers/fixture-server.js';
import { runPython } from '../helpers/python.js';

/**
 * zarrita.js opens every served dataset over HTTP (consolidated v2 metadata, zlib + shuffle chunks
 * decoded by zarrita itself) and every array's stored values must equal, byte for byte, what
 * netCDF4 reads from the source files without CF decoding.
 */
const context = useFixtureServer({ copy: true });

const SCALAR_ARRAYS: Record<string, (value: number | bigint) => ArrayBufferView> = {
  float32: (v) => Float32Array.of(Number(v)),
  float64: (v) => Float64Array.of(Number(v)),
  int8: (v) => Int8Array.of(Number(v)),
  int16: (v) => Int16Array.of(Number(v)),
  int32: (v) => Int32Array.of(Number(v)),
  int64: (v) => BigInt64Array.of(BigInt(v)),
  uint8: (v) => Uint8Array.of(Number(v)),
  uint16: (v) => Uint16Array.of(Number(v)),
  uint32: (v) => Uint32Array.of(Number(v)),
  uint64: (v) => BigUint64Array.of(BigInt(v)),
};

/** The little-endian bytes of what zarr.get returned: a chunk of a typed array, or a 0-d array's scalar. */
function storedBytes(result: unknown, dtype: string): Uint8Array {
  if (typeof result === 'number' || typeof result === 'bigint') {
    const make = SCALAR_ARRAYS[dtype];
    if (!make) throw new Error(`no scalar conversion for ${dtype}`);
    const view = make(result);
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }
  const data = (result as { data: ArrayBufferView }).data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

const CASES = ['basic', 'templated', 'generated', 'combined']
  .flatMap((name) => [name, `${name}-parquet`])
  .flatMap((id) => (['kerchunk', 'zarr'] as const).flatMap((view) => (['v2', 'v3'] as const).map((format) => ({ id, view, format }))));

describe('zarrita.js over /kerchunk and /zarr, Zarr v2 and v3', () => {
  for (const { id, view, format } of CASES) {
    it(`reads every array of ${id} (/${view}, ${format}) equal to netCDF4's stored values`, async () => {
      const { fixtures, server } = context();
      const dataset = fixtures.datasets.find((d) => d.id === id);
      if (!dataset) throw new Error(`no fixture ${id}`);
      const dumpDir = join(fixtures.dir, `dump-${id}-${view}-${format}`);
      const args = ['--out', dumpDir, '--files', ...dataset.files];
      if (dataset.concatDim) args.push('--combine-dim', dataset.concatDim);
      const dumped = await runPython('test/interop/dump_raw.py', args);
      expect(dumped.code, dumped.stderr).toBe(0);
      const manifest = JSON.parse(await readFile(join(dumpDir, 'manifest.json'), 'utf8')) as Record<string, { dtype: string; shape: number[] }>;

      const store = await zarr.withConsolidatedMetadata(new zarr.FetchStore(`${server.url}/datasets/${id}/${view}`), { format });
      const root = await zarr.open(store, { kind: 'group' });
      let compared = 0;
      for (const name of Object.keys(manifest)) {
        let array: zarr.Array<zarr.DataType, typeof store>;
        try {
          array = await zarr.open(root.resolve(name), { kind: 'array' });
        } catch {
          continue; // a netCDF variable with no Zarr array (never written, not referenced)
        }
        const result: unknown = await zarr.get(array);
        const want = await readFile(join(dumpDir, `${name}.bin`));
        const got = storedBytes(result, array.dtype);
        expect(got.byteLength, `${id}/${name} size`).toBe(want.byteLength);
        expect(Buffer.from(got).equals(want), `${id}/${name} values`).toBe(true);
        compared++;
      }
      expect(compared).toBeGreaterThan(3);
    });
  }
});
