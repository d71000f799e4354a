import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// the built module (npm test builds first), run in a child: the accessor is gone for good once removed
const module = fileURLToPath(new URL('../dist/server/harden-process.js', import.meta.url));

describe('disableProtoAccessor (F1 class, defence in depth)', () => {
  it('makes __proto__ an ordinary property name in the process', () => {
    const script = `
      const { disableProtoAccessor } = await import(${JSON.stringify(module)});
      disableProtoAccessor();
      const target = {};
      const name = '__proto__';
      target[name] = { polluted: true };
      const json = JSON.parse('{"__proto__": {"polluted": true}}');
      const merged = Object.assign({}, json);
      console.log(JSON.stringify({
        own: Object.hasOwn(target, '__proto__'),
        prototypeKept: Object.getPrototypeOf(target) === Object.prototype,
        polluted: 'polluted' in {},
        mergedOwn: Object.hasOwn(merged, '__proto__'),
        literal: Object.getPrototypeOf({ __proto__: null }) === null,
      }));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toEqual({ own: true, prototypeKept: true, polluted: false, mergedOwn: true, literal: true });
  });
});
