import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { repoRoot, type SpawnedServer, spawnServer } from '../helpers/server.js';

/**
 * netCDF-C's DAP2 clients (Debian 12: ncdump 4.9.0, cdo 2.1.1, netCDF4-python) read strato's
 * `/datasets/{id}/opendap` and must see what they see in the NetCDF4 files: the same header in
 * substance, the same values, the same cdo results. Malformed constraints and oversized requests
 * get DAP errors the clients print, and the server keeps serving.
 */
interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 120_000, maxBuffer: 64 * 1024 * 1024, ...(cwd ? { cwd } : {}) }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * `ncdump -h` output as a sorted list of lines, with what DAP2 cannot say about a file written
 * the way netCDF-C presents it over DAP2: no UNLIMITED (sizes only), NC_STRING attributes as
 * text, int64 as double, unsigned integers as the signed type of the same size (bits kept).
 */
function fileHeader(cdl: string, dimensionSizes: Record<string, number> = {}): string[] {
  return headerLines(cdl)
    .map((line) => {
      let out = line.replace(/^(\w+) = UNLIMITED ; \/\/ \((\d+) currently\)$/, (_, name: string, size: string) => `${name} = ${dimensionSizes[name] ?? size} ;`);
      const fixed = /^(\w+) = (\d+) ;$/.exec(out);
      if (fixed?.[1] && dimensionSizes[fixed[1]] !== undefined) out = `${fixed[1]} = ${dimensionSizes[fixed[1]]} ;`;
      out = out.replace(/^string (\w*:)/, '$1');
      out = out
        .replace(/^(u?int64) /, 'double ')
        .replace(/^ushort /, 'short ')
        .replace(/^uint /, 'int ')
        .replace(/^ubyte /, 'byte ');
      out = out.replace(/(-?\d+)LL\b/g, '$1.');
      out = out.replace(/(\d+)US\b/g, (_, n: string) => `${(Number(n) << 16) >> 16}s`);
      out = out.replace(/(\d+)UB\b/g, (_, n: string) => `${(Number(n) << 24) >> 24}b`);
      return out;
    })
    .sort();
}

/** Default fills netCDF-C applies with or without the attribute. */
const DEFAULT_FILLS = new Set(['-32767s', '-2147483647', '-127b', '9.96921e+36f', '9.96920996838687e+36']);

/** `ncdump -h URL` as a sorted list of lines, without the attributes strato adds for DAP2 clients. */
function urlHeader(cdl: string, fileLines: readonly string[]): string[] {
  return headerLines(cdl).filter((line) => {
    if (/:(_Unsigned|strato_dap_conversion) = /.test(line)) return false;
    const fill = /^(\w+):_FillValue = (\S+) ;$/.exec(line);
    return !(fill && DEFAULT_FILLS.has(fill[2] as string) && !fileLines.includes(line));
  });
}

function headerLines(cdl: string): string[] {
  const lines: string[] = [];
  for (const raw of cdl.split('\n')) {
    if (raw.startsWith('\t\t\t') && lines.length > 0) lines[lines.length - 1] += ` ${raw.trim()}`;
    else lines.push(raw.trim());
  }
  return lines.filter((l) => l && !/^netcdf \S+ \{$/.test(l) && !['}', 'dimensions:', 'variables:', '// global attributes:'].includes(l)).sort();
}

/** The `data:` part of `ncdump -v VAR`, which prints exactly the one variable. */
function dataSection(cdl: string): string {
  const start = cdl.indexOf('\ndata:\n');
  return start < 0 ? '' : cdl.slice(start);
}

/** Lines of opendap request logs: [response, constraint]. */
function requestsLogged(stderr: string): Array<[string, string]> {
  const requests: Array<[string, string]> = [];
  for (const line of stderr.split('\n')) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const entry = JSON.parse(line.slice(start)) as { msg?: string; response?: string; constraint?: string };
      if (entry.msg === 'opendap request') requests.push([entry.response ?? '', decodeURIComponent(entry.constraint ?? '')]);
    } catch {
      // not a log line
    }
  }
  return requests;
}

let fixtures: Fixtures;
let server: SpawnedServer;
let work: string;
const url = (id: string) => `${server.url}/datasets/${id}/opendap`;
const fileOf = (id: string, index = 0) => fixtures.datasets.find((d) => d.id === id)?.files[index] as string;

beforeAll(async () => {
  fixtures = await makeFixtures();
  work = await mkdtemp(join(tmpdir(), 'strato-opendap-'));
  server = await spawnServer(fixtures.catalog, ['--log-level', 'debug']);
});
afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('ncdump over /opendap', () => {
  const single = ['basic', 'templated', 'generated', 'basic-parquet'];
  for (const id of single) {
    it(`ncdump -h of ${id} says what ncdump -h of its file says`, async () => {
      const [got, want] = await Promise.all([run('ncdump', ['-h', url(id)]), run('ncdump', ['-h', fileOf(id)])]);
      expect(got.code, got.stderr).toBe(0);
      const expected = fileHeader(want.stdout);
      expect(urlHeader(got.stdout, expected)).toEqual(expected);
    });
  }

  it('ncdump -h of the combined dataset says what its first file says, time concatenated', async () => {
    const [got, want] = await Promise.all([run('ncdump', ['-h', url('combined')]), run('ncdump', ['-h', fileOf('combined')])]);
    expect(got.code, got.stderr).toBe(0);
    const expected = fileHeader(want.stdout, { time: 27 });
    expect(urlHeader(got.stdout, expected)).toEqual(expected);
  });

  const variables: Record<string, string[]> = {
    basic: ['tas', 'ps', 'time', 'time_bnds', 'lat', 'height', 'land_class', 'sparse', 'never_written', 'orog'],
    templated: ['ta', 'hus', 'obs_count', 'plev', 'time', 'samples'],
    generated: ['field', 'u10', 'x'],
  };
  for (const [id, names] of Object.entries(variables)) {
    it(`ncdump -v prints the values of ${id} as from the file`, async () => {
      for (const name of names) {
        const [got, want] = await Promise.all([run('ncdump', ['-v', name, url(id)]), run('ncdump', ['-v', name, fileOf(id)])]);
        expect(got.code, got.stderr).toBe(0);
        // ncdump prints unsigned fills as `_` both ways; int64 as double prints the same digits.
        expect(dataSection(got.stdout).replace(/\.(?=[,; ])/g, ''), `${id} ${name}`).toBe(dataSection(want.stdout).replace(/\.(?=[,; ])/g, ''));
      }
    });
  }

  it('ncdump -h asks for .dds and .das; a read asks .dods for Grid arrays (observed)', async () => {
    const before = requestsLogged(server.stderr()).length;
    await run('ncdump', ['-v', 'tas', url('basic')]);
    const requests = requestsLogged(server.stderr()).slice(before);
    const kinds = requests.map(([kind]) => kind);
    expect(kinds).toContain('dds');
    expect(kinds).toContain('das');
    expect(requests.some(([kind, ce]) => kind === 'dods' && ce.split(',').includes('tas.tas'))).toBe(true);
  });
});

describe('netCDF4-python over /opendap', () => {
  const cases: Array<[string, string[]]> = [
    ['basic', []],
    ['templated', []],
    ['generated', []],
    ['combined', ['--combine-dim', 'time']],
    ['combined-parquet', ['--combine-dim', 'time']],
  ];
  for (const [id, extra] of cases) {
    it(`reads ${id} as from the files: attributes, masked/scaled and raw values, hyperslabs`, async () => {
      const files = fixtures.datasets.find((d) => d.id === id)?.files ?? [];
      const result = await runPython('test/interop/check_opendap.py', ['--url', url(id), '--files', ...files, ...extra]);
      const report = lastJsonLine<{ ok: boolean; problems: string[]; variables: number; values: number }>(result.stdout || '{}');
      expect(report.problems, result.stderr).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.variables).toBeGreaterThan(3);
    });
  }
});

describe('constraints in the URL', () => {
  it('netCDF4-python reads a constrained URL (strided hyperslabs on every dimension) as the file slice', async () => {
    const script = [
      'import sys, netCDF4, numpy as np',
      'got = netCDF4.Dataset(sys.argv[1] + "?tas[0:5:10][1:2][0:3:7],lat[1:2]")',
      'want = netCDF4.Dataset(sys.argv[2])',
      'a, b = got["tas"][:], want["tas"][0:11:5, 1:3, 0:8:3]',
      'assert a.shape == b.shape == (3, 2, 3), (a.shape, b.shape)',
      'assert np.array_equal(a, b), (a, b)',
      'assert np.array_equal(got["lat"][:], want["lat"][1:3])',
      'print("ok")',
    ].join('\n');
    const result = await run('/usr/bin/python3', ['-c', script, url('basic'), fileOf('basic')]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('ok');
  });

  it('answers HEAD of .dods with the exact length and no body, and names its version', async () => {
    const head = await fetch(`${url('basic')}.dods?tas.tas[0:1][0:5][0:7]`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const get = await fetch(`${url('basic')}.dods?tas.tas[0:1][0:5][0:7]`);
    const body = new Uint8Array(await get.arrayBuffer());
    expect(Number(head.headers.get('content-length'))).toBe(body.length);
    expect(get.headers.get('content-description')).toBe('dods_data');
    expect(await (await fetch(`${url('basic')}.ver`)).text()).toMatch(/^Core version: DAP\/2\.0\n/);
    expect(await (await fetch(url('basic'))).text()).toMatch(/OPeNDAP/);
  });
});

describe('cdo over /opendap', () => {
  const outputtab = ['-s', '-outputtab,name,date,lon,lat,value', '-sellonlatbox,0,200,-50,50', '-seltimestep,1/3'];

  it.each([
    ['basic', 'tas'],
    ['basic', 'ps'],
    ['combined', 'tas'],
    ['combined', 'pr'],
  ])('cdo -outputtab -sellonlatbox -seltimestep of %s %s equals the file', async (id, name) => {
    const [got, want] = await Promise.all([run('cdo', [...outputtab, `-selname,${name}`, url(id)]), run('cdo', [...outputtab, `-selname,${name}`, fileOf(id)])]);
    expect(got.code, got.stderr).toBe(0);
    expect(want.code, want.stderr).toBe(0);
    expect(got.stdout.split('\n').length).toBeGreaterThan(20);
    expect(got.stdout).toBe(want.stdout);
  });

  it.each([['basic'], ['combined']])('cdo fldmean of %s equals fldmean of the files', async (id) => {
    const files = fixtures.datasets.find((d) => d.id === id)?.files ?? [];
    const fromUrl = join(work, `${id}-url.nc`);
    const fromFile = join(work, `${id}-file.nc`);
    const source = files.length > 1 ? ['-mergetime', ...files] : [files[0] as string];
    const [got, want] = await Promise.all([run('cdo', ['-s', '-O', 'fldmean', url(id), fromUrl]), run('cdo', ['-s', '-O', 'fldmean', ...source, fromFile])]);
    expect(got.code, got.stderr).toBe(0);
    expect(want.code, want.stderr).toBe(0);
    const table = async (file: string) => (await run('cdo', ['-s', 'outputtab,name,date,value', file])).stdout.split('\n').sort();
    const gotTable = await table(fromUrl);
    expect(gotTable.length).toBeGreaterThan(12);
    expect(gotTable).toEqual(await table(fromFile));
  });

  it('netCDF-C prefetches a small dataset whole: one .dods of every variable, Grids as grid.array (observed)', async () => {
    const before = requestsLogged(server.stderr()).length;
    await run('cdo', [...outputtab, '-selname,tas', url('basic')]);
    const constraints = requestsLogged(server.stderr())
      .slice(before)
      .filter(([kind]) => kind === 'dods')
      .map(([, ce]) => ce);
    expect(constraints).toHaveLength(1);
    expect(constraints[0]?.split(',')).toEqual(expect.arrayContaining(['lat', 'lon', 'time', 'tas.tas', 'ps.ps']));
  });
});

describe('the bundled demo over /opendap', () => {
  let demo: SpawnedServer;
  beforeAll(async () => {
    demo = await spawnServer(join(repoRoot, 'demo', 'catalog.yaml'), ['--log-level', 'debug']);
  });
  afterAll(async () => demo?.stop());

  const demoFiles: Record<string, string> = {
    'tas-daily': 'demo/data/tas_day_2001.nc',
    'pr-daily': 'demo/data/pr_day_2001-2002.nc',
  };
  for (const [id, file] of Object.entries(demoFiles)) {
    it(`cdo reads demo ${id} as its file (outputtab of a box, fldmean)`, async () => {
      const path = join(repoRoot, file);
      const demoUrl = `${demo.url}/datasets/${id}/opendap`;
      const box = ['-s', '-outputtab,date,lon,lat,value', '-sellonlatbox,0,30,40,60', '-seltimestep,1/3'];
      const [got, want] = await Promise.all([run('cdo', [...box, demoUrl]), run('cdo', [...box, path])]);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(want.stdout);
      const means = await Promise.all(
        [demoUrl, path].map(async (source, i) => {
          const out = join(work, `${id}-${i}.nc`);
          const made = await run('cdo', ['-s', '-O', 'fldmean', '-seltimestep,1/365', source, out]);
          expect(made.code, made.stderr).toBe(0);
          return (await run('cdo', ['-s', 'outputtab,date,value', out])).stdout;
        }),
      );
      expect(means[0]).toBe(means[1]);
    });
  }

  it('cdo reads a larger dataset one time step at a time, as Grid-array hyperslabs (observed)', async () => {
    const before = requestsLogged(demo.stderr()).length;
    const box = ['-s', '-outputtab,date,lon,lat,value', '-sellonlatbox,0,30,40,60', '-seltimestep,1/3'];
    await run('cdo', [...box, `${demo.url}/datasets/tas-daily/opendap`]);
    const constraints = requestsLogged(demo.stderr())
      .slice(before)
      .filter(([kind]) => kind === 'dods')
      .map(([, ce]) => ce);
    expect(constraints).toEqual(['lat,lon,time,time_bnds', 'tas.tas[0][0:36][0:71]', 'tas.tas[1][0:36][0:71]', 'tas.tas[2][0:36][0:71]']);
  });

  it('ncdump -h of the demo says what the files say', async () => {
    const got = await run('ncdump', ['-h', `${demo.url}/datasets/pr-daily/opendap`]);
    const want = await run('ncdump', ['-h', join(repoRoot, demoFiles['pr-daily'] as string)]);
    const expected = fileHeader(want.stdout);
    expect(urlHeader(got.stdout, expected)).toEqual(expected);
  });
});

describe('DAP errors', () => {
  it.each([
    ['tas[5:1]', /stop is before start/],
    ['tas[0:1:99]', /outside dimension/],
    ['nosuchvar', /no variable/],
    ['tas[x]', /malformed hyperslab/],
    ['tas%5B0', /unclosed/],
    ['tas&time>3', /selections are not supported/],
  ])('answers the malformed constraint %s with a DAP error', async (ce, message) => {
    const response = await fetch(`${url('basic')}.dods?${ce}`);
    expect([400, 404]).toContain(response.status);
    expect(response.headers.get('content-description')).toBe('dods_error');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const body = await response.text();
    expect(body).toMatch(/^Error \{\n {4}code = \d+;\n {4}message = ".*";\n\};\n$/);
    expect(body).toMatch(message);
  });

  it('lets netCDF-C print the server message of a bad hyperslab, and keeps serving', async () => {
    const bad = await run('ncdump', ['-v', 'tas', `${url('basic')}?tas.tas[0:1:40][0:1:5][0:1:7]`]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/code=400 message=.*outside dimension/);
    const good = await run('ncdump', ['-h', url('basic')]);
    expect(good.code).toBe(0);
    expect((await fetch(`${url('basic')}.dds`)).status).toBe(200);
  });

  describe('with a response size limit', () => {
    let limited: SpawnedServer;
    beforeAll(async () => {
      limited = await spawnServer(fixtures.catalog, ['--log-level', 'warn'], { STRATO_DAP_MAX_BYTES: '2048' });
    });
    afterAll(async () => limited?.stop());

    it('refuses larger requests with a DAP error the client prints, serves smaller ones', async () => {
      const limitedUrl = `${limited.url}/datasets/basic/opendap`;
      const response = await fetch(`${limitedUrl}.dods?tas`);
      expect(response.status).toBe(413);
      expect(await response.text()).toMatch(/limit of 2048 bytes/);
      const small = await fetch(`${limitedUrl}.dods?tas.tas[0][0:2][0:2]`);
      expect(small.status).toBe(200);
      const client = await runPython('test/interop/check_opendap.py', ['--url', limitedUrl, '--files', fileOf('basic')]);
      expect(client.stderr).toMatch(/code=413 message=.*limit of 2048 bytes/);
      expect((await fetch(`${limitedUrl}.das`)).status).toBe(200);
    });
  });
});
