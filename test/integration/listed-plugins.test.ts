import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

/** A third-party plugin listed under `plugins:` in the catalog is loaded and serves its routes. */
const dirs: string[] = [];
const servers: SpawnedServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function demoCopy(extra: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-plugins-'));
  dirs.push(dir);
  await cp(join(repoRoot, 'demo'), dir, { recursive: true });
  const catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, `${await readFile(catalog, 'utf8')}\n${extra}\n`);
  return catalog;
}

describe('plugins listed in the catalog', () => {
  it('loads the module and mounts its routes, listed in /plugins', async () => {
    // an absolute path: the module resolves its own imports (hono) from where it lives
    const server = await spawnServer(await demoCopy(`plugins: [${JSON.stringify(join(repoRoot, 'test', 'fixtures', 'plugins', 'summary-plugin.mjs'))}]`));
    servers.push(server);
    const summary = (await (await fetch(`${server.url}/datasets/tas-daily/summary`)).json()) as { arrays: number; firstTas: number };
    expect(summary.arrays).toBeGreaterThan(2);
    expect(summary.firstTas).toBeGreaterThan(150);
    expect(Object.keys((await (await fetch(`${server.url}/plugins`)).json()) as object)).toContain('summary');
  });

  it('refuses to start, with a clear message, when a listed module is missing', async () => {
    await expect(spawnServer(await demoCopy('plugins: [./nowhere.mjs]'))).rejects.toThrow(/cannot load plugin module "\.\/nowhere\.mjs"/);
  });
});
