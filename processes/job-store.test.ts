import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JobRecord, JobStore, jobId, newJobId } from './job-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-jobs-test-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const record = (change: Partial<JobRecord>): JobRecord => ({
  jobID: newJobId(),
  processID: 'echo',
  status: 'accepted',
  created: '2026-01-01T00:00:00.000Z',
  updated: '2026-01-01T00:00:00.000Z',
  progress: 0,
  pid: process.pid,
  inputs: {},
  ...change,
});

/** A pid no process has (beyond Linux's pid_max). */
const GONE = 2 ** 22 + 12345;

describe('JobStore', () => {
  it('job ids from URLs are UUIDs only: no path can come through', () => {
    expect(jobId(newJobId())).toBeDefined();
    for (const hostile of ['../x', '..%2F..', '__proto__', '', 'a'.repeat(36), `${newJobId()}/../x`, `${newJobId()}.json`]) expect(jobId(hostile)).toBeUndefined();
  });

  it('a job of a process that is gone is failed with the reason on open; live and finished jobs are left alone', async () => {
    const store = new JobStore(dir);
    await store.open();
    const running = record({ status: 'running', pid: GONE });
    const waiting = record({ status: 'accepted', pid: GONE });
    const mine = record({ status: 'running' });
    const done = record({ status: 'successful', pid: GONE, expires: '2999-01-01T00:00:00.000Z' });
    for (const r of [running, waiting, mine, done]) await store.put(r);
    await new JobStore(dir).open(new Date('2026-01-02T00:00:00Z'));
    expect(await store.get(running.jobID)).toMatchObject({ status: 'failed', message: expect.stringMatching(/server stopped while the job was running/) });
    expect(await store.get(waiting.jobID)).toMatchObject({ status: 'failed', message: expect.stringMatching(/waiting/) });
    expect((await store.get(mine.jobID))?.status).toBe('running');
    expect((await store.get(done.jobID))?.status).toBe('successful');
  });

  it('expired jobs go with their files; writes leave no temporary files', async () => {
    const store = new JobStore(dir);
    await store.open();
    const old = record({ status: 'successful', expires: '2026-01-01T00:00:00.000Z' });
    await store.put(old);
    await store.put(record({}));
    expect(await store.expire(new Date('2026-06-01T00:00:00Z'))).toBe(1);
    expect(await store.get(old.jobID)).toBeUndefined();
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(await store.list()).toHaveLength(1);
  });
});
