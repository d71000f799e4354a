import { describe, expect, it } from 'vitest';
import { BITROUND_ATTRIBUTE, describeKeepbits, keepbitsFromZmetadata } from './lossy.js';

describe('keepbitsFromZmetadata', () => {
  it('reads the bits of every array whose .zattrs carry the BitRound attribute, sorted by name', () => {
    const zmetadata = {
      zarr_consolidated_format: 1,
      metadata: {
        '.zattrs': { [BITROUND_ATTRIBUTE]: 3 },
        'tas/.zattrs': { [BITROUND_ATTRIBUTE]: 10, units: 'K' },
        'pr/.zattrs': { units: 'kg m-2 s-1' },
        'a/.zattrs': { [BITROUND_ATTRIBUTE]: 7 },
        'bad/.zattrs': { [BITROUND_ATTRIBUTE]: '10' },
        'half/.zattrs': { [BITROUND_ATTRIBUTE]: 2.5 },
        'tas/.zarray': { [BITROUND_ATTRIBUTE]: 1 },
      },
    };
    expect([...keepbitsFromZmetadata(zmetadata)]).toEqual([
      ['a', 7],
      ['tas', 10],
    ]);
  });

  it('hostile or missing metadata: an empty map, prototype names as ordinary names', () => {
    for (const value of [undefined, null, 7, 'x', [], {}, { metadata: [] }, { metadata: null }]) expect(keepbitsFromZmetadata(value).size).toBe(0);
    const zmetadata = JSON.parse(
      `{"metadata": {"__proto__/.zattrs": {"${BITROUND_ATTRIBUTE}": 4}, "constructor/.zattrs": {"__proto__": {"${BITROUND_ATTRIBUTE}": 9}}}}`,
    ) as unknown;
    expect([...keepbitsFromZmetadata(zmetadata)]).toEqual([['__proto__', 4]]);
  });
});

describe('describeKeepbits', () => {
  it('names each rounded variable and its bits, and where the original values are', () => {
    const text = describeKeepbits(
      new Map([
        ['tas', 10],
        ['x', 1],
      ]),
    );
    expect(text).toContain('Lossy: bit-rounded');
    expect(text).toContain('tas to 10 mantissa bits, x to 1 mantissa bit;');
    expect(text).toContain(BITROUND_ATTRIBUTE);
    expect(text).toContain('"kerchunk"');
    expect(describeKeepbits(new Map())).toMatch(/^Lossless/);
  });
});
