import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { readmeWalkthrough, runLine, startServeLine, substitute } from '../helpers/readme-walkthrough.js';

/**
 * The README's walkthrough from your own NetCDF files to a server, run line by line as written
 * (`npx strato ingest`, `npx strato serve`), on the fixture series (three files along time); only
 * where the files are, where the folder goes and the port are substituted. The server's answers
 * are checked over HTTP; test/interop/readme-walkthrough.test.ts runs the README's xarray line.
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

describe('README walkthrough: files → ingest → serve', () => {
  // The first `npx strato` in a checkout links the project into npm's npx cache (close to a
  // minute on two cores); later ones take seconds.
  it('every line runs as written and the dataset is served', { timeout: 300_000 }, async () => {
    const { shell } = await readmeWalkthrough();
    expect(shell.some((line) => line.startsWith('npx strato ingest '))).toBe(true);
    const serveLine = shell.find((line) => line.startsWith('npx strato serve '));
    expect(serveLine).toBeDefined();
    const substitutions = { files: join(fixtures.dir, 'data', 'series_*.nc'), archive: join(work, 'my-archive') };
    for (const line of shell.filter((l) => l !== serveLine)) {
      const result = await runLine(substitute(line, substitutions));
      expect(result.code, `${line}\n${result.stderr}`).toBe(0);
      expect(result.stderr, line).not.toMatch(/npm warn/i);
    }
    expect((await readdir(join(work, 'my-archive', 'data'))).sort()).toEqual(['series_0.nc', 'series_1.nc', 'series_2.nc']);
    const table = JSON.parse(await readFile(join(work, 'my-archive', 'refs', 'my-run.json'), 'utf8')) as { refs: Record<string, unknown> };
    const urls = new Set(
      Object.values(table.refs)
        .filter(Array.isArray)
        .map((ref) => (ref as string[])[0]),
    );
    // Absolute paths of the copied files (small chunks of some files are inlined).
    expect(urls.size).toBeGreaterThan(0);
    for (const url of urls) expect([0, 1, 2].map((i) => join(work, 'my-archive', 'data', `series_${i}.nc`))).toContain(url);

    const server = await startServeLine(substitute(serveLine as string, substitutions));
    try {
      const zmetadata = (await (await fetch(`${server.url}/datasets/my-run/kerchunk/.zmetadata`)).json()) as { metadata: Record<string, { shape?: number[] }> };
      // The three files, one after the other along time: the same length as ingest's own table says.
      const time = zmetadata.metadata['time/.zarray'];
      const ingested = JSON.parse(table.refs['time/.zarray'] as string) as { shape: number[] };
      expect(time?.shape).toEqual(ingested.shape);
      expect(time?.shape?.[0]).toBeGreaterThan(3);
      expect((await fetch(`${server.url}/datasets/my-run/`)).status).toBe(200);
      expect((await fetch(`${server.url}/datasets/my-run/zarr/.zmetadata`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
