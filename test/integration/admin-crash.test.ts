import { readdir, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { ADMIN_TOKEN, adminFetch, makeAdminCatalog } from '../helpers/admin-fixture.js';
import { type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * kill -9 in the middle of registrations: after every kill the catalog must parse and hold every
 * dataset whose registration was answered 201 before the kill, and every dataset that was there
 * before. The next server takes over the dead one's lock (if it held it) and cleans its temporaries.
 */
const ITERATIONS = 20;
const WORKERS = 3;

let dir: string;
let catalog: string;
let live: SpawnedServer | undefined;

beforeAll(async () => {
  ({ dir, catalog } = await makeAdminCatalog());
});
afterAll(async () => {
  await live?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('registrations under kill -9', () => {
  it(`never lose a confirmed dataset nor leave a torn catalog (${ITERATIONS} kills)`, { timeout: 180_000 }, async () => {
    // registrations as fast as the server takes them: the admin rate limit (admin-rate-limit.test.ts) is set out of the way
    const env = { STRATO_ADMIN_TOKEN: ADMIN_TOKEN, STRATO_ADMIN_RATE: '100000', STRATO_ADMIN_BURST: '100000' };
    const confirmed = new Set(['existing']);
    const stats = { iterations: 0, attempted: 0, confirmed: 0, inFlightAtKill: 0, landedWithout201: 0, locksLeftByKill: 0, temporariesLeftByKill: 0 };
    const delays: number[] = [];

    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const server = await spawnServer(catalog, ['--log-level', 'error'], env);
      let killed = false;
      let firstConfirmed: () => void = () => undefined;
      const oneConfirmed = new Promise<void>((resolve) => (firstConfirmed = resolve));
      const unconfirmed = new Set<string>();
      const worker = async (w: number) => {
        for (let n = 0; !killed; n++) {
          const id = `k${iteration}-w${w}-${n}`;
          stats.attempted++;
          unconfirmed.add(id);
          let status: number;
          try {
            status = (await adminFetch(`${server.url}/admin/datasets`, { method: 'POST', body: { id, refs: 'refs/good.json', title: `kill test ${id}` } })).status;
          } catch {
            return; // the server died under this request: its outcome is unknown
          }
          if (status !== 201) throw new Error(`registration of ${id} answered ${status}; stderr:\n${server.stderr()}`);
          unconfirmed.delete(id);
          if (!killed) {
            confirmed.add(id);
            stats.confirmed++;
            firstConfirmed();
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      // the kill lands among registrations: after this server confirmed one, at a random moment
      await Promise.race([oneConfirmed, Promise.all(workers)]);
      const delay = Math.floor(Math.random() * 400);
      delays.push(delay);
      await sleep(delay);
      const exited = new Promise((resolve) => server.process.once('exit', resolve));
      server.process.kill('SIGKILL');
      killed = true;
      await exited;
      await Promise.all(workers);

      // The catalog parses, nothing is left out, and every confirmed dataset is in it.
      const after = await loadCatalog(catalog);
      expect(after.problems).toEqual([]);
      const ids = new Set(after.datasets.map((d) => d.id));
      for (const id of confirmed) expect(ids.has(id), `${id} confirmed before kill ${iteration} but missing`).toBe(true);
      stats.inFlightAtKill += unconfirmed.size;
      for (const id of unconfirmed) if (ids.has(id)) stats.landedWithout201++;
      const names = await readdir(dir);
      if (names.includes('catalog.yaml.lock')) stats.locksLeftByKill++;
      if (names.some((name) => name.startsWith('.catalog.yaml.') && name.endsWith('.tmp'))) stats.temporariesLeftByKill++;
      stats.iterations++;
    }

    // A fresh server takes over whatever lock the last kill left, cleans up, and registers.
    live = await spawnServer(catalog, ['--log-level', 'error'], env);
    const response = await adminFetch(`${live.url}/admin/datasets`, { method: 'POST', body: { id: 'after-the-kills', refs: 'refs/good.json' } });
    expect(response.status).toBe(201);
    const names = await readdir(dir);
    expect(names.filter((name) => name.endsWith('.tmp') || name.includes('.lock'))).toEqual([]);
    const final = await loadCatalog(catalog);
    expect(final.datasets.length).toBeGreaterThanOrEqual(confirmed.size + 1);
    for (const id of confirmed) expect((await fetch(`${live.url}/datasets/${id}/kerchunk/.zmetadata`)).status, id).toBe(200);

    expect(stats.confirmed).toBeGreaterThanOrEqual(ITERATIONS); // every kill landed among registrations
    console.log(`kill -9 summary: ${JSON.stringify({ ...stats, datasetsInCatalog: final.datasets.length, delaysMs: delays })}`);
  });
});
