import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../catalog/catalog-file.js';
import { type DeriveSpec, parseDeriveSpec } from '../catalog/derive-entry.js';
import type { ArrayValues, DatasetValues, NumericArray, Slice } from '../kerchunk/array-values.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { computeChunk } from './derive-chunks.js';
import { DeriveError, planDerived } from './derive-plan.js';

/** A small dataset in memory: tas(time=6, lat=3, lon=2) in a noleap calendar, lat descending. */
function memory(): { metadata: Map<string, JsonValue>; values: DatasetValues } {
  const arrays: Record<string, { dims: string[]; shape: number[]; dtype: string; data: NumericArray; attrs: Record<string, JsonValue> }> = {
    time: { dims: ['time'], shape: [6], dtype: '<f8', data: Float64Array.of(0, 20, 40, 58, 59, 90), attrs: { units: 'days since 2001-01-01', calendar: 'noleap' } },
    lat: { dims: ['lat'], shape: [3], dtype: '<f4', data: Float32Array.of(60, 30, 0), attrs: { units: 'degrees_north' } },
    lon: { dims: ['lon'], shape: [2], dtype: '<f4', data: Float32Array.of(0, 10), attrs: { units: 'degrees_east' } },
    tas: { dims: ['time', 'lat', 'lon'], shape: [6, 3, 2], dtype: '<f4', data: Float32Array.from({ length: 36 }, (_, i) => (i === 7 ? Number.NaN : i)), attrs: { units: 'K' } },
  };
  const metadata = new Map<string, JsonValue>([['.zgroup', { zarr_format: 2 }]]);
  for (const [name, a] of Object.entries(arrays)) {
    metadata.set(`${name}/.zarray`, { zarr_format: 2, shape: a.shape, chunks: a.shape, dtype: a.dtype, compressor: null, filters: null, fill_value: 'NaN', order: 'C' });
    metadata.set(`${name}/.zattrs`, { ...a.attrs, _ARRAY_DIMENSIONS: a.dims });
  }
  const values: DatasetValues = {
    array(name) {
      const a = arrays[name];
      if (!a) return undefined;
      const read = async (selection: readonly Slice[]) => {
        const strides = a.shape.map((_, d) => a.shape.slice(d + 1).reduce((x, y) => x * y, 1));
        const counts = selection.map((s) => s.stop - s.start);
        const out = new (a.data.constructor as new (n: number) => NumericArray)(counts.reduce((x, y) => x * y, 1));
        let k = 0;
        const walk = (d: number, offset: number) => {
          if (d === a.shape.length) {
            (out as Float64Array)[k++] = (a.data as Float64Array)[offset] as number;
            return;
          }
          const s = selection[d] as Slice;
          for (let i = s.start; i < s.stop; i++) walk(d + 1, offset + i * (strides[d] as number));
        };
        walk(0, 0);
        return out;
      };
      const array: ArrayValues = { name, dtype: a.dtype, shape: a.shape, chunks: a.shape, fillValue: Number.NaN, read };
      return array;
    },
  };
  return { metadata, values };
}

const spec = (value: Record<string, unknown>): DeriveSpec => {
  const parsed = parseDeriveSpec({ from: 'src', ...value });
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

describe('derived dataset plans', () => {
  it('selects by value, inclusive, on a descending latitude and with dates of a noleap calendar', async () => {
    const { metadata, values } = memory();
    const plan = await planDerived(spec({ select: { lat: [10, 70], time: ['2001-01-21', '2001-02-28'] } }), metadata, values);
    const tas = plan.arrays.find((a) => a.name === 'tas');
    expect(tas?.meta.shape).toEqual([3, 2, 2]);
    const lat = plan.arrays.find((a) => a.name === 'lat');
    if (!lat) throw new Error('no lat');
    expect([...new Float32Array((await computeChunk(lat, [0], values)).buffer)]).toEqual([60, 30]);
  });

  it('resamples by month with CF bounds and NaN skipped', async () => {
    const { metadata, values } = memory();
    const plan = await planDerived(spec({ resample: { time: 'month' }, reduce: 'max' }), metadata, values);
    const time = plan.arrays.find((a) => a.name === 'time');
    const bounds = plan.arrays.find((a) => a.name === 'time_bnds');
    const tas = plan.arrays.find((a) => a.name === 'tas');
    if (!time || !bounds || !tas) throw new Error('missing arrays');
    expect([...new Float64Array((await computeChunk(time, [0], values)).slice().buffer)]).toEqual([0, 31, 59, 90]);
    expect([...new Float64Array((await computeChunk(bounds, [0, 0], values)).slice().buffer)]).toEqual([0, 31, 31, 59, 59, 90, 90, 120]);
    expect(tas.attrs.cell_methods).toBe('time: maximum');
    const chunk = new Float32Array((await computeChunk(tas, [0, 0, 0], values)).slice().buffer);
    // January: steps 0..1 (days 0, 20; value 7 is NaN, skipped); February 40, 58; March 59; April 90
    expect(tas.meta.shape).toEqual([4, 3, 2]);
    expect([...chunk.subarray(0, 6)]).toEqual([6, 1, 8, 9, 10, 11]);
  });

  it('refuses specs that do not fit the source with a DeriveError', async () => {
    const { metadata, values } = memory();
    for (const bad of [
      { variables: ['nope'] },
      { select: { depth: [0, 1] } },
      { select: { lat: [80, 90] } },
      { select: { time: ['2001-13-01', '2002'] } },
      { reduce: 'mean', over: ['depth'] },
      { reduce: 'mean', over: ['lon'], weights: 'area' },
      { groupby: 'lat.month', reduce: 'mean' },
    ]) {
      await expect(planDerived(spec(bad), metadata, values), JSON.stringify(bad)).rejects.toBeInstanceOf(DeriveError);
    }
  });

  it('the catalog accepts derive instead of refs, and refuses both together', () => {
    const catalog = parseCatalog(
      'datasets:\n  a: {derive: {from: b, groupby: time.month, reduce: mean}}\n  c: {refs: x.json, derive: {from: b}}\n  d: {derive: {from: b, over: [__proto__], reduce: mean}}\n',
      '/tmp/catalog.yaml',
    );
    expect(catalog.datasets.map((d) => d.id)).toEqual(['a']);
    expect(catalog.datasets[0]?.derive?.groupby).toEqual({ dim: 'time', key: 'month' });
    expect(catalog.problems.map((p) => p.id)).toEqual(['c', 'd']);
    expect(catalog.problems[0]?.message).toMatch(/exclude each other/);
  });
});
