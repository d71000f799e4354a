import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

const run = promisify(execFile);

/** Worker processes of a primary (pgrep -P). */
async function children(pid: number): Promise<number[]> {
  try {
    const { stdout } = await run('pgrep', ['-P', String(pid)]);
    return stdout.trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function until(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** `strato serve --workers N`: N processes share the port; a dead worker is replaced; SIGTERM stops all. */
let server: SpawnedServer | undefined;
afterAll(async () => server?.stop());

describe('strato serve --workers', () => {
  it('serves from two workers, replaces a killed one, and stops them all on SIGTERM', async () => {
    server = await spawnServer(join(repoRoot, 'demo', 'catalog.yaml'), ['--workers', '2', '--log-level', 'warn']);
    const primary = server.process.pid as number;
    expect(await until(async () => (await children(primary)).length === 2, 10_000)).toBe(true);
    for (let i = 0; i < 20; i++) expect((await fetch(`${server.url}/datasets/tas-daily/kerchunk/.zmetadata`)).status).toBe(200);

    const [victim] = await children(primary);
    process.kill(victim as number, 'SIGKILL');
    expect(
      await until(async () => {
        const now = await children(primary);
        return now.length === 2 && !now.includes(victim as number);
      }, 10_000),
    ).toBe(true);
    expect(await until(async () => (await fetch(`${server!.url}/health`).catch(() => undefined))?.status === 200, 5_000)).toBe(true);

    const workers = await children(primary);
    await server.stop();
    server = undefined;
    expect(
      await until(
        async () =>
          (
            await Promise.all(
              workers.map((pid) =>
                run('kill', ['-0', String(pid)]).then(
                  () => true,
                  () => false,
                ),
              ),
            )
          ).every((alive) => !alive),
        10_000,
      ),
    ).toBe(true);
  });
});
