import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { LRUCache } from 'lru-cache';
import { HttpProblem } from './problem.js';

export interface RateLimitOptions {
  /** Tokens added per second to each client's bucket (default 10). */
  readonly ratePerSecond?: number;
  /** Bucket size: requests a client may send at once (default 20). */
  readonly burst?: number;
  /** Tokens a request that fails authentication costs in all (default 5): token guessing slows down. */
  readonly failedAuthCost?: number;
  /** Clients tracked at once (least recently seen forgotten first; default 10 000). */
  readonly maxClients?: number;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by client key. A bucket refills at `ratePerSecond` up to `burst`; a request takes
 * one token and is refused when none is left. Penalties may drive a bucket below zero (down to
 * -burst), so repeated failures lock a client out for longer.
 */
export class TokenBuckets {
  private readonly buckets: LRUCache<string, Bucket>;
  readonly rate: number;
  readonly burst: number;
  private readonly now: () => number;

  constructor(options: RateLimitOptions = {}) {
    this.rate = options.ratePerSecond ?? 10;
    this.burst = options.burst ?? 20;
    if (!(this.rate > 0) || !(this.burst >= 1)) throw new RangeError(`rate limit needs a rate > 0 and a burst >= 1, got ${this.rate}/s burst ${this.burst}`);
    this.now = options.now ?? (() => performance.now());
    this.buckets = new LRUCache({ max: options.maxClients ?? 10_000 });
  }

  /** Takes one token; undefined when allowed, else the seconds until one is available. */
  take(key: string): number | undefined {
    const bucket = this.refilled(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
  }

  /** Takes `tokens` more (a penalty), down to -burst at most. */
  charge(key: string, tokens: number): void {
    const bucket = this.refilled(key);
    bucket.tokens = Math.max(-this.burst, bucket.tokens - tokens);
  }

  private refilled(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    return bucket;
  }
}

/**
 * Rate limit by client address (the TCP peer: behind a proxy all its clients share one bucket,
 * which is fine for an admin API). Over the limit: 429 problem+json with Retry-After. A request
 * answered 401 costs `failedAuthCost` tokens in all.
 */
export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler {
  const buckets = new TokenBuckets(options);
  const failedAuthCost = options.failedAuthCost ?? 5;
  return async (c, next) => {
    const key = clientAddress(c);
    const wait = buckets.take(key);
    if (wait !== undefined) {
      throw new HttpProblem(429, 'Too Many Requests', `too many admin requests from this address; retry in ${wait} s`, { 'retry-after': String(wait) });
    }
    await next();
    if (c.res.status === 401 && failedAuthCost > 1) buckets.charge(key, failedAuthCost - 1);
  };
}

/** The TCP peer's address ('unknown' outside @hono/node-server). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // not served by @hono/node-server (app.request in tests)
  }
}
