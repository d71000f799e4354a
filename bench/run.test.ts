import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../test/helpers/server.js';

const run = promisify(execFile);

/** The text of the report from heading `## title` to the next heading. */
function sectionOf(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}`);
  if (start < 0) return '';
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** The cells of the Markdown table rows whose first cell is `label`. */
function rowsOf(markdown: string, label: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .filter((cells) => cells[0] === label);
}

// `npm run bench` end to end at a tiny size: real nginx, wrk, strato processes and Debian's xarray.
describe('bench/run.sh', () => {
  let scratch: string;
  let results: string;
  let stdout: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'strato-bench-run-'));
    const { npm_lifecycle_event: _, ...inherited } = process.env;
    const env = {
      ...inherited,
      DAYS: '4',
      DURATION: '1s',
      SOAK: '1s',
      CONNECTIONS: '1 4',
      PARQUET_CHUNKS: '250000',
      XARRAY_STEPS: '3',
      BUILD: '0',
      BENCH_DATA: join(scratch, 'data'),
      RESULTS: join(scratch, 'RESULTS.md'),
    };
    ({ stdout } = await run('bash', [`${repoRoot}bench/run.sh`], { env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }));
    results = await readFile(join(scratch, 'RESULTS.md'), 'utf8');
  }, 300_000);
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('prints the report it writes, with the machine and the command', () => {
    expect(stdout.trim()).toBe(results.trim());
    expect(results).toMatch(/^Command: `DAYS=4 DURATION=1s SOAK=1s CONNECTIONS="1 4" .*bash bench\/run\.sh`/m);
    expect(results).toMatch(/^Machine: \d+ cores/m);
  });

  it('measures every contender at every connection count, without errors', () => {
    const load = sectionOf(results, 'Chunk throughput');
    for (const label of ['nginx static', 'strato /kerchunk', 'strato /zarr warm']) {
      const rows = rowsOf(load, label);
      expect(
        rows.map((row) => row[1]),
        label,
      ).toEqual(['1', '4']);
      for (const row of rows) {
        expect(Number(row[2]), `${label} req/s`).toBeGreaterThan(0);
        expect(row[7], `${label} errors`).toBe('0');
        expect(Number(row[9]), `${label} RSS`).toBeGreaterThan(0);
      }
    }
    const [cold] = rowsOf(load, 'strato /zarr cold');
    expect(cold?.[7]).toBe('0');
    const [parquet] = rowsOf(load, 'parquet refs /kerchunk');
    expect(parquet?.[7]).toBe('0');
    expect(results).toContain('## 250,000 parquet chunk references, cold start');
    expect(results).toMatch(/Soak: strato \/zarr warm, 64 connections for 1s: \d+ requests, 0 errors/);
  });

  it('reads the same values with xarray from nginx and the raw view, and nearly the same from the processed view', () => {
    const xarray = sectionOf(results, 'xarray client');
    const means = new Map(['nginx static', 'strato /kerchunk', 'strato /zarr'].map((label) => [label, Number(rowsOf(xarray, label)[0]?.[5])]));
    expect(means.get('nginx static')).toBeGreaterThan(200);
    expect(means.get('strato /kerchunk')).toBe(means.get('nginx static'));
    expect(Math.abs((means.get('strato /zarr') ?? 0) - (means.get('nginx static') ?? 0))).toBeLessThan(0.01);
  });

  it('checks the targets', () => {
    expect(results).toContain('## Targets');
    expect(results).toMatch(/\| raw ≥ 0\.8 × nginx at 16 connections|\| \.zmetadata of the 250,000-chunk parquet/);
  });
});
