import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog-file.js';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { CLI_PATH } from '../helpers/server.js';

/**
 * `strato ingest` under faults: kill -9 at random moments (the catalog parses every time and
 * holds every dataset committed before), and a full disk while the references or the catalog are
 * written (a clear one-line message, exit 1, the old catalog byte for byte intact). The disk is a
 * small tmpfs when this runs as root and may mount one; otherwise RLIMIT_FSIZE on the child
 * (`prlimit --fsize`), whose EFBIG takes the same error path as ENOSPC.
 */
const run = promisify(execFile);
const cli = CLI_PATH;
const KILLS = 12;

let fixtures: Fixtures;
let series: string[];

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  series = [0, 1, 2].map((i) => join(fixtures.dir, 'data', `series_${i}.nc`));
});
afterAll(async () => {
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
});

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function strato(args: string[], prefix: string[] = []): Promise<CliResult> {
  const [command, ...rest] = [...prefix, process.execPath, cli, ...args];
  try {
    const { stdout, stderr } = await run(command!, rest, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const ingestArgs = (catalog: string, id: string, format: 'json' | 'parquet') => ['ingest', '--catalog', catalog, '--id', id, '--format', format, '--concat-dim', 'time', ...series];

describe('strato ingest under kill -9', () => {
  it(`never tears the catalog nor loses a committed dataset (${KILLS} kills)`, { timeout: 240_000 }, async () => {
    const catalog = join(fixtures.dir, 'kill.yaml');
    await writeFile(catalog, '# kill -9 test\ndatasets:\n  basic: {refs: basic.json}\nsources:\n  allow: [data/]\n');
    // How long one ingest takes here, so that the kills land anywhere from start-up to the catalog write.
    const timed = Date.now();
    const first = await strato(ingestArgs(catalog, 'timed', 'json'));
    expect(first.code, first.stderr).toBe(0);
    const ingestMs = Date.now() - timed;
    const committed = new Set(['basic', 'timed']);
    const stats = { ingestMs, kills: 0, finishedBeforeKill: 0, landedAtKill: 0, delaysMs: [] as number[] };
    for (let i = 0; i < KILLS; i++) {
      const id = `killed-${i}`;
      const child = spawn(process.execPath, [cli, ...ingestArgs(catalog, id, i % 2 ? 'parquet' : 'json')], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const delay = Math.floor(ingestMs * (0.05 + Math.random() * 1.0)); // some finish first
      stats.delaysMs.push(delay);
      const early = await Promise.race([exited, sleep(delay).then(() => 'running' as const)]);
      if (early === 'running') {
        child.kill('SIGKILL');
        await exited;
        stats.kills++;
      } else {
        expect(early, `ingest ${id} exited ${early}`).toBe(0);
        stats.finishedBeforeKill++;
        committed.add(id);
      }
      const after = await loadCatalog(catalog); // throws on a torn file
      const ids = new Set(after.datasets.map((d) => d.id));
      for (const previous of committed) expect(ids.has(previous), `${previous} lost after kill ${i}`).toBe(true);
      if (early === 'running' && ids.has(id)) {
        stats.landedAtKill++;
        committed.add(id);
      }
      expect(after.problems, `kill ${i}`).toEqual([]);
    }
    // A last ingest takes over whatever lock a kill left and registers; every committed dataset serves its table.
    const last = await strato(ingestArgs(catalog, 'after-the-kills', 'json'));
    expect(last.code, last.stderr).toBe(0);
    const final = await loadCatalog(catalog);
    for (const id of [...committed, 'after-the-kills'])
      expect(
        final.datasets.some((d) => d.id === id),
        id,
      ).toBe(true);
    const names = await readdir(fixtures.dir);
    expect(names.filter((name) => name.startsWith('.kill.yaml.') || name === 'kill.yaml.lock')).toEqual([]);
    console.log(`ingest kill -9: ${JSON.stringify({ ...stats, datasets: final.datasets.length })}`);
    expect(stats.kills).toBeGreaterThan(KILLS / 3); // the kills did land mid-ingest
  });
});

/** A small file system for `dir` if we can mount one (root, tmpfs allowed), else undefined. */
function mountTmpfs(dir: string, bytes: number): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('strato ingest on a full disk', () => {
  const PAD = 'x'.repeat(120_000);
  const catalogText = (allow: string) => `# disk-full test\n# ${PAD}\ndatasets:\n  basic: {refs: ${join(fixtures.dir, 'basic.json')}}\nsources:\n  allow: [${allow}]\n`;

  /** Size of the references an ingest of the series writes (measured once on a normal disk). */
  const measured = new Map<string, number>();
  async function referenceBytes(format: 'json' | 'parquet'): Promise<number> {
    const known = measured.get(format);
    if (known !== undefined) return known;
    const catalog = join(fixtures.dir, `measure-${format}.yaml`);
    await writeFile(catalog, 'datasets: {}\nsources:\n  allow: [data/]\n');
    const result = await strato(ingestArgs(catalog, `measure-${format}`, format));
    expect(result.code, result.stderr).toBe(0);
    const out = join(fixtures.dir, 'refs', `measure-${format}.${format === 'json' ? 'json' : 'parq'}`);
    let total = 0;
    if (format === 'json') total = (await stat(out)).size;
    else for (const file of await readdir(out, { recursive: true, withFileTypes: true })) if (file.isFile()) total += (await stat(join(file.parentPath, file.name))).size;
    measured.set(format, total);
    return total;
  }

  for (const stage of ['references', 'catalog'] as const) {
    it(`fails cleanly when the disk fills while writing the ${stage}`, { timeout: 120_000 }, async () => {
      const refsBytes = await referenceBytes('json');
      const dir = join(fixtures.dir, `full-${stage}`);
      await mkdir(dir);
      const allow = JSON.stringify(`${join(fixtures.dir, 'data')}/`);
      const before = catalogText(allow);
      const catalog = join(dir, 'catalog.yaml');
      const tmpfs = mountTmpfs(dir, 1024 * 1024);
      let prefix: string[] = [];
      try {
        await writeFile(catalog, before);
        if (tmpfs) {
          // Leave room for the catalog's temp copy but not the references, or for the references but not the catalog.
          const free = Number((await statfs(dir)).bavail) * Number((await statfs(dir)).bsize);
          const room = stage === 'references' ? Math.floor(refsBytes / 2) : refsBytes + 16 * 1024 + Math.floor(before.length / 2);
          await writeFile(join(dir, 'filler'), Buffer.alloc(Math.max(0, free - room)));
        } else {
          // Any file larger than the limit fails with EFBIG: the references (stage 1) or the padded catalog (stage 2).
          const limit = stage === 'references' ? Math.floor(refsBytes / 2) : refsBytes + 1024;
          expect(limit).toBeLessThan(before.length);
          prefix = ['prlimit', `--fsize=${limit}`];
        }
        const result = await strato(ingestArgs(catalog, 'too-big', 'json'), prefix);
        const refsLeft = await readdir(join(dir, 'refs')).catch(() => []);
        console.log(
          `disk full while writing the ${stage} (${tmpfs ? 'tmpfs' : 'prlimit --fsize'}): exit ${result.code}: ${result.stderr.trim().split('\n').at(-1)}; refs/ holds ${JSON.stringify(refsLeft)}`,
        );
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/^strato ingest: .*(ENOSPC|EFBIG|no space|too large)/im);
        expect(result.stderr).toMatch(stage === 'references' ? /cannot write \S*too-big\.json/ : /cannot write \S*catalog\.yaml/); // names the file
        expect(result.stderr).not.toMatch(/\n\s+at /); // one clear line, no stack trace
        expect(await readFile(catalog, 'utf8')).toBe(before);
        const parsed = await loadCatalog(catalog);
        expect(parsed.datasets.map((d) => d.id)).toEqual(['basic']);
        const left = (await readdir(dir)).filter((name) => name !== 'catalog.yaml' && name !== 'filler' && name !== 'refs');
        expect(left, 'temporaries and locks left behind').toEqual([]);
      } finally {
        if (tmpfs) execFileSync('umount', [dir]);
      }
    });
  }
});
