import { mkdir, rm } from 'node:fs/promises';
import type { Dataset } from '../catalog/dataset.js';
import type { JsonValue } from '../kerchunk/reference.js';
import { BudgetExceededError } from '../kerchunk/request-budget.js';
import { HttpProblem } from '../server/http/problem.js';
import type { JobSettings } from './job-settings.js';
import { type JobOwner, type JobRecord, JobStore, newJobId } from './job-store.js';
import type { PreparedRun, ProcessDefinition, ProcessEnvironment } from './process.js';

/** A job that ended failed: why, and the HTTP status a synchronous execution answers with. */
export interface FailedRun {
  readonly status: number;
  readonly message: string;
}

/**
 * What the caller of one execution was let read beyond public datasets (the plugin checked the
 * caller's token against each dataset's rules), and who owns the job then.
 */
export interface JobGrant {
  readonly owner?: JobOwner;
  /** Protected datasets the caller may read, by id. */
  readonly datasets?: ReadonlyMap<string, Dataset>;
}

/**
 * Runs jobs: at most `concurrency` at once in this process, at most `queue` waiting (beyond:
 * 429), every state change written to the store first. Synchronous executions are jobs too
 * (their status stays listed until they expire).
 */
export class JobManager {
  readonly store: JobStore;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly dismissed = new Set<string>();
  private readonly failures = new Map<string, FailedRun>();
  private sweeper: NodeJS.Timeout | undefined;
  private opened: Promise<void> | undefined;

  constructor(
    readonly settings: JobSettings,
    readonly environment: ProcessEnvironment,
    readonly processes: ReadonlyMap<string, ProcessDefinition>,
  ) {
    this.store = new JobStore(settings.dir);
  }

  /** Opens the store once (settling jobs of a stopped server) and sweeps expired jobs from then on. */
  open(): Promise<void> {
    this.opened ??= this.store.open().then(() => {
      this.sweeper = setInterval(() => void this.store.expire().catch(() => undefined), Math.min(this.settings.expireMs, 60_000));
      this.sweeper.unref();
    });
    return this.opened;
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /**
   * Validates the inputs and creates the job. Async: returns the accepted job at once; sync:
   * after it ended. Throws HttpProblem for bad inputs (400/404/413) and a full queue (429).
   */
  async submit(
    process: ProcessDefinition,
    inputs: ReadonlyMap<string, JsonValue>,
    async: boolean,
    formats: ReadonlyMap<string, string> = new Map(),
    grant: JobGrant = {},
  ): Promise<JobRecord> {
    await this.open();
    if (this.running >= this.settings.concurrency && this.waiting.length >= this.settings.queue) {
      throw new HttpProblem(429, 'Too Many Requests', `${this.running} jobs are running and ${this.waiting.length} waiting; try again later`, { 'retry-after': '10' });
    }
    const granted = grant.datasets;
    const environment: ProcessEnvironment = granted?.size
      ? {
          dataset: (id) => granted.get(id) ?? this.environment.dataset(id),
          values: (dataset) => this.environment.values(dataset),
          budget: this.environment.budget,
          maxOutputBytes: this.environment.maxOutputBytes,
          derivedCache: this.environment.derivedCache,
        }
      : this.environment;
    const prepared = await process.prepare(inputs, environment, formats);
    const now = new Date().toISOString();
    const record: JobRecord = {
      jobID: newJobId(),
      processID: process.id,
      status: 'accepted',
      created: now,
      updated: now,
      progress: 0,
      pid: globalThis.process.pid,
      inputs: Object.fromEntries(inputs),
      ...(grant.owner ? { owner: { subject: grant.owner.subject, issuer: grant.owner.issuer } } : {}),
    };
    await this.store.put(record);
    const done = this.run(record, prepared);
    if (async) {
      done.catch(() => undefined);
      return record;
    }
    return done;
  }

  /** Why a job failed, with the status a synchronous execution answers (known to this process only). */
  failure(id: string): FailedRun | undefined {
    return this.failures.get(id);
  }

  /** Dismisses a job: removes it and its results; a running job's results are dropped when it ends. */
  async dismiss(id: string): Promise<JobRecord | undefined> {
    const record = await this.store.get(id);
    if (!record) return undefined;
    this.dismissed.add(id);
    await this.store.remove(id);
    return { ...record, status: 'dismissed', message: 'dismissed', updated: new Date().toISOString() };
  }

  private async slot(): Promise<void> {
    if (this.running < this.settings.concurrency) {
      this.running += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }

  private async run(accepted: JobRecord, prepared: PreparedRun): Promise<JobRecord> {
    await this.slot();
    const id = accepted.jobID;
    let record: JobRecord = accepted;
    const save = async (change: Partial<JobRecord>): Promise<JobRecord> => {
      record = { ...record, ...change, updated: new Date().toISOString() };
      if (!this.dismissed.has(id)) await this.store.put(record);
      return record;
    };
    try {
      if (this.dismissed.has(id)) return { ...record, status: 'dismissed' };
      await save({ status: 'running', started: new Date().toISOString(), progress: 1 });
      const dir = this.store.resultDir(id);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      let lastWrite = Promise.resolve();
      const result = await prepared.run({
        dir,
        progress: (percent) => {
          const progress = Math.max(1, Math.min(99, Math.round(percent)));
          lastWrite = lastWrite.then(() => save({ progress }).then(() => undefined)).catch(() => undefined);
        },
      });
      await lastWrite;
      const tooLarge = (result.files ?? []).find((file) => file.bytes > this.settings.maxOutputBytes);
      if (tooLarge) {
        await rm(dir, { recursive: true, force: true });
        throw new HttpProblem(413, 'Content Too Large', `the result is ${tooLarge.bytes} bytes; at most ${this.settings.maxOutputBytes} are kept`);
      }
      const finished = new Date();
      return await save({
        status: 'successful',
        message: 'done',
        progress: 100,
        finished: finished.toISOString(),
        expires: new Date(finished.getTime() + this.settings.expireMs).toISOString(),
        ...(result.outputs ? { outputs: result.outputs } : {}),
        ...(result.files ? { files: result.files } : {}),
      });
    } catch (error) {
      const failed = failureOf(error);
      this.failures.set(id, failed);
      const finished = new Date();
      await rm(this.store.resultDir(id), { recursive: true, force: true });
      return await save({
        status: 'failed',
        message: failed.message,
        finished: finished.toISOString(),
        expires: new Date(finished.getTime() + this.settings.expireMs).toISOString(),
      });
    } finally {
      this.release();
      if (this.dismissed.has(id)) await rm(this.store.resultDir(id), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** The reason shown for a failure: a problem's or a budget's message, never an internal one (paths). */
function failureOf(error: unknown): FailedRun {
  if (error instanceof HttpProblem) return { status: error.status, message: error.detail ?? error.title };
  if (error instanceof BudgetExceededError) return { status: error.limit === 'wallMs' ? 503 : 413, message: error.message };
  const name = error instanceof Error ? error.name : 'Error';
  if (name === 'SourceError' || name.endsWith('SourceError')) return { status: 502, message: 'a source could not be read' };
  return { status: 500, message: 'the job failed (internal error; see the server log)' };
}
