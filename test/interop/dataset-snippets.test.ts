import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaOf } from '../../catalog/dataset-schema.js';
import { snippetsOf } from '../../plugins/dataset-info/dataset-html.js';
import type { RunningServer } from '../../server/serve.js';
import { makeGridCatalog } from '../helpers/grid-fixture.js';
import { lastJsonLine, PYTHON, runPython } from '../helpers/python.js';
import { repoRoot, startInProcess } from '../helpers/server.js';

/**
 * Every snippet of every demo dataset page, taken from the rendered page and run with the client
 * it names: the xarray snippets with Debian's python3 (their `ds` compared with the source NetCDF
 * files: the raw view exact, the processed view within its keepbits and labelled with
 * `_QuantizeBitRoundNumberOfSignificantBits`), the shell snippets (ncdump, cdo, gdalmdiminfo,
 * gdalinfo, gdal_translate, curl) with bash, the intake snippet where intake-xarray is installed,
 * and the quick-look caption's URL. Also GDAL on both store roots, with and without the slash.
 */
interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: 180_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GDAL_HTTP_TIMEOUT: '60', PYTHONDONTWRITEBYTECODE: '1' }, ...(cwd ? { cwd } : {}) },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const ENTITIES: Readonly<Record<string, string>> = { '&#60;': '<', '&#62;': '>', '&#34;': '"', '&#39;': "'", '&#38;': '&' };
const unescape = (html: string): string => html.replace(/&#(60|62|34|39|38);/g, (entity) => ENTITIES[entity] ?? entity);

interface PageSnippet {
  readonly label: string;
  readonly kind: string;
  readonly code: string;
}

function snippetsOfPage(html: string): PageSnippet[] {
  const found: PageSnippet[] = [];
  const pattern = /<div class="snippet" data-label="([^"]*)" data-kind="([^"]*)"><pre><code>([\s\S]*?)<\/code><\/pre><\/div>/g;
  for (const match of html.matchAll(pattern)) found.push({ label: unescape(match[1] ?? ''), kind: match[2] ?? '', code: unescape(match[3] ?? '') });
  return found;
}

/** The demo datasets: their source files, and the mantissa bits their processed view keeps. */
const DEMO: Readonly<Record<string, { sources: string[]; keepbits: Record<string, number> }>> = {
  'tas-daily': { sources: ['demo/data/tas_day_2001.nc', 'demo/data/tas_day_2002.nc'], keepbits: { tas: 10 } },
  'pr-daily': { sources: ['demo/data/pr_day_2001-2002.nc'], keepbits: {} },
};

let server: RunningServer;
let work: string;
const pages = new Map<string, string>();

beforeAll(async () => {
  server = await startInProcess(`${repoRoot}demo/catalog.yaml`);
  work = await mkdtemp(join(tmpdir(), 'strato-snippets-'));
  for (const id of Object.keys(DEMO)) {
    const response = await fetch(`${server.url}/datasets/${id}/`);
    expect(response.status).toBe(200);
    pages.set(id, await response.text());
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const intakeXarray = run(PYTHON, ['-c', 'import intake_xarray']).then((r) => r.code === 0);

for (const [id, demo] of Object.entries(DEMO)) {
  describe(`the page of ${id}`, () => {
    const page = () => pages.get(id) ?? '';

    it('shows the snippets of every client', () => {
      const kinds = snippetsOfPage(page()).map((s) => s.kind);
      expect(kinds.filter((k) => k === 'python')).toHaveLength(2);
      expect(kinds).toContain('intake');
      expect(kinds.filter((k) => k === 'shell').length).toBeGreaterThanOrEqual(3);
      expect(page()).not.toContain('level=0'); // the demo datasets have no vertical dimension
      expect(page()).not.toContain('2001-03-05');
    });

    it('runs both xarray snippets; the values are the source files', async () => {
      for (const snippet of snippetsOfPage(page()).filter((s) => s.kind === 'python')) {
        const file = join(work, `${id}-${snippet.code.includes('/zarr"') ? 'zarr' : 'kerchunk'}.py`);
        await writeFile(file, snippet.code);
        const keepbits = snippet.code.includes('/zarr"') ? demo.keepbits : {};
        const result = await runPython('test/interop/check_snippet_values.py', [file, JSON.stringify(keepbits), ...demo.sources.map((s) => `${repoRoot}${s}`)], 180_000);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain('<xarray.Dataset>'); // the snippet's print(ds)
        const report = lastJsonLine<{ ok: boolean; problems: string[]; values: number }>(result.stdout);
        expect(report.problems).toEqual([]);
        expect(report.values).toBeGreaterThan(1000);
      }
    }, 400_000);

    it('runs every shell snippet line by line (ncdump, cdo, GDAL, curl)', async () => {
      const dir = await mkdtemp(join(work, `${id}-shell-`));
      for (const snippet of snippetsOfPage(page()).filter((s) => s.kind === 'shell')) {
        for (const line of snippet.code.split('\n')) {
          const result = await run('bash', ['-euo', 'pipefail', '-c', line], dir);
          expect(result.code, `${line}\n${result.stderr}`).toBe(0);
          if (line.startsWith('gdalinfo')) expect(result.stdout).toContain('Size is 72, 37');
          if (line.startsWith('gdalmdiminfo')) expect(JSON.parse(result.stdout)).toMatchObject({ type: 'group', driver: 'Zarr' });
          if (line.startsWith('ncdump')) expect(result.stdout).toContain('lat = 37 ;');
        }
      }
      const png = await readFile(join(dir, `${id === 'tas-daily' ? 'tas' : 'pr'}.png`));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect((await stat(join(dir, `${id === 'tas-daily' ? 'tas' : 'pr'}.tif`))).size).toBeGreaterThan(1000);
    }, 400_000);

    it('runs the intake snippet where intake-xarray is installed, and says what it needs', async () => {
      const snippet = snippetsOfPage(page()).find((s) => s.kind === 'intake');
      expect(snippet?.code).toContain('intake-xarray');
      if (!(await intakeXarray)) return; // Debian 12 does not package intake-xarray
      const file = join(work, `${id}-intake.py`);
      await writeFile(file, snippet?.code ?? '');
      const result = await run(PYTHON, [file]);
      expect(result.code, result.stderr).toBe(0);
    }, 200_000);

    it("answers the quick-look caption's URL with a PNG", async () => {
      const caption = /<figcaption>[\s\S]*?<code>(plot\/[^<]+)<\/code>/.exec(page())?.[1];
      expect(caption).toBeDefined();
      const response = await fetch(`${server.url}/datasets/${id}/${unescape(caption ?? '')}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
    });
  });
}

describe('GDAL opens both store roots', () => {
  for (const view of ['zarr', 'zarr/', 'kerchunk', 'kerchunk/']) {
    it(`gdalmdiminfo /vsicurl/…/${view}`, async () => {
      const result = await run('gdalmdiminfo', [`/vsicurl/${server.url}/datasets/tas-daily/${view}`]);
      expect(result.code, result.stderr).toBe(0);
      const info = JSON.parse(result.stdout) as { driver: string; arrays: Record<string, { dimensions: string[] }> };
      expect(info.driver).toBe('Zarr');
      expect(info.arrays.time?.dimensions).toEqual(['/time']);
      if (view.startsWith('zarr')) expect(info.arrays.tas?.dimensions).toEqual(['/time', '/lat', '/lon']);
      // GDAL 3.6 has no shuffle filter: the raw view's NetCDF4 chunks are for the other clients
      else expect(result.stderr).toContain('Filter shuffle not handled');
    }, 120_000);
  }

  it('fsspec lists both roots, and zarr opens the group without consolidated metadata', async () => {
    const result = await run(PYTHON, [
      '-c',
      `import json, sys, fsspec, zarr
out = {}
for view in ("zarr", "kerchunk"):
    url = f"{sys.argv[1]}/datasets/tas-daily/{view}"
    names = sorted(p.rstrip("/").rsplit("/", 1)[1] for p in fsspec.filesystem("http").ls(url + "/", detail=False))
    group = zarr.open_group(fsspec.get_mapper(url), mode="r")
    out[view] = {"ls": names, "arrays": sorted(group.array_keys())}
print(json.dumps(out))`,
      server.url,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const listed = lastJsonLine<Record<string, { ls: string[]; arrays: string[] }>>(result.stdout);
    for (const view of ['zarr', 'kerchunk']) {
      expect(listed[view]?.ls).toEqual(['.zattrs', '.zgroup', '.zmetadata', 'lat', 'lon', 'tas', 'time', 'time_bnds', 'zarr.json']);
      expect(listed[view]?.arrays).toEqual(['lat', 'lon', 'tas', 'time', 'time_bnds']);
    }
  }, 120_000);

  it('gdalmdimtranslate of a subarray of /zarr equals the source file', async () => {
    const dir = await mkdtemp(join(work, 'mdim-'));
    const out = join(dir, 'pr.nc');
    const source = `/vsicurl/${server.url}/datasets/pr-daily/zarr`;
    // GDAL 3.6's `view=[10:14,...]` gives a wrongly sized dimension; a subset by coordinate values works
    const result = await run('gdalmdimtranslate', ['-q', '-of', 'netCDF', '-array', 'pr', '-subset', 'time(10,14)', source, out]);
    expect(result.code, result.stderr).toBe(0);
    const compare = await run(PYTHON, [
      '-c',
      `import sys, numpy as np, netCDF4, xarray as xr
got = netCDF4.Dataset(sys.argv[1]).variables["pr"]
got.set_auto_maskandscale(False)
want = xr.open_dataset(sys.argv[2], mask_and_scale=False, decode_times=False)["pr"][10:14].values
print(np.array_equal(got[:], want), got.shape)`,
      out,
      `${repoRoot}demo/data/pr_day_2001-2002.nc`,
    ]);
    expect(compare.code, compare.stderr).toBe(0);
    expect(compare.stdout.trim()).toBe('True (4, 37, 72)');
  }, 120_000);
});

describe("GDAL's index syntax for a 4-D variable", () => {
  it('gdalinfo opens the source the page shows for u(time, lev, lat, lon), and gdal_translate writes it', async () => {
    const made = await makeGridCatalog();
    const grid = await startInProcess(made.catalog);
    try {
      const dataset = grid.registry.get('grid');
      if (!dataset) throw new Error('no grid dataset');
      const schema = schemaOf(dataset);
      // u as the first map variable: what its page would show
      const only = { ...schema, variables: schema.variables.filter((v) => v.name !== 't') };
      const gdal = snippetsOf(dataset, only, grid.url).find((s) => s.label.startsWith('GDAL'));
      expect(gdal?.code).toContain(':/u:0:0');
      const dir = await mkdtemp(join(work, 'grid-'));
      for (const line of (gdal?.code ?? '').split('\n')) {
        const result = await run('bash', ['-euo', 'pipefail', '-c', line], dir);
        expect(result.code, `${line}\n${result.stderr}`).toBe(0);
        if (line.startsWith('gdalinfo')) expect(result.stdout).toContain('Size is 6, 4');
      }
      expect((await stat(join(dir, 'u.tif'))).size).toBeGreaterThan(0);
    } finally {
      await grid.close();
      await rm(made.dir, { recursive: true, force: true });
    }
  }, 120_000);
});
