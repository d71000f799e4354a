import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cacheBytesFromEnv, defaultCacheBytes, MIN_DEFAULT_CACHE_BYTES, memoryLimit, readConfig } from './config.js';

describe('cacheBytesFromEnv', () => {
  it('reads MiB, falls back when unset, refuses nonsense', () => {
    expect(cacheBytesFromEnv('X', 7, {})).toBe(7);
    expect(cacheBytesFromEnv('X', 7, { X: '' })).toBe(7);
    expect(cacheBytesFromEnv('X', 7, { X: '512' })).toBe(512 * 1024 * 1024);
    expect(cacheBytesFromEnv('X', 7, { X: '0.5' })).toBe(512 * 1024);
    expect(cacheBytesFromEnv('X', 7, { X: '0' })).toBe(1);
    expect(() => cacheBytesFromEnv('X', 7, { X: 'lots' })).toThrow(/X must be a size in MiB/);
    expect(() => cacheBytesFromEnv('X', 7, { X: '-1' })).toThrow(/X/);
  });
});

describe('cache sizes', () => {
  const GIB = 1024 ** 3;
  it('default to a fraction of the memory, shared among the server processes, never below 64 MiB', () => {
    expect(defaultCacheBytes(1 / 8, {}, 24 * GIB)).toBe(3 * GIB);
    expect(defaultCacheBytes(1 / 8, { STRATO_SERVER_PROCESSES: '2' }, 24 * GIB)).toBe(1.5 * GIB);
    expect(defaultCacheBytes(1 / 16, { STRATO_SERVER_PROCESSES: '4' }, 1 * GIB)).toBe(MIN_DEFAULT_CACHE_BYTES);
    // nonsense process counts count as one
    for (const bad of ['0', '-3', 'x', '1e9', '__proto__']) expect(defaultCacheBytes(1 / 8, { STRATO_SERVER_PROCESSES: bad }, 24 * GIB)).toBe(3 * GIB);
  });

  it('the memory limit is the machine memory or a lower cgroup limit', () => {
    expect(memoryLimit()).toBeGreaterThan(0);
    expect(memoryLimit()).toBeLessThanOrEqual(totalmem());
  });

  it('the variables still win; the disk tier has its directory and bound, 0 turning it off', () => {
    const config = readConfig({ STRATO_DECODED_CACHE_MB: '100', STRATO_ENCODED_CACHE_MB: '50', STRATO_CACHE_DIR: '/var/cache/strato', STRATO_DISK_CACHE_MB: '0' });
    expect(config.decodedCacheBytes).toBe(100 * 1024 * 1024);
    expect(config.encodedCacheBytes).toBe(50 * 1024 * 1024);
    expect(config.diskCache).toEqual({ dir: '/var/cache/strato', maxBytes: 0 });
    expect(readConfig({}).diskCache.maxBytes).toBeUndefined();
    expect(() => readConfig({ STRATO_DISK_CACHE_MB: 'lots' })).toThrow(/STRATO_DISK_CACHE_MB/);
  });
});
