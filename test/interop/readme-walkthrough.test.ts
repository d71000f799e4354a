import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { lastJsonLine, PYTHON } from '../helpers/python.js';
import { readmeWalkthrough, runLine, startServeLine, substitute } from '../helpers/readme-walkthrough.js';

const run = promisify(execFile);

/**
 * The README's walkthrough end to end with its own xarray line (Debian's xarray): the shell lines
 * as written (files, folder and port substituted), then the README's Python block against the
 * server, whose dataset must equal the three files opened by xarray directly.
 */
let fixtures: Fixtures;
let work: string;
beforeAll(async () => {
  fixtures = await makeFixtures();
  work = await mkdtemp(join(tmpdir(), 'strato-readme-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('README walkthrough with xarray', () => {
  it("the README's xarray line opens the ingested files, equal to the files", { timeout: 300_000 }, async () => {
    const { shell, python } = await readmeWalkthrough();
    const serveLine = shell.find((line) => line.startsWith('npx strato serve ')) as string;
    const substitutions = { files: join(fixtures.dir, 'data', 'series_*.nc'), archive: join(work, 'my-archive') };
    for (const line of shell.filter((l) => l !== serveLine)) {
      const result = await runLine(substitute(line, substitutions));
      expect(result.code, `${line}\n${result.stderr}`).toBe(0);
    }
    const server = await startServeLine(substitute(serveLine, substitutions));
    try {
      expect(python).toContain('http://127.0.0.1:8000/');
      const check = [
        python.replaceAll('http://127.0.0.1:8000', server.url),
        'import glob, json, sys',
        'files = sorted(glob.glob(sys.argv[1]))',
        'src = xr.open_mfdataset(files, combine="nested", concat_dim="time", data_vars="minimal", coords="minimal", compat="override")',
        'names = sorted(src.data_vars)',
        'xr.testing.assert_identical(ds[names].load(), src[names].load())',
        'print(json.dumps({"variables": names, "time": int(ds.sizes["time"])}))',
      ].join('\n');
      let stdout: string;
      try {
        ({ stdout } = await run(PYTHON, ['-c', check, join(work, 'my-archive', 'data', 'series_*.nc')], {
          timeout: 120_000,
          env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
        }));
      } catch (error) {
        throw new Error(`python failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
      }
      const seen = lastJsonLine<{ variables: string[]; time: number }>(stdout);
      expect(seen.variables.length).toBeGreaterThan(0);
      expect(seen.time).toBeGreaterThan(3);
    } finally {
      await server.stop();
    }
  });
});
