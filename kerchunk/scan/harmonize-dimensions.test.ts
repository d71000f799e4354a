import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures } from '../../test/helpers/fixtures.js';
import type { JsonValue } from '../reference.js';
import { harmonizeDimensions } from './harmonize-dimensions.js';
import { scanFile } from './scan-file.js';

const zarray = (shape: number[]) => ({ shape, chunks: shape.map(() => 5), dtype: '<f4', zarr_format: 2 });

describe('harmonizeDimensions', () => {
  it('grows every array to the longest length along each dimension name, per group', () => {
    const metadata = new Map<string, JsonValue>([
      ['.zgroup', { zarr_format: 2 }],
      ['time/.zarray', zarray([12])],
      ['time/.zattrs', { _ARRAY_DIMENSIONS: ['time'] }],
      ['sparse/.zarray', zarray([8, 3])],
      ['sparse/.zattrs', { _ARRAY_DIMENSIONS: ['time', 'lat'] }],
      ['lat/.zarray', zarray([3])],
      ['lat/.zattrs', { _ARRAY_DIMENSIONS: ['lat'] }],
      ['g/x/.zarray', zarray([2])],
      ['g/x/.zattrs', { _ARRAY_DIMENSIONS: ['time'] }],
    ]);
    const result = harmonizeDimensions({ metadata, metadataText: new Map([['lat/.zarray', '{"shape": [3], "chunks": [5], "dtype": "<f4", "zarr_format": 2}']]) });
    expect(result.changes).toEqual([{ array: 'sparse', dimension: 'time', from: 8, to: 12 }]);
    expect((result.metadata.get('sparse/.zarray') as { shape: number[] }).shape).toEqual([12, 3]);
    expect(JSON.parse(result.metadataText.get('sparse/.zarray') ?? '{}').shape).toEqual([12, 3]);
    expect(result.metadataText.get('lat/.zarray')).toContain('"shape": [3]'); // unchanged text kept
    expect((result.metadata.get('g/x/.zarray') as { shape: number[] }).shape).toEqual([2]); // another group
    expect([...result.metadata.keys()]).toEqual([...metadata.keys()]);
    expect(metadata.get('sparse/.zarray')).toEqual(zarray([8, 3])); // input untouched
  });

  it('leaves arrays without _ARRAY_DIMENSIONS alone', () => {
    const metadata = new Map<string, JsonValue>([
      ['a/.zarray', zarray([4])],
      ['b/.zarray', zarray([9])],
    ]);
    expect(harmonizeDimensions({ metadata }).changes).toEqual([]);
  });
});

describe('harmonizeDimensions on the basic fixture', () => {
  let fixtures: Fixtures;
  beforeAll(async () => {
    fixtures = await makeFixtures();
  });

  it('grows "sparse" from 8 to the 12 steps of time', async () => {
    const scanned = await scanFile(join(fixtures.dir, 'data', 'basic.nc'));
    const before = scanned.metadata.get('sparse/.zarray') as { shape: number[] };
    expect(before.shape[0]).toBe(8);
    const result = harmonizeDimensions(scanned);
    expect(result.changes).toContainEqual({ array: 'sparse', dimension: 'time', from: 8, to: 12 });
    expect((result.metadata.get('sparse/.zarray') as { shape: number[] }).shape).toEqual([12, 6, 8]);
    expect((result.metadata.get('time/.zarray') as { shape: number[] }).shape).toEqual([12]);
  });
});
