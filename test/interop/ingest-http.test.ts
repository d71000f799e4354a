import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures } from '../helpers/fixtures.js';
import { lastJsonLine, runPython } from '../helpers/python.js';
import { CLI_PATH, type SpawnedServer, spawnServer } from '../helpers/server.js';

const run = promisify(execFile);

/**
 * `strato ingest` of http(s) URLs: the NetCDF4 files are scanned by byte ranges from a real HTTP
 * server (Range and HEAD, never the whole file), the references point at the URLs, and xarray
 * over strato reads what it reads from the files.
 */
let fixtures: Fixtures;
let files: Server;
let filesUrl: string;
let server: SpawnedServer;
let catalog: string;
const requested: string[] = [];

/** A static file server answering HEAD and single byte ranges, logging what it was asked. */
function staticFiles(root: string): Server {
  return createServer(async (req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return res.writeHead(404).end();
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    requested.push(`${req.method} ${range ? 'range' : 'whole'}`);
    if (req.method === 'HEAD') return res.writeHead(200, { 'content-length': info.size, 'accept-ranges': 'bytes' }).end();
    if (!range) return res.writeHead(200, { 'content-length': info.size }).end(); // whole-file reads are not expected
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), info.size - 1);
    res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${info.size}` });
    createReadStream(path, { start, end }).pipe(res);
    return undefined;
  });
}

async function ingest(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [CLI_PATH, 'ingest', '--catalog', catalog, ...args], { timeout: 60_000 });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? 1, stderr: failed.stderr ?? '' };
  }
}

beforeAll(async () => {
  fixtures = await makeFixtures({ copy: true });
  files = staticFiles(fixtures.dir);
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  catalog = join(fixtures.dir, 'remote.yaml');
  await writeFile(catalog, `datasets: {}\nsources:\n  allow: [data/, "${filesUrl}/data/"]\n`);
});
afterAll(async () => {
  await server?.stop();
  await new Promise<void>((resolve) => files?.close(() => resolve()));
  if (fixtures) await rm(fixtures.dir, { recursive: true, force: true });
});

describe('ingest of http(s) files', () => {
  it('scans three remote files by byte ranges and serves them as the local files read', async () => {
    const urls = [0, 1, 2].map((i) => `${filesUrl}/data/series_${i}.nc`);
    const result = await ingest(['--id', 'remote-series', '--concat-dim', 'time', ...urls]);
    expect(result.code, result.stderr).toBe(0);
    expect(requested.filter((r) => r === 'GET whole')).toEqual([]);
    expect(requested.filter((r) => r === 'GET range').length).toBeGreaterThan(3);
    server = await spawnServer(catalog, ['--log-level', 'warn']);
    const check = await runPython('test/interop/check_xarray.py', [
      '--url',
      `${server.url}/datasets/remote-series/kerchunk`,
      '--files',
      ...[0, 1, 2].map((i) => join(fixtures.dir, 'data', `series_${i}.nc`)),
      '--combine-dim',
      'time',
    ]);
    const report = lastJsonLine<{ ok: boolean; problems: string[] }>(check.stdout || '{}');
    expect(report.problems, check.stderr).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('refuses URLs outside sources.allow and missing files, with clear messages', async () => {
    const outside = await ingest(['--id', 'elsewhere', `${filesUrl}/basic.json`]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/outside the catalog's sources\.allow/);
    const missing = await ingest(['--id', 'missing', `${filesUrl}/data/nope.nc`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.nc/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});
