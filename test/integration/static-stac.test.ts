import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { DatasetRegistry } from '../../catalog/registry.js';
import { generateStaticStac } from '../../static-stac/generate.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { CLI_PATH, repoRoot } from '../helpers/server.js';
import { StacValidator } from '../helpers/stac-validator.js';

const run = promisify(execFile);

interface Link {
  rel: string;
  href: string;
}
interface Document {
  type: string;
  id: string;
  links: Link[];
  assets?: Record<string, { href: string }>;
}

let fixtures: Fixtures;
let out: string;
const validator = new StacValidator();
const BASE = 'https://strato.example.org/data';

beforeAll(async () => {
  fixtures = await makeFixtures();
  out = await mkdtemp(join(tmpdir(), 'strato-static-stac-'));
});
afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
  console.log(`STAC documents validated against the offline schemas (static-stac.test): ${validator.count}`);
});

/** Walks the tree from a root file along relative links; returns every document reached, validated. */
async function walk(root: string): Promise<Map<string, Document>> {
  const seen = new Map<string, Document>();
  const queue = [root];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    const document = JSON.parse(await readFile(file, 'utf8')) as Document;
    seen.set(file, document);
    expect(validator.validate(document), file).toEqual([]);
    expect(
      document.links.some((l) => l.rel === 'self'),
      `${file} has no self link`,
    ).toBe(false);
    for (const link of document.links) {
      if (/^[a-z]+:\/\//.test(link.href)) {
        expect(link.href.startsWith(BASE), link.href).toBe(true);
        continue;
      }
      const target = resolve(dirname(file), link.href);
      expect(existsSync(target), `${file}: ${link.rel} → ${link.href}`).toBe(true);
      if (['child', 'item', 'root', 'parent', 'collection'].includes(link.rel)) queue.push(target);
    }
  }
  return seen;
}

describe('static STAC', () => {
  it('writes a self-contained tree of valid documents with relative links', async () => {
    const registry = await DatasetRegistry.open(await loadCatalog(fixtures.catalog));
    try {
      const result = await generateStaticStac(registry, out, { baseUrl: `${BASE}/` });
      expect(result.items).toBe(8);
      expect(result.collections).toBe(1);
      expect(result.problems).toEqual([]);
    } finally {
      await registry.close();
    }
    const documents = await walk(join(out, 'catalog.json'));
    const items = [...documents.values()].filter((d) => d.type === 'Feature');
    expect(items.map((i) => i.id).sort()).toEqual(fixtures.datasets.map((d) => d.id).sort());
    for (const item of items) {
      expect(item.assets?.kerchunk?.href).toBe(`${BASE}/datasets/${item.id}/kerchunk`);
      expect(item.assets?.zarr?.href).toBe(`${BASE}/datasets/${item.id}/zarr`);
      expect(item.assets?.intake?.href).toBe(`${BASE}/datasets/${item.id}/catalog.yaml`);
    }
  });

  it('mixed root links the static collections and the live API', async () => {
    const mixed = JSON.parse(await readFile(join(out, 'mixed.json'), 'utf8')) as Document;
    expect(validator.validate(mixed)).toEqual([]);
    const children = mixed.links.filter((l) => l.rel === 'child').map((l) => l.href);
    expect(children).toEqual(['./strato/collection.json', `${BASE}/stac`]);
  });

  it('`strato stac` writes the same tree from the command line', async () => {
    const cli = CLI_PATH;
    if (!existsSync(cli)) throw new Error('build the CLI first (npm run build)');
    const dir = await mkdtemp(join(tmpdir(), 'strato-static-cli-'));
    try {
      const { stdout } = await run(process.execPath, [cli, 'stac', '--catalog', join(repoRoot, 'demo/catalog.yaml'), '--out', dir, '--base-url', BASE]);
      expect(stdout).toMatch(/2 items in 1 collections/);
      const documents = await walk(join(dir, 'catalog.json'));
      const item = [...documents.values()].find((d) => d.id === 'tas-daily') as Document & { properties: Record<string, unknown>; bbox: number[] };
      expect(item.properties.start_datetime).toMatch(/^2001-01-01/);
      expect(item.properties.end_datetime).toMatch(/^2002-12-31/);
      expect(item.properties.keywords).toContain('air temperature');
      expect(item.bbox[1]).toBeGreaterThanOrEqual(-90);
      const help = await run(process.execPath, [cli, '--help']);
      expect(help.stdout).toContain('strato stac');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
