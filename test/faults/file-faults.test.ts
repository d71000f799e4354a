import { execFileSync } from 'node:child_process';
import { mkdir, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';
import { get, makeSourceCatalog, sourceBytes } from './source-files.js';

/**
 * Real files changed under a running server: the source of one dataset removed, truncated,
 * replaced by a directory or by a FIFO (which blocks a plain open(2) forever). Each fault gives
 * a 5xx of the intended kind within a deadline, never a hang or a crash; the other dataset keeps
 * serving all along; and once the file is restored its dataset serves the right bytes again.
 */
let dir: string;
let server: SpawnedServer;
const faults: Array<{ fault: string; status: number; ms: number }> = [];

beforeAll(async () => {
  ({ dir } = await makeSourceCatalog(['victim', 'bystander']));
  server = await spawnServer(join(dir, 'catalog.yaml'), ['--log-level', 'error']);
});
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  console.log(`file faults: ${JSON.stringify(faults)}`);
});

const victimFile = () => join(dir, 'data', 'victim.bin');
const chunk = (id: string, i: number) => get(`${server.url}/datasets/${id}/kerchunk/v/${i}`);

async function expectServes(id: string): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const response = await chunk(id, i);
    expect(response.status, `${id} v/${i}`).toBe(200);
    expect(Buffer.from(response.body).equals(Buffer.from(sourceBytes(id).subarray(i * 16, i * 16 + 16))), `${id} v/${i} bytes`).toBe(true);
  }
}

/** Applies a fault, then reads the victim's chunks until the fault shows (the pool re-checks a file within 1 s). */
async function underFault(name: string, apply: () => Promise<void>, expected: readonly number[], restore: () => Promise<void>): Promise<void> {
  await expectServes('victim');
  await apply();
  const started = Date.now();
  let status = 200;
  for (let attempt = 0; attempt < 40 && status === 200; attempt++) {
    status = (await chunk('victim', 3)).status;
    if (status === 200) await sleep(100);
  }
  faults.push({ fault: name, status, ms: Date.now() - started });
  expect(expected, `${name}: answered ${status}`).toContain(status);
  const answer = await chunk('victim', 3);
  expect(answer.headers.get('content-type')).toMatch(/problem\+json/);
  expect(answer.headers.get('access-control-allow-origin')).toBe('*');
  await expectServes('bystander');
  expect((await get(`${server.url}/health`)).status).toBe(200);
  await restore();
  let restored = 0;
  for (let attempt = 0; attempt < 40 && restored !== 200; attempt++) {
    restored = (await chunk('victim', 3)).status;
    if (restored !== 200) await sleep(100);
  }
  await expectServes('victim');
  expect(server.process.exitCode).toBeNull();
}

const writeBack = () => writeFile(victimFile(), sourceBytes('victim'));

describe('source files changed under the server', { timeout: 120_000 }, () => {
  it('removed: 502, restored: served again', async () => {
    await underFault('removed', () => rm(victimFile()), [502], writeBack);
  });

  it('truncated in place: 502 (short read), restored', async () => {
    await underFault('truncated', () => truncate(victimFile(), 20), [502], writeBack);
  });

  it('replaced by a directory: 502, restored', async () => {
    await underFault(
      'directory',
      async () => {
        await rm(victimFile());
        await mkdir(victimFile());
      },
      [502],
      async () => {
        await rm(victimFile(), { recursive: true });
        await writeBack();
      },
    );
  });

  it('replaced by a FIFO nobody writes to: 502, not a hang', async () => {
    await underFault(
      'fifo',
      async () => {
        await rm(victimFile());
        execFileSync('mkfifo', [victimFile()]);
      },
      [502],
      async () => {
        await rm(victimFile());
        await writeBack();
      },
    );
  });

  it('replaced atomically by other bytes: the new bytes, never a mix', async () => {
    await expectServes('victim');
    const other = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
    await writeFile(`${victimFile()}.new`, other);
    await rename(`${victimFile()}.new`, victimFile());
    await sleep(1100); // the pool re-checks a file it has open after 1 s
    const response = await chunk('victim', 1);
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body).equals(Buffer.from(other.subarray(16, 32)))).toBe(true);
    await writeBack();
    await sleep(1100);
    await expectServes('victim');
    await expectServes('bystander');
  });
});
