import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFilePath } from '../../kerchunk/parquet-references.js';
import { ADMIN_TOKEN, adminFetch, makeAdminCatalog, zarray } from '../helpers/admin-fixture.js';
import { underAttack } from '../helpers/hostile.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * Hostile parquet reference sets sent to a real server (CLI_PATH, dist/cli/cli.js; build first).
 * F10 of issue #13: a set declaring 10^12 records of one chunk each (shape 1e12, record_size 1)
 * kept the admin registration counting records at 100% CPU forever.
 */

/** A sparse set in `dir`: `v` of shape 1e12 in chunks of 1, record_size 1, the given records on disk. */
async function sparseSet(dir: string, records: ReadonlyMap<number, string>): Promise<void> {
  await mkdir(join(dir, 'v'), { recursive: true });
  const metadata = { '.zgroup': { zarr_format: 2 }, 'v/.zarray': JSON.parse(zarray([1e12], [1])), 'v/.zattrs': { _ARRAY_DIMENSIONS: ['x'] } };
  await writeFile(join(dir, '.zmetadata'), JSON.stringify({ metadata, record_size: 1, zarr_consolidated_format: 1 }));
  for (const [record, path] of records) {
    const columnData = [
      { name: 'path', data: [path], type: 'STRING' as const },
      { name: 'offset', data: [BigInt(record % 200)], type: 'INT64' as const },
      { name: 'size', data: [4n], type: 'INT64' as const },
    ];
    await writeFile(recordFilePath(dir, 'v', record), new Uint8Array(parquetWriteBuffer({ columnData })));
  }
}

describe('F10: admin registration of a sparse parquet set of 10^12 records (spawned server)', () => {
  let dir: string;
  let server: SpawnedServer;

  beforeAll(async () => {
    const made = await makeAdminCatalog();
    dir = made.dir;
    // Relative paths in a parquet set resolve against the set's own directory (refs/<set>.parq).
    await sparseSet(
      join(dir, 'refs', 'sparse.parq'),
      new Map([
        [0, '../../data/bytes.bin'],
        [999_999_999_999, '../../data/bytes.bin'],
      ]),
    );
    await sparseSet(
      join(dir, 'refs', 'sparse-escape.parq'),
      new Map([
        [0, '../../data/bytes.bin'],
        [123_456_789_012, '../../outside/secret.bin'],
      ]),
    );
    server = await spawnServer(made.catalog, ['--log-level', 'warn'], { STRATO_ADMIN_TOKEN: ADMIN_TOKEN });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registers the set within a few seconds while /health keeps answering, and serves its far chunk', async () => {
    const pid = server.process.pid;
    const report = await underAttack(
      server.url,
      async () => {
        const response = await adminFetch(`${server.url}/admin/datasets`, { method: 'POST', body: { id: 'sparse', refs: 'refs/sparse.parq' } });
        return { status: response.status, text: await response.text() };
      },
      pid === undefined ? {} : { pid },
    );
    console.log(
      `sparse 1e12-record registration: ${report.result.status} in ${report.elapsedMs.toFixed(0)} ms, worst /health ${report.worstHealthMs.toFixed(0)} ms, RSS +${report.rssGrowthMiB.toFixed(1)} MiB`,
    );
    expect(report.result.status, report.result.text).toBe(201);
    expect(report.elapsedMs).toBeLessThan(3000);
    expect(report.worstHealthMs).toBeLessThan(1000);
    const far = await fetch(`${server.url}/datasets/sparse/kerchunk/v/999999999999`);
    expect(far.status).toBe(200);
    expect([...new Uint8Array(await far.arrayBuffer())]).toEqual([199, 200, 201, 202]); // bytes.bin holds 0..255
    const missing = await fetch(`${server.url}/datasets/sparse/kerchunk/v/5`);
    expect(missing.status).toBe(404); // a missing chunk (no record file): the client uses the fill value
  });

  it('refuses (422) a sparse set with a far record outside sources.allow, as quickly', async () => {
    const started = performance.now();
    const response = await adminFetch(`${server.url}/admin/datasets`, { method: 'POST', body: { id: 'sparse-escape', refs: 'refs/sparse-escape.parq' } });
    const text = await response.text();
    expect(response.status, text).toBe(422);
    expect(text).toContain('secret.bin');
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
