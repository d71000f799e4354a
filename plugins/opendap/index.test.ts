import { describe, expect, it } from 'vitest';
import { maxBytesFromEnv } from '../../server/config.js';

describe('STRATO_DAP_MAX_BYTES', () => {
  it('defaults to 1 GiB and reads byte counts with binary suffixes', () => {
    expect(maxBytesFromEnv(undefined)).toBe(1024 ** 3);
    expect(maxBytesFromEnv('')).toBe(1024 ** 3);
    expect(maxBytesFromEnv('2048')).toBe(2048);
    expect(maxBytesFromEnv('512M')).toBe(512 * 1024 ** 2);
    expect(maxBytesFromEnv('2GiB')).toBe(2 * 1024 ** 3);
    expect(maxBytesFromEnv('1.5k')).toBe(1536);
  });
  it('refuses anything else at start-up', () => {
    expect(() => maxBytesFromEnv('lots')).toThrow(/STRATO_DAP_MAX_BYTES/);
    expect(() => maxBytesFromEnv('-5')).toThrow(/STRATO_DAP_MAX_BYTES/);
  });
});
