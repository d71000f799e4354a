import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type Fixtures, generateFixtures } from './helpers/fixtures.js';

/*
 * globalSetup of the integration and slow projects (vitest.config.ts): the NetCDF4 fixtures of
 * test/helpers/fixtures.ts made once per vitest run, in one directory, and provided to the test
 * files (`makeFixtures()` returns them; `makeFixtures({ copy: true })` copies them for tests that
 * write). Both projects run this file in the main vitest process, so the first one to start makes
 * the fixtures and the other shares them (globalThis, not a module variable: each project loads
 * its own instance of this module). The last teardown checks that no test changed the shared
 * files, then removes them.
 */

interface SharedFixtures {
  readonly made: Promise<{ readonly fixtures: Fixtures; readonly digests: Map<string, string> }>;
  users: number;
}

const KEY = Symbol.for('strato.test.sharedFixtures');
const state = globalThis as { [KEY]?: SharedFixtures };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = state[KEY] ?? { made: make(), users: 0 };
  state[KEY] = shared;
  shared.users++;
  const { fixtures, digests } = await shared.made;
  project.provide('stratoFixtures', fixtures);
  return async () => {
    shared.users--;
    if (shared.users > 0) return;
    delete state[KEY];
    const changed = diff(digests, await digestsOf(fixtures.dir));
    await rm(fixtures.dir, { recursive: true, force: true });
    if (changed.length > 0) {
      throw new Error(`tests changed the shared fixtures (use makeFixtures({ copy: true }) where a test writes):\n  ${changed.join('\n  ')}`);
    }
  };
}

async function make(): Promise<{ fixtures: Fixtures; digests: Map<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'strato-fixtures-shared-'));
  try {
    const fixtures = await generateFixtures(dir);
    return { fixtures, digests: await digestsOf(dir) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Every file under `dir` (relative path) → its SHA-256; absent when `dir` is. */
async function digestsOf(dir: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch {
    return digests;
  }
  for (const entry of entries.sort()) {
    const bytes = await readFile(join(dir, entry)).catch(() => undefined); // directories
    if (bytes) digests.set(entry, createHash('sha256').update(bytes).digest('hex'));
  }
  return digests;
}

function diff(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const changed: string[] = [];
  for (const [path, digest] of before) {
    if (!after.has(path)) changed.push(`removed ${path}`);
    else if (after.get(path) !== digest) changed.push(`changed ${path}`);
  }
  for (const path of after.keys()) if (!before.has(path)) changed.push(`added ${path}`);
  return changed;
}
