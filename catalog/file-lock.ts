import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An exclusive lock between processes that share nothing but a directory (server replicas, the
 * CLI): a lock file created with O_EXCL (`open(path, 'wx')`) holding `{pid, host, time, token}`.
 *
 * - Waiting: retries with exponential backoff (5 ms doubling to 250 ms, jittered) up to `waitMs`,
 *   then a FileLockError naming the holder.
 * - Stale locks are taken over: the owner runs on this host and its pid is gone, the lock is
 *   older than `staleMs` (its owner hung or runs elsewhere), or the file is still empty/garbled
 *   after a short grace (the owner died between creating and writing it).
 * - Taking over is itself serialised by a second O_EXCL file (`<lock>.break`), inside which the
 *   lock is re-read and removed only if it is still the very file judged stale (same inode, same
 *   text) — two waiters that both saw the same stale lock can never remove each other's new one.
 * - Release removes the lock only while it still carries our token.
 * - Callers of one process queue in memory first, so they do not poll the file against each other.
 */
export interface FileLockOptions {
  /** Longest wait for the lock before giving up (default 10 000 ms). */
  readonly waitMs?: number;
  /** A lock older than this is taken over even when its owner seems alive (default 30 000 ms). */
  readonly staleMs?: number;
}

/** The lock could not be taken in time, or was lost while held. */
export class FileLockError extends Error {
  override readonly name = 'FileLockError';
}

export interface LockRecord {
  readonly pid: number;
  readonly host: string;
  /** Milliseconds since the epoch when the lock was taken. */
  readonly time: number;
  readonly token: string;
}

export interface HeldLock {
  readonly path: string;
  readonly record: LockRecord;
  /** Whether the lock file is still ours (it could have been taken over as stale). */
  stillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

export const DEFAULT_LOCK_WAIT_MS = 10_000;
export const DEFAULT_LOCK_STALE_MS = 30_000;
/** An empty or unreadable lock file older than this belongs to a writer that died creating it. */
const UNWRITTEN_GRACE_MS = 2_000;
/** A `.break` file older than this belongs to a process that died while taking over a lock. */
const BREAK_STALE_MS = 5_000;
const FIRST_DELAY_MS = 5;
const MAX_DELAY_MS = 250;

const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` while holding the lock at `lockPath`; the lock is released however `fn` ends.
 * `waitMs` counts from this call, time spent queueing behind same-process callers included.
 */
export async function withFileLock<T>(lockPath: string, fn: (lock: HeldLock) => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_LOCK_WAIT_MS);
  const turn = () => locked(lockPath, fn, { ...options, waitMs: Math.max(0, deadline - Date.now()) });
  // In-process queue: same-process callers wait on a promise, not on the file.
  const previous = queues.get(lockPath) ?? Promise.resolve();
  const run = previous.then(turn, turn);
  const tail = run.catch(() => undefined);
  queues.set(lockPath, tail);
  try {
    return await run;
  } finally {
    if (queues.get(lockPath) === tail) queues.delete(lockPath);
  }
}

async function locked<T>(lockPath: string, fn: (lock: HeldLock) => Promise<T>, options: FileLockOptions): Promise<T> {
  const lock = await acquireFileLock(lockPath, options);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

/** Takes the lock (waiting, taking over stale ones); the caller must `release()` it. */
export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<HeldLock> {
  const waitMs = options.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const started = Date.now();
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const record: LockRecord = { pid: process.pid, host: hostname(), time: Date.now(), token: randomBytes(12).toString('hex') };
    if (await tryCreate(lockPath, record)) return heldLock(lockPath, record);
    const seen = await inspect(lockPath);
    if (seen === undefined) continue; // released meanwhile
    if (stalenessOf(seen, staleMs) !== undefined && (await takeOver(lockPath, seen))) continue;
    const waited = Date.now() - started;
    if (waited >= waitMs) {
      throw new FileLockError(`${lockPath} is held by ${describeOwner(seen)}; gave up after ${waited} ms ` + `(if no strato process is running, remove the file)`);
    }
    await sleep(Math.min(delay * (0.5 + Math.random()), waitMs - waited));
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

async function tryCreate(lockPath: string, record: LockRecord): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx', 0o644);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(record)}\n`);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return true;
}

function heldLock(path: string, record: LockRecord): HeldLock {
  let released = false;
  const stillHeld = async (): Promise<boolean> => {
    const seen = await inspect(path);
    return seen?.record?.token === record.token;
  };
  return {
    path,
    record,
    stillHeld,
    release: async () => {
      if (released) return;
      released = true;
      if (await stillHeld()) await unlink(path).catch(() => undefined);
    },
  };
}

/** A lock file as found: its text, inode and age, and the record when it parses. */
interface SeenLock {
  readonly text: string;
  readonly ino: number;
  readonly mtimeMs: number;
  readonly record: LockRecord | undefined;
}

async function inspect(path: string): Promise<SeenLock | undefined> {
  try {
    const [text, stats] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, ino: stats.ino, mtimeMs: stats.mtimeMs, record: parseRecord(text) };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    const valid = Number.isSafeInteger(value.pid) && typeof value.host === 'string' && typeof value.time === 'number' && typeof value.token === 'string';
    return valid ? (value as LockRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a lock may be taken over, or undefined while its owner may still be working. */
function stalenessOf(seen: SeenLock, staleMs: number, now = Date.now()): string | undefined {
  const { record } = seen;
  if (record === undefined) return now - seen.mtimeMs > UNWRITTEN_GRACE_MS ? 'the lock file is empty or garbled' : undefined;
  // A time in the future (clocks of different hosts) counts from the file's mtime instead.
  const age = now - (record.time <= now ? record.time : seen.mtimeMs);
  if (age > staleMs) return `the lock is ${age} ms old`;
  if (record.host === hostname() && !isAlive(record.pid)) return `its owner (pid ${record.pid}) is gone`;
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes the stale lock `seen` unless it changed meanwhile, serialised through `<lock>.break`.
 * True when the lock is gone or changed (worth trying again at once); false when another process
 * is taking it over right now (wait as for a live lock).
 */
async function takeOver(lockPath: string, seen: SeenLock): Promise<boolean> {
  const breakPath = `${lockPath}.break`;
  const breaker: LockRecord = { pid: process.pid, host: hostname(), time: Date.now(), token: randomBytes(12).toString('hex') };
  if (!(await tryCreate(breakPath, breaker))) {
    const other = await inspect(breakPath);
    // Its owner died between creating and removing it (a few ms of work): clear it for the next round.
    if (other && Date.now() - other.mtimeMs > BREAK_STALE_MS) await unlink(breakPath).catch(() => undefined);
    return false;
  }
  try {
    const now = await inspect(lockPath);
    if (now && now.ino === seen.ino && now.text === seen.text) await unlink(lockPath).catch(() => undefined);
    return true;
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}

function describeOwner(seen: SeenLock): string {
  const { record } = seen;
  if (!record) return 'a writer that has not recorded itself yet';
  return `pid ${record.pid} on ${record.host} since ${new Date(record.time).toISOString()}`;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
