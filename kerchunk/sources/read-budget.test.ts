import { describe, expect, it } from 'vitest';
import { ReadBudget } from './read-budget.js';
import { SourceError } from './source-error.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('ReadBudget', () => {
  it('grants reservations that fit at once and queues the rest in arrival order', async () => {
    const budget = new ReadBudget(100);
    const first = await budget.acquire(60);
    const order: string[] = [];
    const big = budget.acquire(50).then((release) => (order.push('big'), release));
    const small = budget.acquire(10).then((release) => (order.push('small'), release));
    await tick();
    // the small one would fit, but waits behind the big one (no starvation)
    expect(order).toEqual([]);
    expect(budget.waiting).toBe(2);
    first();
    const [releaseBig, releaseSmall] = await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
    expect(budget.bytesInFlight).toBe(60);
    releaseBig();
    releaseSmall();
    releaseSmall(); // twice is harmless
    expect(budget.bytesInFlight).toBe(0);
  });

  it('lets a read larger than the whole budget run alone', async () => {
    const budget = new ReadBudget(100);
    const small = await budget.acquire(10);
    let granted = false;
    const huge = budget.acquire(1000).then((release) => ((granted = true), release));
    await tick();
    expect(granted).toBe(false);
    small();
    (await huge)();
    expect(granted).toBe(true);
  });

  it('gives up after maxWaitMs with `unavailable`, and an aborted caller leaves the queue', async () => {
    const budget = new ReadBudget(100, 50);
    const held = await budget.acquire(100);
    const error = await budget.acquire(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).failure).toBe('unavailable');
    const controller = new AbortController();
    const aborted = budget.acquire(1, controller.signal).catch((e: unknown) => e);
    controller.abort(new Error('gone'));
    expect(((await aborted) as Error).message).toBe('gone');
    expect(budget.waiting).toBe(0);
    held();
    expect(budget.bytesInFlight).toBe(0);
  });

  it('run() releases on success and on failure', async () => {
    const budget = new ReadBudget(10);
    expect(await budget.run(5, async () => 'ok')).toBe('ok');
    await expect(budget.run(5, async () => Promise.reject(new Error('read failed')))).rejects.toThrow('read failed');
    expect(budget.bytesInFlight).toBe(0);
  });
});
