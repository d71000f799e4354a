import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { derivedChunkCache } from '../derive/derived-dataset.js';
import { DEFAULT_BUDGET_LIMITS } from '../kerchunk/request-budget.js';
import { HttpProblem } from '../server/http/problem.js';
import { JobManager } from './job-manager.js';
import type { ProcessDefinition } from './process.js';

let dir: string;
let manager: JobManager;
const gates: Array<() => void> = [];

/** A real process whose runs wait until the test opens their gate. */
const gated: ProcessDefinition = {
  id: 'gated',
  description: { id: 'gated' },
  async prepare(inputs) {
    if (inputs.has('fail')) throw new HttpProblem(400, 'Bad Request', 'asked to fail');
    return {
      run: async (context) => {
        context.progress(50);
        await new Promise<void>((resolve) => gates.push(resolve));
        if (inputs.has('crash')) throw new Error(`/secret/server/path exploded`);
        return { outputs: { ok: true } };
      },
    };
  },
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-manager-test-'));
  manager = new JobManager(
    { dir, concurrency: 1, queue: 1, maxOutputBytes: 1024, expireMs: 60_000 },
    { dataset: () => undefined, values: () => ({ array: () => undefined }), budget: DEFAULT_BUDGET_LIMITS, maxOutputBytes: 1024, derivedCache: derivedChunkCache(1024) },
    new Map([[gated.id, gated]]),
  );
});
afterEach(async () => {
  for (const open of gates.splice(0)) open();
  manager.close();
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
});

/** Waits until `check` holds (file writes take the thread pool's time); fails after 200 tries. */
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 200; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition never held');
};
const statusOf = async (id: string) => (await manager.store.get(id))?.status;

describe('JobManager', () => {
  it('one running, one waiting, the next refused with 429; bad inputs never become jobs', async () => {
    await expect(manager.submit(gated, new Map([['fail', true]]), true)).rejects.toMatchObject({ status: 400 });
    const first = await manager.submit(gated, new Map(), true);
    const second = await manager.submit(gated, new Map(), true);
    await until(async () => gates.length === 1);
    const refused = await manager.submit(gated, new Map(), true).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect((refused as HttpProblem).status).toBe(429);
    expect((await manager.store.list()).map((j) => j.jobID).sort()).toEqual([first.jobID, second.jobID].sort());
    expect((await manager.store.get(first.jobID))?.status).toBe('running');
    expect((await manager.store.get(second.jobID))?.status).toBe('accepted');
    gates.shift()?.();
    await until(async () => (await statusOf(first.jobID)) === 'successful' && gates.length === 1);
    expect(await manager.store.get(first.jobID)).toMatchObject({ status: 'successful', progress: 100, outputs: { ok: true } });
    expect((await manager.store.get(second.jobID))?.status).toBe('running');
  });

  it('a crash fails the job with a message that names no server path; dismiss removes a running job', async () => {
    const crashing = await manager.submit(gated, new Map([['crash', true]]), true);
    await until(async () => gates.length === 1);
    gates.shift()?.();
    await until(async () => (await statusOf(crashing.jobID)) === 'failed');
    const failed = await manager.store.get(crashing.jobID);
    expect(failed?.status).toBe('failed');
    expect(failed?.message).not.toContain('/secret');
    expect(manager.failure(crashing.jobID)?.status).toBe(500);
    const running = await manager.submit(gated, new Map(), true);
    await until(async () => gates.length === 1);
    expect((await manager.dismiss(running.jobID))?.status).toBe('dismissed');
    gates.shift()?.();
    await until(async () => (await readdir(dir)).length === 1); // only the crashed job's file
    expect(await manager.store.get(running.jobID)).toBeUndefined();
  });
});
