import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonValue } from '../kerchunk/reference.js';

export type JobStatus = 'accepted' | 'running' | 'successful' | 'failed' | 'dismissed';

/** A result file of a job (in the job's directory). */
export interface ResultFile {
  readonly output: string;
  readonly file: string;
  readonly mediaType: string;
  readonly bytes: number;
}

/** Who ran a job on a protected dataset: the principal's subject and the issuer that vouched for it. */
export interface JobOwner {
  readonly subject: string;
  readonly issuer: string;
}

/** Whether the owner of a job is this principal (public jobs have no owner and belong to nobody). */
export const ownedBy = (owner: JobOwner | undefined, principal: JobOwner | undefined): boolean =>
  owner !== undefined && principal !== undefined && owner.subject === principal.subject && owner.issuer === principal.issuer;

/** What a job's JSON file holds. */
export interface JobRecord {
  readonly jobID: string;
  readonly processID: string;
  readonly status: JobStatus;
  readonly message?: string;
  readonly created: string;
  readonly started?: string;
  readonly finished?: string;
  readonly updated: string;
  readonly progress: number;
  /** When the results go (ISO time), once finished. */
  readonly expires?: string;
  /** The process running it (a job of a process that is gone was interrupted). */
  readonly pid: number;
  readonly inputs: JsonValue;
  /** Inline outputs (JSON values). */
  readonly outputs?: { readonly [name: string]: JsonValue };
  readonly files?: readonly ResultFile[];
  /**
   * Set when an input is a protected dataset: only this principal may see the job, its results
   * and its provenance; jobs without an owner are public.
   */
  readonly owner?: JobOwner;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A job id from a URL, or undefined when it cannot be one (no path can come through). */
export function jobId(text: string): string | undefined {
  return ID.test(text) ? text : undefined;
}

export const newJobId = (): string => randomUUID();

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Jobs on disk: `<dir>/<id>.json` (written atomically: temp file, fsync, rename) and results in
 * `<dir>/<id>/`. The files are the truth, so every server process sharing the directory sees
 * every job.
 */
export class JobStore {
  constructor(readonly dir: string) {}

  /**
   * Creates the directory and settles jobs whose process is gone: accepted or running jobs of a
   * stopped server are marked failed with the reason; expired jobs are removed.
   */
  async open(now = new Date()): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const record of await this.list()) {
      if ((record.status === 'running' || record.status === 'accepted') && !alive(record.pid)) {
        await this.put({
          ...record,
          status: 'failed',
          message: `the server stopped while the job was ${record.status === 'running' ? 'running' : 'waiting'}; submit it again`,
          finished: now.toISOString(),
          updated: now.toISOString(),
        });
      }
    }
    await this.expire(now);
  }

  resultDir(id: string): string {
    return join(this.dir, id);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    if (!jobId(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as JobRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  async list(): Promise<JobRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: JobRecord[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const record = await this.get(name.slice(0, -5));
      if (record) records.push(record);
    }
    return records.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  async put(record: JobRecord): Promise<void> {
    if (!jobId(record.jobID)) throw new Error('bad job id');
    const target = join(this.dir, `${record.jobID}.json`);
    const temp = join(this.dir, `.${record.jobID}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  }

  /** Removes a job and its results. */
  async remove(id: string): Promise<void> {
    if (!jobId(id)) return;
    await rm(join(this.dir, id), { recursive: true, force: true });
    await rm(join(this.dir, `${id}.json`), { force: true });
  }

  /** Removes finished jobs past their expiry. */
  async expire(now = new Date()): Promise<number> {
    let removed = 0;
    for (const record of await this.list()) {
      if (record.expires && record.expires <= now.toISOString()) {
        await this.remove(record.jobID);
        removed += 1;
      }
    }
    return removed;
  }

  async fileSize(path: string): Promise<number> {
    return (await stat(path)).size;
  }
}
