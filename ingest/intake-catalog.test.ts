import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_INTAKE_LIMITS, IntakeCatalogError, readIntakeCatalog } from './intake-catalog.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-intake-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const ref = (fo: string) => `{driver: zarr, args: {urlpath: "reference://", storage_options: {fo: ${JSON.stringify(fo)}}}}`;

describe('readIntakeCatalog', () => {
  it('reads args-nested and flat entries, both driver spellings, relative and {{ CATALOG_DIR }} paths', async () => {
    const top = await file(
      'forms.yaml',
      [
        'sources:',
        `  nested: ${ref('refs/a.json')}`,
        '  flat: {driver: intake_xarray.xzarr.ZarrSource, urlpath: "reference://", storage_options: {fo: "{{CATALOG_DIR}}/b.parq"}, description: d, metadata: {title: T, n: [1, 2]}}',
        `  absolute: ${ref('/data/c.json')}`,
        `  url: ${ref('https://example.org/refs/d.json')}`,
        '  plain: {driver: zarr, args: {urlpath: "s3://bucket/store.zarr"}}',
      ].join('\n'),
    );
    const { datasets, skipped } = await readIntakeCatalog(top);
    expect(datasets).toEqual([
      { id: 'nested', table: join(dir, 'refs/a.json') },
      { id: 'flat', table: join(dir, 'b.parq'), title: 'T', description: 'd', metadata: { title: 'T', n: [1, 2] } },
      { id: 'absolute', table: '/data/c.json' },
      { id: 'url', table: 'https://example.org/refs/d.json' },
    ]);
    expect(skipped).toEqual([{ id: 'plain', reason: expect.stringMatching(/not a kerchunk reference set/), kind: 'ignored' }]);
  });

  it('__proto__ and other unusable names are skipped, never assigned to a prototype', async () => {
    const top = await file(
      'proto.yaml',
      `sources:\n  __proto__: ${ref('a.json')}\n  constructor: ${ref('b.json')}\n  "bad name": ${ref('c.json')}\n  ok: {driver: zarr, metadata: {__proto__: {polluted: true}}, args: {urlpath: "reference://", storage_options: {fo: d.json}}}\n`,
    );
    const { datasets, skipped } = await readIntakeCatalog(top);
    expect(skipped.map((s) => s.id)).toEqual(['__proto__', 'bad name']);
    expect(datasets.map((d) => d.id)).toEqual(['constructor', 'ok']);
    const metadata = datasets[1]?.metadata as Record<string, unknown>;
    expect(Object.hasOwn(metadata, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((metadata as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('joins names through nested catalogs; a cycle and too deep a nesting are skipped', async () => {
    await file('loop-a.yaml', `sources:\n  x: ${ref('x.json')}\n  b: {driver: intake.catalog.local.YAMLFileCatalog, args: {path: "{{ CATALOG_DIR }}/loop-b.yaml"}}\n`);
    await file('loop-b.yaml', `sources:\n  y: ${ref('y.json')}\n  a: {driver: yaml_file_cat, args: {path: loop-a.yaml}}\n`);
    const { datasets, skipped } = await readIntakeCatalog(join(dir, 'loop-a.yaml'));
    expect(datasets.map((d) => d.id)).toEqual(['x', 'b.y']);
    expect(skipped).toEqual([{ id: 'b.a', reason: expect.stringMatching(/includes itself/), kind: 'failed' }]);
    const deep = await readIntakeCatalog(join(dir, 'loop-a.yaml'), { ...DEFAULT_INTAKE_LIMITS, maxDepth: 1 });
    expect(deep.skipped).toEqual([{ id: 'b.a', reason: expect.stringMatching(/nested deeper than 1/), kind: 'failed' }]);
    const flat = await readIntakeCatalog(join(dir, 'loop-a.yaml'), { ...DEFAULT_INTAKE_LIMITS, maxDepth: 0 });
    expect(flat.skipped).toEqual([{ id: 'b', reason: expect.stringMatching(/nested deeper than 0/), kind: 'failed' }]);
  });

  it('a missing nested catalog is one skipped entry; a missing top catalog is an error', async () => {
    const top = await file('missing.yaml', 'sources:\n  gone: {driver: yaml_file_cat, args: {path: nowhere.yaml}}\n');
    expect((await readIntakeCatalog(top)).skipped).toEqual([{ id: 'gone', reason: expect.stringMatching(/no such file/), kind: 'failed' }]);
    await expect(readIntakeCatalog(join(dir, 'absent.yaml'))).rejects.toThrow(IntakeCatalogError);
  });

  it('refuses YAML alias bombs, oversized files and other templates', async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
      'sources: {}',
    ].join('\n');
    await expect(readIntakeCatalog(await file('bomb.yaml', bomb))).rejects.toThrow(/alias|YAML/i);
    const big = await file('big.yaml', `sources: {}\n#${'x'.repeat(2000)}\n`);
    await expect(readIntakeCatalog(big, { ...DEFAULT_INTAKE_LIMITS, read: { maxBytes: 1000, timeoutMs: 1000 } })).rejects.toThrow(/more than the 1000/);
    const templated = await file('templated.yaml', `sources:\n  t: ${ref('{{ env(HOME) }}/a.json')}\n  u: ${ref('{% if x %}a.json{% endif %}')}\n`);
    expect((await readIntakeCatalog(templated)).skipped.map((s) => [s.id, s.kind])).toEqual([
      ['t', 'failed'],
      ['u', 'failed'],
    ]);
  });

  it('stops at the entry limit and reports it', async () => {
    const many = await file('many.yaml', `sources:\n${Array.from({ length: 5 }, (_, i) => `  e${i}: ${ref(`${i}.json`)}`).join('\n')}\n`);
    const { datasets, skipped } = await readIntakeCatalog(many, { ...DEFAULT_INTAKE_LIMITS, maxEntries: 3 });
    expect(datasets).toHaveLength(3);
    expect(skipped).toEqual([{ id: 'e3', reason: expect.stringMatching(/more than 3 entries/), kind: 'failed' }]);
  });
});
