import { describe, expect, it } from 'vitest';
import { provFormat, renderProv } from './negotiate.js';
import { ProvBuilder, qname } from './prov-model.js';

describe('provFormat', () => {
  it('?format wins; unknown or prototype names are refused', () => {
    expect(provFormat('provn', 'application/json')).toBe('provn');
    expect(provFormat('TTL', undefined)).toBe('turtle');
    expect(provFormat('__proto__', undefined)).toBeUndefined();
    expect(provFormat('constructor', undefined)).toBeUndefined();
  });
  it('Accept: the most preferred type strato writes, JSON by default, undefined when nothing fits', () => {
    expect(provFormat(undefined, undefined)).toBe('json');
    expect(provFormat(undefined, 'text/turtle;q=0.5, text/provenance-notation')).toBe('provn');
    expect(provFormat(undefined, 'image/png, */*;q=0.1')).toBe('json');
    expect(provFormat(undefined, 'image/png')).toBeUndefined();
    expect(provFormat(undefined, 'text/turtle;q=0, application/json;q=abc')).toBeUndefined();
  });
});

describe('PROV serializations', () => {
  const builder = new ProvBuilder().prefix('ds', 'http://x/datasets/a/provenance#');
  builder.entity('ds:src', [
    ['prov:label', 'a "quoted" \\ path\n'],
    ['strato:size', 12],
  ]);
  builder.activity('ds:act', [['prov:type', qname('strato:Thing')]]);
  builder.relate({ kind: 'used', activity: 'ds:act', entity: 'ds:src' });
  const document = builder.build();

  it('identifiers must be prefix:local with a known prefix and a plain local name', () => {
    expect(() => new ProvBuilder().entity('nope:x')).toThrow();
    expect(() => new ProvBuilder().prefix('ds', 'u').entity('ds:a/b')).toThrow();
    expect(() => new ProvBuilder().prefix('ds', 'u').entity('ds:__proto__')).toThrow();
    expect(() => new ProvBuilder().prefix('__proto__', 'u')).toThrow();
  });
  it('PROV-JSON, PROV-N and Turtle escape literals', () => {
    const json = JSON.parse(renderProv(document, 'json').body);
    expect(json.entity['ds:src']['strato:size']).toEqual({ $: '12', type: 'xsd:long' });
    expect(json.used['_:r1']).toEqual({ 'prov:activity': 'ds:act', 'prov:entity': 'ds:src' });
    expect(renderProv(document, 'provn').body).toContain('prov:label="a \\"quoted\\" \\\\ path\\n"');
    expect(renderProv(document, 'turtle').body).toContain('ds:act\n  a prov:Activity ;\n  a strato:Thing ;\n  prov:used ds:src .');
  });
});
