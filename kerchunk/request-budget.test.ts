import { describe, expect, it } from 'vitest';
import { BudgetExceededError, currentBudget, LazyBudget, RequestBudget, withBudget } from './request-budget.js';

const LIMITS = { chunks: 10, decodedBytes: 100, wallMs: 60_000 };

describe('LazyBudget', () => {
  it('makes the budget on the first currentBudget() and keeps it', () => {
    let made = 0;
    const lazy = new LazyBudget(() => {
      made++;
      return new RequestBudget(LIMITS);
    });
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
    const lazy = new LazyBudget(() => new RequestBudget({ ...LIMITS, wallMs: 5 }));
    lazy.answered();
    const budget = withBudget(lazy, () => currentBudget());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(budget.signal.aborted).toBe(false);
  });

  it('follows the client signal it was made with', () => {
    const client = new AbortController();
    const lazy = new LazyBudget(() => new RequestBudget(LIMITS, client.signal));
    const budget = withBudget(lazy, () => currentBudget());
    client.abort('gone');
    expect(budget.signal.aborted).toBe(true);
    lazy.answered();
  });
});
