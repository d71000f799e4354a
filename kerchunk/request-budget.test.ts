import { describe, expect, it } from 'vitest';
import { BudgetExceededError, currentBudget, LazyBudget, RequestBudget, requestSignal, withBudget } from './request-budget.js';

const LIMITS = { chunks: 10, decodedBytes: 100, wallMs: 60_000 };

describe('LazyBudget', () => {
  it('makes the budget on the first currentBudget() and keeps it', () => {
    let made = 0;
    const lazy = new LazyBudget(
      () => {
        made++;
        return new RequestBudget(LIMITS);
      },
      () => new AbortController().signal,
    );
    expect(made).toBe(0);
    const [first, second] = withBudget(lazy, () => [currentBudget(), currentBudget()]);
    expect(made).toBe(1);
    expect(first).toBe(second);
    expect(first?.limits).toBe(LIMITS);
    lazy.answered();
  });

  it('counts the wall time from when the request began, not from the first use', () => {
    const budget = new RequestBudget({ ...LIMITS, wallMs: 50 }, undefined, performance.now() - 60);
    expect(budget.signal.aborted).toBe(true);
    expect(() => budget.throwIfAborted()).toThrow(BudgetExceededError);
    expect(budget.elapsedMs).toBeGreaterThanOrEqual(60);
  });

  it('a budget made after the answer started has no wall-time limit', async () => {
    const lazy = new LazyBudget(
      () => new RequestBudget({ ...LIMITS, wallMs: 5 }),
      () => new AbortController().signal,
    );
    lazy.answered();
    const budget = withBudget(lazy, () => currentBudget());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(budget.signal.aborted).toBe(false);
  });

  it('follows the client signal it was made with', () => {
    const client = new AbortController();
    const lazy = new LazyBudget(
      (signal) => new RequestBudget(LIMITS, signal),
      () => client.signal,
    );
    const budget = withBudget(lazy, () => currentBudget());
    client.abort('gone');
    expect(budget.signal.aborted).toBe(true);
    lazy.answered();
  });

  it('hands out the client signal alone without making the budget (requestSignal)', () => {
    let made = 0;
    let signals = 0;
    const client = new AbortController();
    const lazy = new LazyBudget(
      (signal) => {
        made++;
        return new RequestBudget(LIMITS, signal);
      },
      () => {
        signals++;
        return client.signal;
      },
    );
    const [a, b] = withBudget(lazy, () => [requestSignal(), requestSignal()]);
    expect(a).toBe(client.signal);
    expect(b).toBe(a);
    expect(made).toBe(0);
    expect(signals).toBe(1);
    expect(requestSignal()).toBeUndefined(); // outside a request
  });
});
