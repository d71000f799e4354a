// `npm ci` / `npm install` step: compiles the native codec addon (native/*.c) with node-gyp and
// the machine's C compiler. Quiet when it works; when it cannot (no compiler, no Node headers) it
// says so in one line and strato runs its JavaScript codecs instead (kerchunk/codecs/native.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const args = ['rebuild', '--loglevel=error'];
// Node's own headers when it ships them (a distribution's node): no download of headers
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  try {
    return createRequire(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

const gyp = nodeGyp();
const result = gyp ? spawnSync(process.execPath, [gyp, ...args], { cwd: root, encoding: 'utf8' }) : undefined;
if (result?.status !== 0) {
  // the compiler's first error says most; node-gyp's own last lines say little
  const lines = result ? `${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').map((line) => line.trim()) : [];
  const compiler = lines.find((line) => /error|\*\*\*/i.test(line) && !line.startsWith('gyp'));
  const detail = result ? (compiler ?? lines.filter(Boolean).slice(-3).join(' | ')) : 'node-gyp not found';
  console.warn(`strato: native codecs not built, JavaScript codecs will be used (${detail})`);
}
