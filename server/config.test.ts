import { describe, expect, it } from 'vitest';
import { cacheBytesFromEnv } from './config.js';

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
