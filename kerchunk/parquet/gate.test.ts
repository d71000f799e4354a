import { describe, expect, it } from 'vitest';
import { Gate } from './gate.js';

/** A task that runs until `finish` is called, recording when it started. */
function task(started: string[], name: string): { run: () => Promise<string>; finish: () => void } {
  let finish = (): void => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    run: async () => {
      started.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Gate', () => {
  it('runs at most `tasks` at once, in order', async () => {
    const gate = new Gate(2, 1000);
    const started: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((name) => task(started, name));
    const results = tasks.map((t) => gate.run(1, t.run));
    await tick();
    expect(started).toEqual(['a', 'b']);
    tasks[1]?.finish();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    for (const t of tasks) t.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('holds at most `rows` rows between the tasks running; a larger task runs alone; later small ones wait their turn', async () => {
    const gate = new Gate(10, 100);
    const started: string[] = [];
    const big = task(started, 'big');
    const small = task(started, 'small');
    const huge = task(started, 'huge');
    const after = task(started, 'after');
    const runs = [gate.run(60, big.run), gate.run(60, small.run), gate.run(10_000, huge.run), gate.run(1, after.run)];
    await tick();
    expect(started).toEqual(['big']); // 60 + 60 > 100; 'after' fits but waits behind the others
    big.finish();
    await tick();
    expect(started).toEqual(['big', 'small']);
    small.finish();
    await tick();
    expect(started).toEqual(['big', 'small', 'huge']);
    huge.finish();
    await tick();
    expect(started).toEqual(['big', 'small', 'huge', 'after']);
    after.finish();
    await Promise.all(runs);
  });

  it('lets the next task in when one fails', async () => {
    const gate = new Gate(1, 10);
    await expect(gate.run(1, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(1, async () => 'next')).toBe('next');
  });
});
