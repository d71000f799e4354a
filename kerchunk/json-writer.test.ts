import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openJsonReferences } from './json-references.js';
import { asciiJson, encodeInline, writeJsonReferences } from './json-writer.js';
import type { ChunkReference, JsonValue } from './reference.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-json-writer-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const bytes = (...values: number[]) => new Uint8Array(values);

describe('writeJsonReferences', () => {
  it('round-trips metadata, ranges, whole files and inline bytes through openJsonReferences', async () => {
    const metadata = new Map<string, JsonValue>([
      ['.zgroup', { zarr_format: 2 }],
      ['.zattrs', { title: 'x', valid_max: 150 }],
      ['v/.zarray', { shape: [4], chunks: [2], dtype: '<f4', compressor: null, filters: null, fill_value: null, order: 'C', zarr_format: 2 }],
      ['v/.zattrs', { _ARRAY_DIMENSIONS: ['t'] }],
    ]);
    const metadataText = new Map([['.zattrs', '{"title": "x", "valid_max": 150.0}']]);
    const chunks = new Map<string, ChunkReference>([
      ['v/0', { kind: 'range', url: '../data/a.nc', offset: 100, length: 8 }],
      ['v/1', { kind: 'whole', url: 'https://example.org/b' }],
      ['w/0', { kind: 'inline', data: bytes(0, 1, 2, 255) }],
      ['w/1', { kind: 'inline', data: new TextEncoder().encode('plain text') }],
      ['w/2', { kind: 'inline', data: new TextEncoder().encode('base64:looks encoded') }],
      ['w/3', { kind: 'inline', data: bytes() }],
    ]);
    const file = join(dir, 'refs.json');
    const summary = await writeJsonReferences(file, { metadata, metadataText, chunks });
    expect(summary.chunks).toBe(6);
    const document = JSON.parse(await readFile(file, 'utf8')) as { version: number; refs: Record<string, unknown> };
    expect(document.version).toBe(1);
    expect(document.refs['.zattrs']).toBe('{"title": "x", "valid_max": 150.0}');
    expect(document.refs['v/0']).toEqual(['../data/a.nc', 100, 8]);
    expect(document.refs['v/1']).toEqual(['https://example.org/b']);
    expect(document.refs['w/0']).toBe('base64:AAEC/w==');
    expect(document.refs['w/1']).toBe('plain text');

    const store = await openJsonReferences(file);
    expect([...store.metadata]).toEqual([...metadata]);
    expect(store.metadataText.get('.zattrs')).toBe('{"title": "x", "valid_max": 150.0}');
    for (const [key, reference] of chunks) expect(await store.chunk(key), key).toEqual(reference);
    await store.close();
    expect(await readdir(dir)).toEqual(['refs.json']);
  });

  it('ignores metadata text that no longer says the same as the document', async () => {
    const file = join(dir, 'refs.json');
    const metadata = new Map<string, JsonValue>([
      ['.zgroup', { zarr_format: 2 }],
      ['v/.zarray', { shape: [12] }],
    ]);
    await writeJsonReferences(file, { metadata, metadataText: new Map([['v/.zarray', '{"shape": [8]}']]), chunks: new Map() });
    const store = await openJsonReferences(file);
    expect(store.metadata.get('v/.zarray')).toEqual({ shape: [12] });
  });

  it('replaces an existing table atomically and leaves no temporary file on failure', async () => {
    const file = join(dir, 'refs.json');
    const metadata = new Map<string, JsonValue>([['.zgroup', { zarr_format: 2 }]]);
    await writeJsonReferences(file, { metadata, chunks: new Map() });
    const before = await readFile(file, 'utf8');
    await expect(writeJsonReferences(file, { metadata: new Map([['.zgroup', [1]]]), chunks: new Map() })).rejects.toThrow(/must be a JSON object/);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['refs.json']);
  });
});

describe('encodeInline', () => {
  it('keeps printable ASCII as text and base64-encodes control characters and non-ASCII', () => {
    expect(encodeInline(new TextEncoder().encode('{"a": 1}'))).toBe('{"a": 1}');
    expect(encodeInline(bytes(0x41, 0x0a))).toBe('base64:QQo=');
    expect(encodeInline(new TextEncoder().encode('é'))).toBe('base64:w6k=');
  });
});

describe('asciiJson', () => {
  it('escapes non-ASCII characters, keeping the document', () => {
    const text = '{"title": "Température ☃ 𝄞", "v": 150.0}';
    const escaped = asciiJson(text);
    expect(escaped).toMatch(/^[\x20-\x7e]*$/);
    expect(escaped).toContain('150.0');
    expect(JSON.parse(escaped)).toEqual(JSON.parse(text));
  });
});
