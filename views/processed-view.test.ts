import { describe, expect, it } from 'vitest';
import type { Dataset } from '../catalog/dataset.js';
import { DecodedChunkCache, datasetValues } from '../kerchunk/array-reader.js';
import type { NumericArray } from '../kerchunk/array-values.js';
import { ChunkGrid } from '../kerchunk/chunk-grid.js';
import { type ChunkCodecs, inlineCodecs } from '../kerchunk/codecs/codec-pool.js';
import { decodeChunk } from '../kerchunk/codecs/index.js';
import { parseNumericDtype } from '../kerchunk/dtype.js';
import type { ZarrArrayMetadata } from '../kerchunk/zarr-metadata.js';
import { bitroundPlugin } from '../plugins/bitround/index.js';
import { compressPlugin } from '../plugins/compress/index.js';
import { rechunkPlugin } from '../plugins/rechunk/index.js';
import { useFixtureRegistry } from '../test/helpers/fixture-server.js';
import { EncodedChunkCache, ProcessedView } from './processed-view.js';
import { RawView } from './raw-view.js';

/**
 * Rechunking on 3-D data with partial edge chunks: every combination of split, keep, merge and
 * whole-dimension per axis. Reassembling the processed chunks gives the source values exactly.
 * (basic.tas: shape 12×6×8 stored in chunks 5×4×5.)
 */
const context = useFixtureRegistry();
const stages = [rechunkPlugin, bitroundPlugin, compressPlugin].flatMap((p) => (p.stage ? [p.stage] : []));

async function reassemble(view: ProcessedView, name: string): Promise<{ values: number[]; meta: ZarrArrayMetadata }> {
  const meta = JSON.parse(
    new TextDecoder().decode(await (view.metadata(`${name}/.zarray`) as { read(a: number, b: number): Promise<Uint8Array> }).read(0, 1e9)),
  ) as ZarrArrayMetadata;
  const dtype = parseNumericDtype(meta.dtype);
  if (!dtype) throw new Error('not numeric');
  const out = new Array<number>(meta.shape.reduce((a, b) => a * b, 1)).fill(Number.NaN);
  const grid = new ChunkGrid(meta.shape, meta.chunks);
  for (let index = 0; index < grid.size; index++) {
    const suffix = grid.suffixOf(index);
    const body = await view.chunk(`${name}/${suffix}`);
    if (!body) throw new Error(`no chunk ${suffix}`);
    const chunk: NumericArray = dtype.view(await decodeChunk(await body.read(0, body.size), meta));
    const origin = suffix.split('.').map((i, d) => Number(i) * (meta.chunks[d] as number));
    for (let n = 0; n < chunk.length; n++) {
      const position = meta.chunks.map((_, d) => Math.floor(n / meta.chunks.slice(d + 1).reduce((a, b) => a * b, 1)) % (meta.chunks[d] as number));
      const at = position.map((p, d) => p + (origin[d] as number));
      if (at.some((p, d) => p >= (meta.shape[d] as number))) continue; // padding of an edge chunk
      const flat = at.reduce((acc, p, d) => acc * (meta.shape[d] as number) + p, 0);
      out[flat] = Number(chunk[n]);
    }
  }
  return { values: out, meta };
}

describe('rechunking', () => {
  const options = (source: number) => [source - 2, source, source + 3, -1];
  const combinations = options(5).flatMap((t) => options(4).flatMap((y) => options(5).map((x) => ({ time: t, lat: y, lon: x }))));

  it(`reassembles basic.tas exactly for all ${combinations.length} split/keep/merge/whole combinations`, async () => {
    const { registry } = context();
    const source = registry.get('basic') as Dataset;
    const truth = Array.from(
      await datasetValues(source, registry.sources)
        .array('tas')!
        .read([12, 6, 8].map((n) => ({ start: 0, stop: n, step: 1 }))),
      Number,
    );
    for (const chunks of combinations) {
      const dataset: Dataset = { ...source, entry: { ...source.entry, processing: { chunks, compressor: { id: 'zlib', level: 1 } } } };
      const values = datasetValues(dataset, registry.sources, new DecodedChunkCache(1 << 20));
      const view = new ProcessedView({
        dataset,
        values,
        stages,
        raw: new RawView(dataset, registry.sources),
        cache: new EncodedChunkCache(1 << 20),
        sources: registry.sources,
        codecs: inlineCodecs,
      });
      const { values: got, meta } = await reassemble(view, 'tas');
      const expected = [chunks.time, chunks.lat, chunks.lon].map((c, d) => (c === -1 ? [12, 6, 8][d] : Math.min(c, [12, 6, 8][d] as number)));
      expect(meta.chunks, JSON.stringify(chunks)).toEqual(expected);
      expect(got, JSON.stringify(chunks)).toEqual(truth);
    }
  });

  it('keeps coordinates exact and rounds data variables under keepbits', async () => {
    const { registry } = context();
    const source = registry.get('basic') as Dataset;
    const dataset: Dataset = { ...source, entry: { ...source.entry, processing: { keepbits: 3, chunks: { time: 12 } } } };
    const view = new ProcessedView({
      dataset,
      values: datasetValues(dataset, registry.sources),
      stages,
      raw: new RawView(dataset, registry.sources),
      cache: new EncodedChunkCache(),
      sources: registry.sources,
      codecs: inlineCodecs,
    });
    const lat = await reassemble(view, 'lat');
    const truthLat = Array.from(
      await datasetValues(source, registry.sources)
        .array('lat')!
        .read([{ start: 0, stop: 6, step: 1 }]),
      Number,
    );
    expect(lat.values).toEqual(truthLat);
    const tas = await reassemble(view, 'tas');
    const truth = Array.from(
      await datasetValues(source, registry.sources)
        .array('tas')!
        .read([12, 6, 8].map((n) => ({ start: 0, stop: n, step: 1 }))),
      Number,
    );
    expect(tas.values).not.toEqual(truth);
    tas.values.forEach((v, i) => expect(Math.abs(v - (truth[i] as number))).toBeLessThanOrEqual(Math.abs(truth[i] as number) * 2 ** -4));
  });

  it('makes a chunk that is one whole source chunk in one codec job, to the bytes the values path makes', async () => {
    const { registry } = context();
    const source = registry.get('basic') as Dataset;
    const dataset: Dataset = { ...source, entry: { ...source.entry, processing: { keepbits: 10, compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 } } } };
    const transcoded: string[] = [];
    const codecs: ChunkCodecs = {
      ...inlineCodecs,
      transcode: (stored, plan, options) => {
        transcoded.push(plan.source.shape.join('x'));
        return inlineCodecs.transcode(stored, plan, options);
      },
    };
    // the same stages, the bit rounding without its description for a codec thread
    const described = stages;
    const undescribed = stages.map((stage) =>
      stage.key !== 'keepbits'
        ? stage
        : {
            ...stage,
            configure: (setting: Parameters<typeof stage.configure>[0]) => {
              const forArray = stage.configure(setting);
              return (array: Parameters<typeof forArray>[0]) => {
                const step = forArray(array);
                if (!step) return step;
                const { valueStep: _, ...rest } = step;
                return rest;
              };
            },
          },
    );
    const viewOf = (withStages: typeof stages, of = dataset) =>
      new ProcessedView({
        dataset: of,
        values: datasetValues(of, registry.sources, new DecodedChunkCache(1 << 20), codecs),
        stages: withStages,
        raw: new RawView(of, registry.sources),
        cache: new EncodedChunkCache(1 << 20),
        sources: registry.sources,
        codecs,
      });
    const bytesOf = async (view: ProcessedView): Promise<string[]> => {
      const grid = new ChunkGrid([12, 6, 8], [5, 4, 5]);
      const all: string[] = [];
      for (let index = 0; index < grid.size; index++) {
        const body = await view.chunk(`tas/${grid.suffixOf(index)}`);
        if (!body) throw new Error('no chunk');
        all.push(Buffer.from(await body.read(0, body.size)).toString('base64'));
      }
      return all;
    };
    const fused = await bytesOf(viewOf(described));
    // basic.tas: 12×6×8 in 5×4×5 chunks; chunks 0.0.0 and 1.0.0 are whole, the rest are cut by an edge
    expect(transcoded).toEqual(['12x6x8', '12x6x8']);
    transcoded.length = 0;
    const separate = await bytesOf(viewOf(undescribed));
    expect(transcoded).toEqual([]);
    expect(fused).toEqual(separate);
    // and the rounding did happen on the fused path
    const lossless: Dataset = { ...dataset, entry: { ...dataset.entry, processing: { compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1 } } } };
    const raw = await bytesOf(viewOf(stages, lossless));
    expect(fused[0]).not.toEqual(raw[0]);
  });
});
