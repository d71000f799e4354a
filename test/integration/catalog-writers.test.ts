import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { ADMIN_TOKEN, adminFetch, makeAdminCatalog } from '../helpers/admin-fixture.js';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

const run = promisify(execFile);

/** A separate Node process adding `count` datasets with the built catalog store (what `strato ingest` does). */
function writerProcess(catalog: string, prefix: string, count: number): Promise<unknown> {
  const script = `
    const { addDataset } = await import(${JSON.stringify(`${repoRoot}dist/catalog/catalog-store.js`)});
    for (let i = 0; i < ${count}; i++) await addDataset(${JSON.stringify(catalog)}, { id: '${prefix}-' + i, refs: 'refs/good.json' });
  `;
  return run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
}

let dir: string;
let catalog: string;
let server: SpawnedServer;

beforeAll(async () => {
  ({ dir, catalog } = await makeAdminCatalog());
  server = await spawnServer(catalog, ['--log-level', 'warn'], { STRATO_ADMIN_TOKEN: ADMIN_TOKEN });
});
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('several processes writing one catalog', () => {
  it('loses no dataset when CLI-like processes and a server register at the same time', async () => {
    const perWriter = 15;
    const viaApi = async () => {
      const ids: string[] = [];
      for (let i = 0; i < perWriter; i++) {
        const id = `api-${i}`;
        const response = await adminFetch(`${server.url}/admin/datasets`, { method: 'POST', body: { id, refs: 'refs/good.json' } });
        expect(response.status).toBe(201);
        ids.push(id);
      }
      return ids;
    };
    await Promise.all([writerProcess(catalog, 'cli-a', perWriter), writerProcess(catalog, 'cli-b', perWriter), writerProcess(catalog, 'cli-c', perWriter), viaApi()]);
    const ids = new Set((await loadCatalog(catalog)).datasets.map((d) => d.id));
    const expected = ['existing', ...['cli-a', 'cli-b', 'cli-c', 'api'].flatMap((prefix) => Array.from({ length: perWriter }, (_, i) => `${prefix}-${i}`))];
    for (const id of expected) expect(ids.has(id), id).toBe(true);
    expect(ids.size).toBe(expected.length);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp') || name.includes('.lock'))).toEqual([]);
    // the server picked up the other processes' datasets from the file
    for (const id of ['cli-a-14', 'cli-b-14', 'cli-c-14']) {
      const started = Date.now();
      while ((await fetch(`${server.url}/datasets/${id}/kerchunk/.zmetadata`)).status !== 200) {
        if (Date.now() - started > 2000) throw new Error(`${id} not served`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });
});
