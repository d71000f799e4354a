import { readFile } from 'node:fs/promises';

/**
 * Runs one hostile request against a running server and watches the server while it runs:
 * `/health` is asked every `pollMs` and the slowest answer recorded (a request that blocks the
 * event loop shows here), and the server process's resident memory is sampled (pass its pid).
 */
export interface AttackReport<T> {
  readonly result: T;
  /** Wall time of the hostile request. */
  readonly elapsedMs: number;
  /** Slowest `/health` answer while the request ran (0 when none was asked). */
  readonly worstHealthMs: number;
  /** `/health` answers seen while the request ran. */
  readonly healthAnswers: number;
  /** Largest resident memory seen minus the resident memory before, in MiB (0 without a pid). */
  readonly rssGrowthMiB: number;
}

export interface AttackOptions {
  /** pid of the server process, for RSS (omit for a server in this process). */
  readonly pid?: number | undefined;
  readonly pollMs?: number;
}

export async function underAttack<T>(baseUrl: string, attack: () => Promise<T>, options: AttackOptions = {}): Promise<AttackReport<T>> {
  const pollMs = options.pollMs ?? 100;
  const rssBefore = options.pid ? await rssMiB(options.pid) : 0;
  let rssPeak = rssBefore;
  let worstHealthMs = 0;
  let healthAnswers = 0;
  let done = false;
  const watcher = (async () => {
    while (!done) {
      const asked = performance.now();
      const health = await fetch(`${baseUrl}/health`).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      );
      const took = performance.now() - asked;
      if (health !== 0) {
        healthAnswers++;
        worstHealthMs = Math.max(worstHealthMs, took);
      } else worstHealthMs = Math.max(worstHealthMs, Infinity);
      if (options.pid) rssPeak = Math.max(rssPeak, await rssMiB(options.pid));
      if (!done) await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  })();
  const started = performance.now();
  let result: T;
  try {
    result = await attack();
  } finally {
    done = true;
  }
  const elapsedMs = performance.now() - started;
  await watcher;
  if (options.pid) rssPeak = Math.max(rssPeak, await rssMiB(options.pid));
  return { result, elapsedMs, worstHealthMs, healthAnswers, rssGrowthMiB: rssPeak - rssBefore };
}

/** Resident memory of a process in MiB, from /proc. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

/** A response's status and body text, read whole (hostile answers are small or refused). */
export async function statusAndText(response: Response): Promise<{ status: number; text: string; type: string | null }> {
  return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}
