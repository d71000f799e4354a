import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../server/log.js';
import { type RunningServer, startServer } from '../../server/serve.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const sharedDir = fileURLToPath(new URL('../../../shared/', import.meta.url));
/** The built CLI, `strato` (`npm run build` makes it): run it with `process.execPath`. */
export const CLI_PATH = `${repoRoot}dist/cli/cli.js`;

/** strato in this process on a free loopback port (a real HTTP server). */
export async function startInProcess(catalog: string): Promise<RunningServer> {
  return startServer({ catalog, port: 0, host: '127.0.0.1', logger: createLogger('silent') });
}

export interface SpawnedServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** What the server wrote to stderr so far (JSON log lines). */
  stderr(): string;
  stop(): Promise<void>;
}

/** The built CLI (`CLI_PATH serve`) as its own process on a free port. */
export async function spawnServer(catalog: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--catalog', catalog, '--port', '0', ...extraArgs], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`strato did not start in 20 s; stderr:\n${stderr}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`strato exited with ${code} before listening; stderr:\n${stderr}`));
    });
  });
  return {
    url,
    process: child,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
