import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from './server.js';

const run = promisify(execFile);

/** Debian's Python (with python3-xarray, -zarr, -netcdf4, -h5py), never a pyenv or venv one. */
export const PYTHON = '/usr/bin/python3';

export interface PythonResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a script of the repo (path relative to the repo root) with Debian's Python. */
export async function runPython(script: string, args: readonly string[], timeoutMs = 120_000): Promise<PythonResult> {
  try {
    const { stdout, stderr } = await run(PYTHON, [`${repoRoot}${script}`, ...args], {
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? failed.message };
  }
}

/** The last JSON line a checker script printed. */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`no JSON line in output:\n${stdout}`);
  return JSON.parse(line) as T;
}
