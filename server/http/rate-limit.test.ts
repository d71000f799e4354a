import { describe, expect, it } from 'vitest';
import { rateLimitFromEnv } from '../config.js';
import { TokenBuckets } from './rate-limit.js';

describe('TokenBuckets', () => {
  it('allows a burst, then one request per 1/rate seconds, per key', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3, now: () => now });
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([undefined, undefined, undefined]);
    expect(buckets.take('a')).toBe(1);
    expect(buckets.take('b')).toBeUndefined(); // another client has its own bucket
    now += 500; // half a second at 2/s: one token back
    expect(buckets.take('a')).toBeUndefined();
    expect(buckets.take('a')).toBe(1);
    now += 60_000; // refills up to the burst, not beyond
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([undefined, undefined, undefined, 1]);
  });

  it('lets penalties push a bucket below zero (down to -burst), so the wait grows', () => {
    let now = 0;
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 4, now: () => now });
    buckets.charge('a', 100);
    expect(buckets.take('a')).toBe(5); // from -4 back to 1 token at 1/s
    now += 5_000;
    expect(buckets.take('a')).toBeUndefined();
  });

  it('forgets the least recently seen clients beyond maxClients', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1, maxClients: 2, now: () => 0 });
    buckets.take('a');
    buckets.take('b');
    buckets.take('c'); // evicts a
    expect(buckets.take('a')).toBeUndefined();
  });
});

describe('rateLimitFromEnv', () => {
  it('reads positive numbers and refuses anything else', () => {
    expect(rateLimitFromEnv({})).toEqual({});
    expect(rateLimitFromEnv({ STRATO_ADMIN_RATE: '0.5', STRATO_ADMIN_BURST: '4', STRATO_ADMIN_FAILED_AUTH_COST: '8' })).toEqual({
      ratePerSecond: 0.5,
      burst: 4,
      failedAuthCost: 8,
    });
    expect(() => rateLimitFromEnv({ STRATO_ADMIN_RATE: 'fast' })).toThrow(/STRATO_ADMIN_RATE/);
    expect(() => rateLimitFromEnv({ STRATO_ADMIN_BURST: '-1' })).toThrow(/STRATO_ADMIN_BURST/);
  });
});
