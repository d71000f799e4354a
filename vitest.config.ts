import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/*
 * Three tiers, one vitest project each (`npm run test:unit`, `test:integration`, `test:slow`;
 * `npm test` runs all three):
 *
 * - unit: no servers, no spawned processes, no Python, no network listeners (worker threads and
 *   temporary files are fine). Under a minute on two cores.
 * - integration: a real server in this process or the built CLI spawned, local listeners (fake
 *   http/S3 origins), spawned node processes, fixtures made by Debian's python3; no external
 *   clients reading from strato.
 * - slow: interop (Python, GDAL, cdo, nginx as clients), browser (Chromium), load, faults, fuzz,
 *   adversarial, bench.
 *
 * The rule: test/architecture/ is unit, test/integration/ integration, the rest of test/ and
 * bench/ slow; a test beside its module is unit unless its file name (or its last folder and file
 * name) is listed below.
 * Names, not paths, so modules can move between folders without changing their tier. A unit test
 * that starts a server, a process, a listener or Python fails the configuration (see below).
 */

/** Beside-module tests that run external clients (file name or folder/name → why). */
const SLOW_BESIDE: Readonly<Record<string, string>> = {
  'numcodecs-interop.test.ts': "Debian's numcodecs and h5py write and read the frames",
  'combine.test.ts': 'xarray opens the combined dataset from an in-process server',
};

/** Beside-module tests that need a server, a process, a listener or Python-made fixtures. */
const INTEGRATION_BESIDE: Readonly<Record<string, string>> = {
  'array-reader.test.ts': 'NetCDF4 fixtures made by python3, values dumped by python3',
  'catalog-store.test.ts': 'spawns a process to get a dead pid',
  'harden-process.test.ts': 'spawns node on the built module',
  'harmonize-dimensions.test.ts': 'NetCDF4 fixtures made by python3',
  'netcdf3.test.ts': 'NetCDF fixtures made by python3',
  'scan-file.test.ts': 'NetCDF fixtures made by python3',
  'scan-hdf5.test.ts': 'HDF5 fixtures made by python3',
  'http-source.test.ts': 'a fake http origin on a local port',
  's3-source.test.ts': 'a fake S3 endpoint on a local port',
  'source-observer.test.ts': 'a fake http origin on a local port',
  'sources.test.ts': 'a fake http origin on a local port',
  'whole-objects.test.ts': 'a fake http origin on a local port',
  'warm-start.test.ts': 'serves a made-up dataset on a loopback port, starts a server',
  'fast-store.test.ts': 'the fast lane and the app side by side on loopback ports',
  'metrics/access.test.ts': 'a real server on 0.0.0.0',
  'metrics.test.ts': 'a real server in this process',
  'parquet-metrics.test.ts': 'the built CLI on python3-made fixtures',
  'processed-view.test.ts': 'a registry of python3-made fixtures',
};

/** Folders of test/ that are not slow (a new folder there is slow until it is listed here). */
const UNIT_DIRS = ['test/architecture'];
const INTEGRATION_DIRS = ['test/integration'];

const byName = (names: Readonly<Record<string, string>>) => Object.keys(names).map((name) => `**/${name}`);
const under = (dirs: readonly string[]) => dirs.map((dir) => `${dir}/**/*.test.ts`);
/** The folders of test/ other than these. */
const testDirsBut = (dirs: readonly string[]) => `test/!(${dirs.map((dir) => dir.slice('test/'.length)).join('|')})/**`;
/**
 * Makes the NetCDF4 fixtures once per run for the tiers that use them (`makeFixtures`), never for
 * unit (no Python there).
 */
const FIXTURES_SETUP = 'test/global-setup.ts';
const IGNORED = [...configDefaults.exclude, '.tmp/**', 'bench/.build/**', 'bench/out/**'];

/** What a unit test may not do, by the names it would use for it. */
const NOT_UNIT: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(spawnServer|startInProcess|startServer|useFixtureServer)\b/, 'a server'],
  [/\b(useFixtureRegistry|makeFixtures|runPython)\b|python3/, 'Python'],
  [/node:child_process/, 'a process'],
  [/\bcreateServer\b|\.listen\(/, 'a listener'],
  [/playwright|autocannon|nginx/, 'a browser, a load generator or nginx'],
];

function listed(path: string, names: Readonly<Record<string, string>>): boolean {
  return Object.keys(names).some((name) => path === name || path.endsWith(`/${name}`));
}

function tierOf(path: string): 'unit' | 'integration' | 'slow' {
  const inside = (dirs: readonly string[]) => dirs.some((dir) => path.startsWith(`${dir}/`));
  if (inside(UNIT_DIRS)) return 'unit';
  if (inside(INTEGRATION_DIRS)) return 'integration';
  if (path.startsWith('test/') || path.startsWith('bench/') || listed(path, SLOW_BESIDE)) return 'slow';
  return listed(path, INTEGRATION_BESIDE) ? 'integration' : 'unit';
}

/** The test files under `dir` (relative to the root), without dependencies, outputs and bench data. */
function testFiles(root: string, dir = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory() && !/^(node_modules|dist|\.tmp|\.git|bench\/\.build|bench\/out)$/.test(path)) files.push(...testFiles(root, path));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

/** Refuses to run when a unit-tier file does what only the other tiers may. */
function checkUnitTier(root: string): void {
  const wrong: string[] = [];
  for (const file of testFiles(root).filter((path) => tierOf(path) === 'unit')) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const [pattern, what] of NOT_UNIT) if (pattern.test(text)) wrong.push(`${file} uses ${what}`);
  }
  if (wrong.length > 0) {
    throw new Error(`unit tests may not use servers, processes, listeners or Python; list these in vitest.config.ts (INTEGRATION_BESIDE or SLOW_BESIDE):\n  ${wrong.join('\n  ')}`);
  }
}

checkUnitTier(fileURLToPath(new URL('.', import.meta.url)));

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // servers started by tests have no disk tier of processed chunks unless a test turns it on
    // (the default one is shared by every run on the machine: a test would find chunks another left)
    env: { STRATO_DISK_CACHE_MB: '0' },
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...IGNORED, testDirsBut(UNIT_DIRS), 'bench/**', ...byName(INTEGRATION_BESIDE), ...byName(SLOW_BESIDE)],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          globalSetup: [FIXTURES_SETUP],
          include: [...under(INTEGRATION_DIRS), ...byName(INTEGRATION_BESIDE)],
          exclude: [...IGNORED, testDirsBut(INTEGRATION_DIRS), 'bench/**', ...byName(SLOW_BESIDE)],
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          globalSetup: [FIXTURES_SETUP],
          include: ['test/**/*.test.ts', 'bench/**/*.test.ts', ...byName(SLOW_BESIDE)],
          exclude: [...IGNORED, ...[...UNIT_DIRS, ...INTEGRATION_DIRS].map((dir) => `${dir}/**`)],
        },
      },
    ],
  },
});
