import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/**
 * The work one request may cause: chunks touched (read, decoded or filled), bytes decoded, and
 * wall time until its answer starts. A request past a limit fails with a BudgetExceededError
 * (413 for chunks and bytes: the request asks for too much; 503 for time: try again later).
 */
export interface BudgetLimits {
  /** Chunks one request may touch, missing (fill) chunks included. */
  readonly chunks: number;
  /** Bytes of decoded chunk data one request may produce (cache hits count too). */
  readonly decodedBytes: number;
  /** Milliseconds of work before the answer starts (a streamed body may take longer to send). */
  readonly wallMs: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_BUDGET_LIMITS: BudgetLimits = {
  chunks: 100_000,
  decodedBytes: 4096 * MIB,
  wallMs: 60_000,
};

/** How long a loop over chunks may keep the event loop before it yields (so /health stays quick). */
export const YIELD_EVERY_MS = 20;

export type BudgetLimitName = 'chunks' | 'decodedBytes' | 'wallMs';

/** A request went past one of its limits. */
export class BudgetExceededError extends Error {
  override readonly name = 'BudgetExceededError';
  constructor(
    readonly limit: BudgetLimitName,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One request's budget: counters against its limits, and a signal that aborts when the client
 * goes away or the wall time runs out. Loops over chunks call `checkpoint()` between steps:
 * it throws once the request is aborted and yields to the event loop every few milliseconds.
 */
export class RequestBudget {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private chunksUsed = 0;
  private bytesUsed = 0;
  private lastYield = performance.now();
  private readonly started: number;

  /** `started`: when the request began (`performance.now()`; default now), from which the wall time counts. */
  constructor(
    readonly limits: BudgetLimits = DEFAULT_BUDGET_LIMITS,
    clientSignal?: AbortSignal,
    started = performance.now(),
  ) {
    this.started = started;
    this.signal = clientSignal ? AbortSignal.any([clientSignal, this.controller.signal]) : this.controller.signal;
    if (Number.isFinite(limits.wallMs)) {
      const left = limits.wallMs - (performance.now() - started);
      if (left <= 0) {
        this.controller.abort(this.timeError());
      } else {
        this.timer = setTimeout(() => this.controller.abort(this.timeError()), left);
        this.timer.unref();
      }
    }
  }

  get chunks(): number {
    return this.chunksUsed;
  }

  get decodedBytes(): number {
    return this.bytesUsed;
  }

  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  /** Counts `count` chunks about to be touched; throws when that goes past the limit. */
  chargeChunks(count: number): void {
    this.ensureChunks(count);
    this.chunksUsed += count;
  }

  /** Throws when `count` more chunks would go past the limit, without counting them (a check before streaming). */
  ensureChunks(count: number): void {
    if (this.chunksUsed + count > this.limits.chunks) {
      throw new BudgetExceededError('chunks', `the request touches more than ${this.limits.chunks} chunks (STRATO_MAX_CHUNKS); select less`);
    }
  }

  /** Counts decoded bytes produced for this request; throws when that goes past the limit. */
  chargeDecodedBytes(bytes: number): void {
    this.bytesUsed += bytes;
    if (this.bytesUsed > this.limits.decodedBytes) {
      throw new BudgetExceededError('decodedBytes', `the request decodes more than ${this.limits.decodedBytes} bytes (STRATO_MAX_DECODED_MB); select less`);
    }
  }

  /** Throws if the request was aborted (client gone, wall time over). */
  throwIfAborted(): void {
    if (this.signal.aborted) throw abortReason(this.signal);
  }

  /** Between two steps of a long loop: stop if aborted, let other requests run now and then. */
  async checkpoint(): Promise<void> {
    this.throwIfAborted();
    if (performance.now() - this.lastYield < YIELD_EVERY_MS) return;
    await yieldToEventLoop();
    this.lastYield = performance.now();
    this.throwIfAborted();
  }

  /** The answer has started: the wall-time limit no longer applies (a slow reader is no attacker). */
  answered(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** Ends the budget's own timer (the request is over). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private timeError(): BudgetExceededError {
    return new BudgetExceededError('wallMs', `the request took longer than ${this.limits.wallMs} ms (STRATO_MAX_REQUEST_SECONDS); select less or try again later`);
  }
}

/** The reason of an aborted signal as an Error (a budget's own, or the client's going away). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('the request was aborted', 'AbortError');
}

/**
 * A request's budget made on its first use (`currentBudget`): most requests (metadata, raw
 * chunks) never ask for theirs, and so never pay for its signal and timer. Once `answered`, a
 * budget made later starts answered (no wall-time limit), as one made up front would be by then.
 */
export class LazyBudget {
  private made: RequestBudget | undefined;
  private signal: AbortSignal | undefined;
  private over = false;

  /**
   * `make`: the budget as it would have been made when the request began (see RequestBudget's
   * `started`), given the client's signal; `clientSignal`: that signal, made on first use too.
   */
  constructor(
    private readonly make: (clientSignal: AbortSignal) => RequestBudget,
    private readonly makeClientSignal: () => AbortSignal,
  ) {}

  get budget(): RequestBudget {
    if (!this.made) {
      this.made = this.make(this.clientSignal);
      if (this.over) this.made.answered();
    }
    return this.made;
  }

  /** Aborted when the client goes away (cheaper than the whole budget: no timer). */
  get clientSignal(): AbortSignal {
    this.signal ??= this.makeClientSignal();
    return this.signal;
  }

  /** The answer has started (RequestBudget `answered`). */
  answered(): void {
    this.over = true;
    this.made?.answered();
  }
}

const current = new AsyncLocalStorage<RequestBudget | LazyBudget>();

/** Runs `work` with `budget` as the budget of everything it calls (see `currentBudget`). */
export function withBudget<T>(budget: RequestBudget | LazyBudget, work: () => T): T {
  return current.run(budget, work);
}

/** A budget without limits, for work outside a request (ingest, start-up, tests). */
const UNLIMITED: BudgetLimits = { chunks: Infinity, decodedBytes: Infinity, wallMs: Infinity };

/**
 * The budget of the request this code runs for, or a fresh unlimited one outside requests (it
 * still yields in long loops).
 */
/**
 * The signal of the request this code runs for, aborted when its client goes away (undefined
 * outside a request). Cheaper than `currentBudget().signal` where only the client matters.
 */
export function requestSignal(): AbortSignal | undefined {
  const found = current.getStore();
  if (found instanceof LazyBudget) return found.clientSignal;
  return found?.signal;
}

export function currentBudget(): RequestBudget {
  const found = current.getStore();
  if (found instanceof LazyBudget) return found.budget;
  return found ?? new RequestBudget(UNLIMITED);
}
