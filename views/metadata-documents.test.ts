import { describe, expect, it } from 'vitest';
import type { ServedBody } from '../server/http/served-body.js';
import { asciiJson, LazyMetadataDocuments, MetadataDocumentCache, objectMembers, renderMetadata, withAttributes } from './metadata-documents.js';

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

const ARRAY = JSON.stringify({ zarr_format: 2, shape: [2], chunks: [2], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C' });

/** v2 texts of a view with `arrays` arrays; `extra` adds keys a table may hold as metadata. */
function viewTexts(arrays: number, extra: Record<string, string> = {}): Map<string, string> {
  const texts = new Map<string, string>([
    ['.zgroup', '{"zarr_format": 2}'],
    ['.zattrs', '{"title": "Zürich"}'],
  ]);
  for (let i = 0; i < arrays; i++) {
    texts.set(`a${i}/.zarray`, ARRAY);
    texts.set(`a${i}/.zattrs`, `{"_ARRAY_DIMENSIONS": ["t"], "units": "°C", "i": ${i}}`);
  }
  for (const [key, text] of Object.entries(extra)) texts.set(key, text);
  return texts;
}

async function bytesOf(body: ServedBody | undefined): Promise<string> {
  if (!body) return '(none)';
  return Buffer.from(await body.read(0, body.size)).toString('hex');
}

/** Every document of `documents` as key → [bytes, ETag, type, cache control], as served. */
async function served(get: (key: string) => ServedBody | undefined, keys: Iterable<string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const key of keys) {
    const body = get(key);
    out.set(key, body ? [await bytesOf(body), body.etag, body.contentType, body.cacheControl, String(body.size)] : ['(none)']);
  }
  return out;
}

describe('lazy metadata documents', () => {
  it('serve the bytes and ETags renderMetadata does, rendered only when a document is asked for', async () => {
    const given = viewTexts(3);
    const eager = renderMetadata(given);
    let renderings = 0;
    const lazy = new LazyMetadataDocuments(given, () => (renderings++, given), new MetadataDocumentCache());
    // chunk keys, missing documents and hostile names render nothing
    for (const key of ['a0/0', 'a0/c/0', '__proto__', 'constructor/.zarray', 'x/zarr.jsonx', '']) {
      if (!key.endsWith('.zarray')) expect(lazy.get(key)).toBeUndefined();
    }
    expect(renderings).toBe(0);
    expect(await served((key) => lazy.get(key), [...eager.keys(), 'nope/.zarray', 'nope/zarr.json'])).toEqual(
      await served((key) => eager.get(key), [...eager.keys(), 'nope/.zarray', 'nope/zarr.json']),
    );
    expect(renderings).toBe(1);
  });

  it('render again, identically, after the shared cache dropped them; a view too big for it keeps its own', async () => {
    const cache = new MetadataDocumentCache(6000);
    let renderings = 0;
    const views = Array.from({ length: 8 }, (_, i) => {
      const texts = viewTexts(1, { [`a0/.zattrs`]: `{"_ARRAY_DIMENSIONS": ["t"], "view": ${i}}` });
      return { texts, lazy: new LazyMetadataDocuments(texts, () => (renderings++, texts), cache) };
    });
    const all = async () => {
      const out: Array<Map<string, string[]>> = [];
      for (const { lazy, texts } of views) out.push(await served((key) => lazy.get(key), renderMetadata(texts).keys()));
      return out;
    };
    const first = await all();
    expect(cache.bytes).toBeLessThanOrEqual(6000);
    expect(renderings).toBe(8);
    // the earliest were dropped: asking again renders them again, to the same bytes and ETags
    const again = await all();
    expect(again).toEqual(first);
    expect(first.map((documents) => documents.get('a0/.zattrs')?.[1])).toEqual(views.map(({ texts }) => renderMetadata(texts).get('a0/.zattrs')?.etag));
    expect(renderings).toBeGreaterThan(8);
    expect(cache.bytes).toBeLessThanOrEqual(6000);

    const big = viewTexts(200);
    let bigRenderings = 0;
    const huge = new LazyMetadataDocuments(big, () => (bigRenderings++, big), cache);
    expect(await bytesOf(huge.get('.zmetadata'))).toBe(await bytesOf(renderMetadata(big).get('.zmetadata')));
    huge.get('a199/zarr.json');
    expect(bigRenderings).toBe(1);
  });

  it('answer keys a table holds under other names, as renderMetadata does', async () => {
    const given = viewTexts(1, { 'odd-key': '{"x": 1}' });
    const lazy = new LazyMetadataDocuments(given, () => given);
    expect(await bytesOf(lazy.get('odd-key'))).toBe(await bytesOf(renderMetadata(given).get('odd-key')));
  });
});
