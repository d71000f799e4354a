import { describe, expect, it } from 'vitest';
import { asciiJson, renderMetadata } from './metadata-documents.js';

describe('served metadata documents', () => {
  it('escape non-ASCII characters, keeping the document and number forms', async () => {
    const text = '{"units": "°C", "title": "Zürich 😀", "valid_range": [150.0, 350.0]}';
    const escaped = asciiJson(text);
    expect(/^[\x00-\x7f]*$/.test(escaped)).toBe(true);
    expect(JSON.parse(escaped)).toEqual(JSON.parse(text));
    expect(escaped).toContain('[150.0, 350.0]');
  });

  it('are all ASCII, v2 and v3 alike', async () => {
    const texts = new Map([
      ['.zgroup', '{"zarr_format": 2}'],
      ['.zattrs', '{"history": "créé"}'],
      ['t/.zarray', JSON.stringify({ zarr_format: 2, shape: [2], chunks: [2], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' })],
      ['t/.zattrs', '{"_ARRAY_DIMENSIONS": ["t"], "units": "°C"}'],
    ]);
    for (const [key, body] of renderMetadata(texts)) {
      const bytes = await body.read(0, body.size);
      expect(
        bytes.every((b) => b < 0x80),
        key,
      ).toBe(true);
      expect(() => JSON.parse(new TextDecoder().decode(bytes)), key).not.toThrow();
    }
    const v3 = renderMetadata(texts).get('t/zarr.json');
    const document = JSON.parse(new TextDecoder().decode(await v3!.read(0, v3!.size))) as { attributes: { units: string } };
    expect(document.attributes.units).toBe('°C');
  });
});
