import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The bytes of source file `name`: 64 bytes, distinct per name, so a mix-up shows. */
export function sourceBytes(name: string): Uint8Array {
  const seed = [...name].reduce((sum, ch) => sum + ch.charCodeAt(0), 0);
  return Uint8Array.from({ length: 64 }, (_, i) => (seed + i * 7) % 256);
}

const zarray = JSON.stringify({ zarr_format: 2, shape: [64], chunks: [16], dtype: '<u1', compressor: null, filters: null, fill_value: 0, order: 'C' });

/**
 * A catalog directory whose datasets each read one source file: `data/<name>.bin` (64 bytes),
 * `refs/<name>.json` with array `v` in four chunks of 16 bytes pointing into it, and for each
 * `urls` entry a dataset `<id>` whose chunks point at that URL instead (http sources).
 */
export async function makeSourceCatalog(names: readonly string[], urls: Readonly<Record<string, string>> = {}, extra = ''): Promise<{ dir: string; catalog: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-faults-'));
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'refs'));
  const table = (url: string) =>
    JSON.stringify({
      '.zattrs': '{}',
      'v/.zarray': zarray,
      'v/.zattrs': JSON.stringify({ _ARRAY_DIMENSIONS: ['x'] }),
      ...Object.fromEntries([0, 1, 2, 3].map((i) => [`v/${i}`, [url, i * 16, 16]])),
    });
  const entries: string[] = [];
  for (const name of names) {
    await writeFile(join(dir, 'data', `${name}.bin`), sourceBytes(name));
    await writeFile(join(dir, 'refs', `${name}.json`), table(`../data/${name}.bin`));
    entries.push(`  ${name}: {refs: refs/${name}.json}`);
  }
  const allow = ['data/'];
  for (const [id, url] of Object.entries(urls)) {
    await writeFile(join(dir, 'refs', `${id}.json`), table(url));
    entries.push(`  ${id}: {refs: refs/${id}.json}`);
    allow.push(new URL('/', url).href);
  }
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, `datasets:\n${entries.join('\n')}\nsources:\n  allow: [${allow.map((a) => JSON.stringify(a)).join(', ')}]\n${extra}`);
  return { dir, catalog };
}

/** GET with a deadline: a hang fails the test instead of stalling it. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Uint8Array }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(20_000) });
  return { status: response.status, headers: response.headers, body: new Uint8Array(await response.arrayBuffer()) };
}
