const MIB = 1024 * 1024;

/**
 * A cache bound in bytes from an environment variable given in MiB (`STRATO_DECODED_CACHE_MB=512`),
 * or `fallbackBytes` when unset. Anything but a non-negative number fails start-up.
 */
export function cacheBytesFromEnv(name: string, fallbackBytes: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[name];
  if (text === undefined || text === '') return fallbackBytes;
  const mib = Number(text);
  if (!Number.isFinite(mib) || mib < 0) throw new RangeError(`${name} must be a size in MiB, got "${text}"`);
  return Math.max(1, Math.floor(mib * MIB));
}

export const DEFAULT_CHUNK_CACHE_BYTES = 256 * MIB;
