import { SourceError } from './source-error.js';

/**
 * A process-wide bound on source bytes being read at once (all requests, all datasets).
 *
 * A read reserves its length before it starts and gives it back when it ends (its bytes then
 * belong to the caller). Reservations are granted in arrival order; a read that does not fit
 * waits — behind it, later small reads wait too, so a large read is never starved — for at most
 * `maxWaitMs`, then fails with `unavailable` (the HTTP layer answers 503 with Retry-After). A
 * read larger than the whole budget runs alone (when nothing else is in flight). An aborted
 * caller leaves the queue at once.
 */
export class ReadBudget {
  private inFlight = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly maxBytes: number,
    readonly maxWaitMs: number = DEFAULT_MAX_WAIT_MS,
  ) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`the read budget must be a positive number of bytes (got ${maxBytes})`);
  }

  /** Bytes reserved by reads in flight. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  /** Reads waiting for room. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Runs `read` with `bytes` reserved. */
  async run<T>(bytes: number, read: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(bytes, signal);
    try {
      return await read();
    } finally {
      release();
    }
  }

  /** `acquire` when it would not wait (nothing queued, room left): the release function at once, else undefined. */
  tryAcquire(bytes: number): (() => void) | undefined {
    const amount = Math.max(0, Math.ceil(bytes));
    return this.queue.length === 0 && this.fits(amount) ? this.grant(amount) : undefined;
  }

  /** Reserves `bytes`; call the returned function exactly once when the read is over. */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const amount = Math.max(0, Math.ceil(bytes));
    if (this.queue.length === 0 && this.fits(amount)) return Promise.resolve(this.grant(amount));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes: amount,
        grant: () => {
          cleanup();
          resolve(this.grant(amount));
        },
      };
      const timer = setTimeout(() => {
        leave();
        reject(
          new SourceError(
            'unavailable',
            `waited ${this.maxWaitMs} ms for ${amount} bytes of the source read budget (${this.maxBytes} bytes, ${this.inFlight} in flight); try again later`,
          ),
        );
      }, this.maxWaitMs);
      const onAbort = () => {
        leave();
        reject(signal?.reason);
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const leave = () => {
        cleanup();
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        this.pump();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private fits(bytes: number): boolean {
    return this.inFlight + bytes <= this.maxBytes || this.inFlight === 0;
  }

  private grant(bytes: number): () => void {
    this.inFlight += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= bytes;
      this.pump();
    };
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0] as Waiter;
      if (!this.fits(next.bytes)) return;
      this.queue.shift();
      next.grant();
    }
  }
}

interface Waiter {
  readonly bytes: number;
  grant(): void;
}

/** The process's read budget without settings: 512 MiB in flight, waits of at most 30 s. */
export const DEFAULT_READ_BUDGET = { maxBytes: 512 * 1024 * 1024, maxWaitMs: 30_000 } as const;
const DEFAULT_MAX_WAIT_MS = DEFAULT_READ_BUDGET.maxWaitMs;

let shared: ReadBudget | undefined;

/**
 * The budget of sources created without one of their own (`DEFAULT_READ_BUDGET`). A server
 * passes its own, sized by `STRATO_MAX_READ_MB` and `STRATO_READ_WAIT_SECONDS` (server/config.ts).
 */
export function sharedReadBudget(): ReadBudget {
  shared ??= new ReadBudget(DEFAULT_READ_BUDGET.maxBytes, DEFAULT_READ_BUDGET.maxWaitMs);
  return shared;
}
