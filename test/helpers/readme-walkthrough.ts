import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './server.js';

/**
 * The README's "From your NetCDF files to xarray" walkthrough, as the README has it: the code
 * block after each `<!-- readme-walkthrough: NAME -->` marker. Tests run these very lines, with
 * only the user's own parts substituted (where the files are, where the folder goes, the port).
 */
export async function readmeWalkthrough(): Promise<{ shell: string[]; python: string }> {
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  const block = (name: string): string => {
    const match = new RegExp(`<!-- readme-walkthrough: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
    if (!match?.[1]) throw new Error(`README.md has no "readme-walkthrough: ${name}" block`);
    return match[1];
  };
  return { shell: block('shell').trimEnd().split('\n'), python: block('python') };
}

export interface Substitutions {
  /** The glob standing for the user's files → the fixture files. */
  readonly files: string;
  /** `my-archive` → an absolute folder of the test's own. */
  readonly archive: string;
}

/** One README shell line with the user's parts replaced; `--port 8000` becomes `--port 0`. */
export function substitute(line: string, s: Substitutions): string {
  return line.replaceAll('/path/to/your/files/*.nc', s.files).replaceAll('my-archive', s.archive).replace('--port 8000', '--port 0');
}

/** Runs a line with bash in the checkout (where `npx strato` finds this project's bin). */
export function runLine(line: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', line], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the README's serve line (its own process group) and resolves with its URL and a stop function. */
export function startServeLine(line: string): Promise<{ url: string; stop: () => Promise<void>; stderr: () => string }> {
  const child = spawn('bash', ['-c', `exec ${line}`], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
      child.once('exit', () => resolve());
      process.kill(-child.pid, 'SIGTERM');
    });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the README's serve line did not start in 60 s; stderr:\n${stderr}`));
    }, 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], stop, stderr: () => stderr });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the README's serve line exited with ${code}; stderr:\n${stderr}`));
    });
  });
}
