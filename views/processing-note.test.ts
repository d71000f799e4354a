import { describe, expect, it } from 'vitest';
import type { ZarrArrayMetadata } from '../kerchunk/zarr-metadata.js';
import { processingNote, withHistory } from './processed-view.js';

const meta = (chunks: number[], compressor: ZarrArrayMetadata['compressor']): ZarrArrayMetadata => ({
  zarr_format: 2,
  shape: [730, 37],
  chunks,
  dtype: '<f4',
  compressor,
  filters: null,
  fill_value: null,
  order: 'C',
});

describe('processingNote', () => {
  it('names every stage effect, deterministically, and nothing when nothing changed', () => {
    const source = new Map([
      ['__proto__', meta([365, 37], { id: 'zlib', level: 4 })],
      ['lat', meta([730, 37], null)],
    ]);
    const arrays = [
      { name: '__proto__', meta: meta([30, 37], { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 2 }), attributes: { _QuantizeBitRoundNumberOfSignificantBits: 10 } },
      { name: 'lat', meta: meta([730, 37], null), attributes: {} },
    ];
    const note = processingNote(arrays, [{ name: '__proto__', dims: ['time', 'lat'] }], '1.2.3', (name) => source.get(name));
    expect(note).toBe(
      'strato 1.2.3 processed view: __proto__ bit-rounded to 10 mantissa bits (BitRound); __proto__ rechunked to time: 30, lat: 37; __proto__ re-compressed with blosc lz4',
    );
    expect(processingNote([arrays[1] as (typeof arrays)[number]], [], '1', (name) => source.get(name))).toBeUndefined();
  });
});

describe('withHistory', () => {
  it('puts the note first, keeps the other attributes as written', () => {
    const text = withHistory('{"title": "t", "scale": 150.0, "history": "2020: made"}', 'strato: note');
    expect(text).toContain('"scale": 150.0');
    expect(JSON.parse(text).history).toBe('strato: note\n2020: made');
  });
  it('starts a history, and keeps a non-string one as text', () => {
    expect(JSON.parse(withHistory('{}', 'n')).history).toBe('n');
    expect(JSON.parse(withHistory('{"history": ["a", "b"]}', 'n')).history).toBe('n\n["a","b"]');
    expect(JSON.parse(withHistory('not json', 'n')).history).toBe('n');
  });
});
