import { describe, expect, it } from 'vitest';
import { asciiJson, objectMembers, renderMetadata, withAttributes } from './metadata-documents.js';

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

describe('withAttributes', () => {
  it('adds members and replaces same-named ones, keeping the others as written', () => {
    const text = '{"_ARRAY_DIMENSIONS": ["t"], "valid_range": [150.0, 350.0], "note": "a \\"}\\" {[,", "_QuantizeBitRoundNumberOfSignificantBits": 12}';
    const out = withAttributes(text, { _QuantizeBitRoundNumberOfSignificantBits: 10 });
    expect(out).toContain('"valid_range": [150.0, 350.0]');
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), _QuantizeBitRoundNumberOfSignificantBits: 10 });
    expect(out.match(/_Quantize/g)).toHaveLength(1);
  });

  it('keeps hostile names as plain members, never prototypes', () => {
    const out = withAttributes('{"__proto__": {"x": 1}, "constructor": 2}', { __proto__: 3 } as unknown as Record<string, number>);
    expect(Object.keys(JSON.parse(out))).toEqual(['__proto__', 'constructor']);
    const set = JSON.parse('{"__proto__": 4}') as Record<string, number>;
    const replaced = JSON.parse(withAttributes('{"__proto__": {"x": 1}, "a": 1}', set)) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(replaced, '__proto__')?.value).toBe(4);
    expect(replaced.a).toBe(1);
  });

  it('answers a text that is not an object with the added members alone, and empty objects', () => {
    expect(JSON.parse(withAttributes('[1, 2]', { a: 1 }))).toEqual({ a: 1 });
    expect(JSON.parse(withAttributes('{"a": ', { b: 1 }))).toEqual({ b: 1 });
    expect(JSON.parse(withAttributes(' { } ', { b: 'x' }))).toEqual({ b: 'x' });
    expect(withAttributes('{"a": 1}', {})).toBe('{"a": 1}');
  });

  it('splits members of nested and escaped values', () => {
    expect(objectMembers('{"a": {"b": [1, {"c": "]}"}]}, "d\\u0041": -1.50e3 }')).toEqual([
      { name: 'a', text: '"a": {"b": [1, {"c": "]}"}]}' },
      { name: 'dA', text: '"d\\u0041": -1.50e3' },
    ]);
    expect(objectMembers('"x"')).toBeUndefined();
  });
});
