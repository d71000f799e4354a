import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../server/config.js';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { repoRoot, spawnServer } from '../helpers/server.js';

/**
 * OGC API – Processes with Debian's owslib and requests: list, describe, execute echo and subset
 * sync and async, fetch results; the NetCDF result equals xarray's own subset of the source
 * files; hostile requests; a server killed while jobs run leaves them failed with a reason.
 */
const catalog = join(repoRoot, 'demo', 'catalog.yaml');
let server: RunningServer;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'strato-processes-'));
  const config = readConfig({ ...process.env, STRATO_JOB_DIR: join(work, 'jobs'), STRATO_JOB_MAX_OUTPUT_MB: '3' });
  server = await startServer({ catalog, port: 0, host: '127.0.0.1', logger: createLogger('silent'), config });
});
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Report {
  problems: string[];
  process_ids: string[];
  landing_rels: string[];
  subset_inputs: string[];
  subset_outputs: string[];
  conformance: string[];
  echo_sync: { status: number; body: Record<string, unknown> };
  echo_async: { status: number; location: string; applied: string; final: string; results: Record<string, unknown> };
  subsets: Array<Record<string, unknown>>;
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('OGC API – Processes', () => {
  it('owslib lists and describes; echo and subset run sync and async; the NetCDF equals xarray’s subset', async () => {
    const result = await runPython('test/interop/check_processes.py', [server.url, work, join(repoRoot, 'demo', 'data')], 300_000);
    expect(result.code, result.stderr).toBe(0);
    const report = lastJsonLine<Report>(result.stdout);
    expect(report.problems).toEqual([]);
    expect(report.process_ids).toEqual(['echo', 'subset']);
    expect(report.landing_rels).toEqual(expect.arrayContaining(['service-desc', 'conformance', 'http://www.opengis.net/def/rel/ogc/1.0/processes']));
    expect(report.subset_inputs).toEqual(['bbox', 'dataset', 'datetime', 'derive', 'variables']);
    expect(report.subset_outputs).toEqual(['result']);
    expect(report.conformance).toContain('http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core');
    expect(report.conformance).toContain('https://api.stacspec.org/v1.0.0/core');
    expect(report.echo_sync).toEqual({
      status: 200,
      body: { stringOutput: 'hello', doubleOutput: 1.5, arrayOutput: [1, 2, 3], complexObjectOutput: { value: { a: 1 }, mediaType: 'application/json' } },
    });
    expect(report.echo_async).toMatchObject({ status: 201, applied: 'respond-async', final: 'successful' });
    expect(report.echo_async.location).toMatch(/\/jobs\/[0-9a-f-]{36}$/);
    expect(report.echo_async.results.stringOutput).toBe('hello');
    expect(report.subsets).toHaveLength(4);
    for (const subset of report.subsets) {
      expect((subset.shape as number[]).every((n) => n > 1)).toBe(true);
      expect(subset, JSON.stringify(subset)).toMatchObject({
        same_values: true,
        same_coords: true,
        attrs_kept: true,
        packed_dtype_kept: true,
        decoded_equal: true,
        ncdump: true,
        cdo: true,
      });
    }
  });

  it('the Zarr output: a store below the result link until the job expires, equal to the NetCDF result', async () => {
    const inputs = { dataset: 'pr-daily', variables: ['pr'], bbox: [10, -40, 60, 20], datetime: '2001-03-01T00:00:00Z/2002-01-15T00:00:00Z' };
    const created = await post('/processes/subset/execution', { inputs, outputs: { result: { format: { mediaType: 'application/vnd+zarr' } } } }, { prefer: 'respond-async' });
    expect(created.status).toBe(201);
    const location = created.headers.get('location') as string;
    let status: { status: string; expires?: string } = await created.json();
    while (status.status === 'accepted' || status.status === 'running') status = await (await fetch(location)).json();
    expect(status.status).toBe('successful');
    expect(Date.parse(status.expires ?? '')).toBeGreaterThan(Date.now());
    const results = (await (await fetch(`${location}/results`)).json()) as { result: { href: string; type: string } };
    expect(results.result.type).toBe('application/vnd+zarr');
    const sync = await post('/processes/subset/execution', { inputs });
    const nc = join(work, 'zarr-compare.nc');
    await writeFile(nc, Buffer.from(await sync.arrayBuffer()));
    const result = await runPython('test/interop/check_subset_zarr.py', [results.result.href, nc]);
    expect(result.code, result.stderr).toBe(0);
    expect(lastJsonLine(result.stdout)).toMatchObject({ same: true, same_attrs: true, dtypes: { pr: 'int16' }, decoded_time: '2001-03-01' });
    for (const key of ['..%2F..%2Fjob.json', '.zmetadata%00', 'pr/..%2F..%2F..%2Fx', 'pr/.zarray/x']) {
      expect((await fetch(`${results.result.href}/${key}`)).status).toBe(404);
    }
    expect((await post('/processes/subset/execution', { inputs, outputs: { result: { format: { mediaType: 'text/html' } } } })).status).toBe(400);
  });

  it('hostile requests: prototype names, deep JSON, huge boxes, traversal ids, unknown things → problems', async () => {
    const bad = async (response: Response, status: number) => {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.text()).not.toContain(repoRoot);
    };
    await bad(await post('/processes/echo/execution', '{"inputs": {"__proto__": {"polluted": 1}}}'), 400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await bad(await post('/processes/subset/execution', { inputs: { dataset: 'pr-daily', constructor: 1 } }), 400);
    await bad(await post('/processes/echo/execution', `{"inputs": {"arrayInput": ${'['.repeat(5000)}${']'.repeat(5000)}}}`), 400);
    await bad(await post('/processes/echo/execution', '{"inputs": '), 400);
    await bad(await post('/processes/subset/execution', { inputs: { dataset: 'pr-daily', bbox: [-1e308, -90, 1e308, 90] } }), 400);
    await bad(await post('/processes/subset/execution', { inputs: { dataset: 'pr-daily', datetime: '0001-01-01T00:00:00Z/9999-12-31T00:00:00Z' } }), 413); // whole archive (3.9 MB) > 3 MiB limit
    await bad(await post('/processes/subset/execution', { inputs: { dataset: 'pr-daily', datetime: '1800-01-01/1800-02-01' } }), 400);
    await bad(await post('/processes/subset/execution', { inputs: { dataset: 'pr-daily', datetime: '2001-01-01T00:00:00+05:00/..' } }), 400);
    await bad(await post('/processes/subset/execution', { inputs: { dataset: '../../etc/passwd' } }), 404);
    for (const dataset of ['__proto__', 'constructor', 'hasOwnProperty']) await bad(await post('/processes/subset/execution', { inputs: { dataset } }), 404);
    await bad(await post('/processes/subset/execution', { inputs: { dataset: 'pr-daily', variables: ['__proto__'] } }), 400);
    await bad(await post('/processes/subset/execution', { inputs: { dataset: 'pr-daily', variables: ['nope'] } }), 400);
    await bad(await post('/processes/nope/execution', {}), 404);
    await bad(await fetch(`${server.url}/jobs/..%2F..%2Fetc%2Fpasswd`), 404);
    await bad(await fetch(`${server.url}/jobs/00000000-0000-0000-0000-000000000000/results`), 404);
    await bad(await fetch(`${server.url}/processes/__proto__`), 404);
    await bad(await fetch(`${server.url}/jobs?limit=1e9`), 400);
    await bad(await fetch(`${server.url}/jobs?limit=__proto__`), 400);
  });

  it('job list, status with progress, dismiss removes the job and its files', async () => {
    const created = await post('/processes/subset/execution', { inputs: { dataset: 'tas-daily', bbox: [0, 0, 20, 20] } }, { prefer: 'respond-async' });
    expect(created.status).toBe(201);
    const location = created.headers.get('location') as string;
    let status: { status: string; progress: number; jobID: string; type: string } = await created.json();
    expect(status.type).toBe('process');
    while (status.status === 'accepted' || status.status === 'running') status = await (await fetch(location)).json();
    expect(status).toMatchObject({ status: 'successful', progress: 100 });
    const checked = await runPython('test/interop/check_provenance.py', [server.url, `${location}/provenance`]);
    expect(checked.code, checked.stderr).toBe(0);
    const prov = lastJsonLine<{ problems: string[]; datasets: Record<string, { sources: Array<{ location: string }>; table_reached: boolean }> }>(checked.stdout);
    expect(prov.problems).toEqual([]);
    expect(prov.datasets[`${location}/provenance`]).toMatchObject({ table_reached: true, sources: [{ location: 'data/tas_day_2001.nc' }, { location: 'data/tas_day_2002.nc' }] });
    const list = (await (await fetch(`${server.url}/jobs`)).json()) as { jobs: Array<{ jobID: string }> };
    expect(list.jobs.map((j) => j.jobID)).toContain(status.jobID);
    const dismissed = await fetch(location, { method: 'DELETE' });
    expect(((await dismissed.json()) as { status: string }).status).toBe('dismissed');
    expect((await fetch(location)).status).toBe(404);
    expect((await readdir(join(work, 'jobs'))).filter((name) => name.startsWith(status.jobID))).toEqual([]);
  });

  it('subset of a derived dataset (a monthly mean) equals the same selection of its own view', async () => {
    const dir = join(work, 'derived');
    await mkdir(dir);
    const derivedCatalog = join(dir, 'catalog.yaml');
    await writeFile(
      derivedCatalog,
      [
        'datasets:',
        `  tas-daily: {refs: ${JSON.stringify(join(repoRoot, 'demo', 'refs', 'tas-daily.json'))}}`,
        '  tas-monthly: {derive: {from: tas-daily, resample: {time: month}, reduce: mean}}',
        `sources: {allow: [${JSON.stringify(join(repoRoot, 'demo', 'data'))}]}`,
        '',
      ].join('\n'),
    );
    const config = readConfig({ ...process.env, STRATO_JOB_DIR: join(dir, 'jobs') });
    const derived = await startServer({ catalog: derivedCatalog, port: 0, host: '127.0.0.1', logger: createLogger('silent'), config });
    try {
      const response = await fetch(`${derived.url}/processes/subset/execution`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { dataset: 'tas-monthly', bbox: [0, 0, 50, 50], datetime: '2001-03-01T00:00:00Z/2001-08-01T00:00:00Z' } }),
      });
      expect(response.status).toBe(200);
      const nc = join(dir, 'monthly.nc');
      await writeFile(nc, Buffer.from(await response.arrayBuffer()));
      const result = await runPython('test/interop/check_subset_derived.py', [derived.url, 'tas-monthly', nc, '0', '0', '50', '50', '2001-03-01', '2001-08-01']);
      expect(result.code, result.stderr).toBe(0);
      expect(lastJsonLine(result.stdout)).toMatchObject({ dims: { time: 6, lat: 11, lon: 11 }, same: true, same_coords: true, fill_dtype: 'float32' });
    } finally {
      await derived.close();
    }
  });

  it('subset with derive operations: a monthly climatology of a box equals xarray’s groupby on the files', async () => {
    const response = await post('/processes/subset/execution', {
      inputs: { dataset: 'tas-daily', variables: ['tas'], bbox: [0, 0, 50, 50], derive: { groupby: 'time.month', reduce: 'mean' } },
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const nc = join(work, 'climatology.nc');
    await writeFile(nc, Buffer.from(await response.arrayBuffer()));
    const result = await runPython('test/interop/check_subset_derive.py', [nc, join(repoRoot, 'demo', 'data', 'tas_day_200[12].nc'), '0', '0', '50', '50']);
    expect(result.code, result.stderr).toBe(0);
    const report = lastJsonLine<{ shape: number[]; expected_shape: number[]; max_abs_diff: number; cell_methods: string }>(result.stdout);
    expect(report.shape).toEqual(report.expected_shape);
    expect(report.max_abs_diff).toBeLessThan(1e-3); // float32 sums in a different order
    expect(report.cell_methods).toContain('time: mean within years time: mean over years');
    for (const derive of [{ from: 'pr-daily' }, { reduce: '__proto__' }, { groupby: 'time.__proto__' }, [1], 'mean']) {
      const refused = await post('/processes/subset/execution', { inputs: { dataset: 'tas-daily', derive } });
      expect(refused.status).toBe(400);
    }
  });

  it('a server killed while jobs run or wait: after the restart they are failed with a reason, none stuck', async () => {
    const jobs = join(work, 'restart-jobs');
    const env = { STRATO_JOB_DIR: jobs, STRATO_JOB_CONCURRENCY: '1', STRATO_JOB_QUEUE: '32' };
    const first = await spawnServer(catalog, ['--log-level', 'warn'], env);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 8; i += 1) {
        const response = await fetch(`${first.url}/processes/subset/execution`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'respond-async' },
          body: JSON.stringify({ inputs: { dataset: 'pr-daily' } }),
        });
        expect(response.status).toBe(201);
        ids.push(((await response.json()) as { jobID: string }).jobID);
      }
    } finally {
      first.process.kill('SIGKILL');
      await new Promise((resolve) => first.process.once('exit', resolve));
    }
    const second = await spawnServer(catalog, ['--log-level', 'warn'], env);
    try {
      const statuses = await Promise.all(ids.map(async (id) => (await (await fetch(`${second.url}/jobs/${id}`)).json()) as { status: string; message?: string }));
      for (const status of statuses) expect(['successful', 'failed']).toContain(status.status);
      const failed = statuses.filter((s) => s.status === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      for (const status of failed) expect(status.message).toMatch(/server stopped while the job was (running|waiting)/);
    } finally {
      await second.stop();
    }
  });
});
