import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../helpers/server.js';

/**
 * Hostile files given to `strato ingest` (the built CLI, dist/cli/cli.js; build first).
 * F11 of issue #13: a 60-byte NetCDF-3 header declaring a 2 GiB attribute grew the header read
 * to the whole (sparse, 3 GiB) file and Node aborted on a > 2 GiB read (exit 134, no message).
 */
const run = promisify(execFile);

interface CliResult {
  readonly code: number;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

async function strato(...args: string[]): Promise<CliResult> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_PATH, ...args], { timeout: 30_000 });
    return { code: 0, signal: null, stdout, stderr, ms: performance.now() - started };
  } catch (error) {
    const failed = error as { code?: number; signal?: string | null; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      signal: failed.signal ?? null,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
      ms: performance.now() - started,
    };
  }
}

/** 60 bytes of classic header: no dimensions, a global text attribute "a" declaring 2 GiB of values, no variables. */
function hostileHeader(): Uint8Array {
  const bytes = new Uint8Array(60);
  const view = new DataView(bytes.buffer);
  bytes.set([0x43, 0x44, 0x46, 0x01]);
  view.setUint32(16, 0x0c); // NC_ATTRIBUTE
  view.setUint32(20, 1);
  view.setUint32(24, 1);
  bytes[28] = 0x61; // "a"
  view.setUint32(32, 2); // NC_CHAR
  view.setUint32(36, 0x80000000); // 2 GiB
  return bytes;
}

let dir: string;
let catalog: string;
const catalogText = '# ingest-hostile\ndatasets: {}\nsources:\n  allow: [data/]\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strato-ingest-hostile-'));
  await mkdir(join(dir, 'data'));
  catalog = join(dir, 'catalog.yaml');
  await writeFile(catalog, catalogText);
  await writeFile(join(dir, 'data', 'header-60.nc'), hostileHeader());
  await writeFile(join(dir, 'data', 'sparse-3g.nc'), hostileHeader());
  await truncate(join(dir, 'data', 'sparse-3g.nc'), 3 * 2 ** 30); // sparse: no disk space used
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('F11: strato ingest of a NetCDF-3 header declaring a 2 GiB attribute', () => {
  it.each([
    ['header-60.nc', /but the file has 20 bytes left$/],
    ['sparse-3g.nc', /past the 64 MiB a header may have$/],
  ])('%s: exits 1 with one line naming the file, quickly, and writes nothing', async (name, ending) => {
    const file = join(dir, 'data', name);
    const result = await strato('ingest', '--catalog', catalog, '--id', 'hostile', file);
    expect(result.signal).toBeNull();
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^strato ingest: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*corrupt NetCDF-3 header: the 2147483648 values of global attribute "a" would take 2147483648 bytes at offset 40`,
      ),
    );
    expect(lines[0]).toMatch(ending);
    expect(result.stdout).toBe('');
    expect(result.ms).toBeLessThan(10_000);
    expect(await readFile(catalog, 'utf8')).toBe(catalogText);
  });
});
