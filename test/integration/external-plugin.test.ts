import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * A plugin written outside this repository, as the README's Plugins section shows it: a package
 * of its own with strato and hono in its node_modules, type-checked against strato's published
 * types (`strato/plugin`, from dist/*.d.ts and the package's exports map), compiled, listed in a
 * catalog and served by the built CLI.
 */
const run = promisify(execFile);
let dir = '';
let server: SpawnedServer | undefined;

/** The first TypeScript block of the README's "Plugins" section. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Plugins\n'));
  const code = section && /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('README.md has no ```ts block in its "Plugins" section');
  return code;
}

// Compiled with the plugin: each line must be a type error, so the types are strato's, not `any`.
const MISUSES = `import type { StratoPlugin } from 'strato/plugin';
import { summaryPlugin } from './summary.js';

// @ts-expect-error a plugin has a version
export const unversioned: StratoPlugin = { name: 'x' };
// @ts-expect-error the name is a string
export const named: number = summaryPlugin.name;
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-external-plugin-'));
  const modules = join(dir, 'node_modules');
  await mkdir(join(modules, '@types'), { recursive: true });
  await mkdir(join(dir, 'src'));
  await symlink(repoRoot, join(modules, 'strato'), 'dir');
  await symlink(join(repoRoot, 'node_modules', 'hono'), join(modules, 'hono'), 'dir');
  await symlink(join(repoRoot, 'node_modules', '@types', 'node'), join(modules, '@types', 'node'), 'dir');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'strato-summary-plugin', version: '0.1.0', private: true, type: 'module' }));
  const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, rootDir: 'src', outDir: 'dist', skipLibCheck: false };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
  await writeFile(join(dir, 'src', 'summary.ts'), await readmeExample());
  await writeFile(join(dir, 'src', 'misuses.ts'), MISUSES);
  await cp(join(repoRoot, 'demo'), join(dir, 'demo'), { recursive: true });
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a plugin outside the repository', () => {
  it("type-checks against strato's published types and compiles", async () => {
    let output = '';
    let code = 0;
    try {
      output = (await run(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', dir], { cwd: dir })).stdout;
    } catch (error) {
      const failed = error as { code?: number; stdout?: string };
      code = failed.code ?? 1;
      output = failed.stdout ?? String(error);
    }
    expect(output, 'tsc output').toBe('');
    expect(code).toBe(0);
  });

  it('is loaded from the catalog and serves its route', async () => {
    const catalog = join(dir, 'demo', 'catalog.yaml');
    await writeFile(catalog, `${await readFile(catalog, 'utf8')}\nplugins: [${JSON.stringify(join(dir, 'dist', 'summary.js'))}]\n`);
    server = await spawnServer(catalog, ['--log-level', 'warn']);
    const response = await fetch(`${server.url}/datasets/tas-daily/summary`);
    expect(response.status).toBe(200);
    const summary = (await response.json()) as { id: string; first: number };
    expect(summary.id).toBe('tas-daily');
    expect(summary.first).toBeGreaterThan(150); // K
    expect(Object.keys((await (await fetch(`${server.url}/plugins`)).json()) as object)).toContain('summary');
  });
});
