import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The OGC API – Processes jobs of one server: `STRATO_JOB_DIR` (where jobs and results persist;
 * default `<os tmpdir>/strato-jobs-<uid>`), `STRATO_JOB_CONCURRENCY` (jobs running at once per
 * process, default 2), `STRATO_JOB_QUEUE` (jobs waiting, default 16; beyond: 429),
 * `STRATO_JOB_MAX_OUTPUT_MB` (largest result, default 512 MiB; beyond: 413),
 * `STRATO_JOB_EXPIRE_SECONDS` (results kept, default 86 400 s).
 */
export interface JobSettings {
  readonly dir: string;
  readonly concurrency: number;
  readonly queue: number;
  readonly maxOutputBytes: number;
  readonly expireMs: number;
}

/** A STRATO_JOB_* variable that is not a positive number. */
export class JobSettingsError extends Error {
  override readonly name = 'JobSettingsError';
}

type Env = Readonly<Record<string, string | undefined>>;

function positive(env: Env, name: string, fallback: number, integer: boolean): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new JobSettingsError(`${name} must be a positive ${integer ? 'integer' : 'number'}, not "${text.slice(0, 40)}"`);
  }
  return value;
}

export function jobSettingsFromEnv(env: Env): JobSettings {
  const dir = env.STRATO_JOB_DIR?.trim();
  return {
    dir: dir ? dir : join(tmpdir(), `strato-jobs-${process.getuid?.() ?? 'user'}`),
    concurrency: positive(env, 'STRATO_JOB_CONCURRENCY', 2, true),
    queue: positive(env, 'STRATO_JOB_QUEUE', 16, true),
    maxOutputBytes: Math.round(positive(env, 'STRATO_JOB_MAX_OUTPUT_MB', 512, false) * 1024 * 1024),
    expireMs: Math.round(positive(env, 'STRATO_JOB_EXPIRE_SECONDS', 86_400, false) * 1000),
  };
}
