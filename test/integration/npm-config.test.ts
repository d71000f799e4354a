import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { zstdBackend } from '../../kerchunk/codecs/zstd.js';
import { repoRoot } from '../helpers/server.js';

/**
 * Issue 16, item 8: npm prints no config warning in this project, and zstd-napi is still
 * compiled from source, never downloaded. The switch is `.prebuild-installrc` at the root, which
 * prebuild-install (zstd-napi's install script) finds through rc by walking up from the package
 * directory; an `.npmrc` line `build-from-source=true` made npm warn on every command.
 */
const run = promisify(execFile);

describe('npm configuration', () => {
  it('npm commands print no warning about the project config', async () => {
    const { stdout, stderr } = await run('npm', ['pkg', 'get', 'name'], { cwd: repoRoot });
    expect(stdout.trim()).toBe('"strato"');
    expect(stderr).not.toMatch(/npm warn/i);
    expect(existsSync(join(repoRoot, '.npmrc'))).toBe(false);
  });

  it("prebuild-install, run from zstd-napi's directory, reads buildFromSource from .prebuild-installrc", async () => {
    const require = createRequire(join(repoRoot, 'package.json'));
    const packageDir = dirname(require.resolve('zstd-napi/package.json'));
    const rcModule = require.resolve('prebuild-install/rc.js');
    // The environment as an install script would have it, minus any npm_config_* that could set it another way.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)));
    const script = `const rc = require(${JSON.stringify(rcModule)})({ name: 'zstd-napi' }); console.log(JSON.stringify({ buildFromSource: rc.buildFromSource, configs: rc.configs }))`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: packageDir, env });
    const config = JSON.parse(stdout) as { buildFromSource: unknown; configs?: string[] };
    expect(config.buildFromSource).toBe(true);
    expect(config.configs).toContain(join(repoRoot, '.prebuild-installrc'));
  });

  it('the native zstd-napi build is present and is the backend loaded', async () => {
    const require = createRequire(join(repoRoot, 'package.json'));
    const packageDir = dirname(require.resolve('zstd-napi/package.json'));
    expect(existsSync(join(packageDir, 'build', 'Release', 'binding.node'))).toBe(true);
    expect((await zstdBackend()).name).toBe('zstd-napi');
    expect((await zstdBackend('wasm')).name).toBe('numcodecs-wasm');
  });
});
